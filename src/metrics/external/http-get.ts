/**
 * The one HTTP GET the external sources make: a deadline for the whole exchange (connect,
 * headers and body) and a cap on the body, so a slow or misdirected source costs at most its
 * timeout and SOURCE_MAX_BYTES. Failures are SourceError with a short reason for explanations.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http'
import { request as httpsRequest } from 'node:https'

/** A source that gave no value, with a reason short enough for a decision's explanation. */
export class SourceError extends Error {
  override readonly name = 'SourceError'
}

/** What a GET returned: the status and the whole body (never more than maxBytes). */
export interface HttpAnswer {
  readonly status: number
  readonly body: string
}

/** Options of one GET. */
export interface GetOptions {
  /** The whole exchange's deadline, ms. */
  readonly timeoutMs: number
  /** The most body bytes read; a longer body is a SourceError. */
  readonly maxBytes: number
  /** Sent with the request (e.g. Accept). */
  readonly headers?: Readonly<Record<string, string>>
}

/**
 * GETs `url` (http or https). Resolves with any status (the caller judges it); rejects with
 * SourceError on a timeout, a connection error or a body over maxBytes.
 */
export function getBounded(url: URL, opts: GetOptions): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const request = url.protocol === 'https:' ? httpsRequest : httpRequest
    let settled = false
    const fail = (message: string): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      req.destroy()
      reject(new SourceError(message))
    }
    const timer = setTimeout(() => { fail(`timeout after ${show(opts.timeoutMs / 1000)} s`); }, opts.timeoutMs)
    const req = request(url, { method: 'GET', headers: { ...opts.headers } }, (res: IncomingMessage) => {
      const chunks: Buffer[] = []
      let size = 0
      res.on('data', (chunk: Buffer) => {
        size += chunk.length
        if (size > opts.maxBytes) fail(`answer larger than ${opts.maxBytes} bytes`)
        else chunks.push(chunk)
      })
      res.on('error', (err) => { fail(err.message); })
      res.on('end', () => {
        if (settled) return
        settled = true
        clearTimeout(timer)
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') })
      })
    })
    req.on('error', (err: NodeJS.ErrnoException) => { fail(err.code ?? err.message); })
    req.end()
  })
}

/** Seconds for messages: whole numbers as they are, fractions to one decimal. */
function show(seconds: number): string {
  return Number.isInteger(seconds) ? String(seconds) : seconds.toFixed(1)
}

/** The body's first characters for an error message (one line, at most 80 characters). */
export function snippet(body: string): string {
  const line = body.replace(/\s+/g, ' ').trim()
  return line.length > 80 ? `${line.slice(0, 77)}...` : line
}
