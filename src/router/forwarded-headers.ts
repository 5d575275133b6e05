/**
 * Header rewriting of the proxy: hop-by-hop headers are dropped (RFC 9110 §7.6.1),
 * X-Forwarded-For / X-Forwarded-Proto are set, and every request carries an
 * X-Request-Id (the client's, or a new UUID). Headers travel as flat
 * [name, value, name, value, …] arrays, the form node:http and undici both take,
 * which keeps duplicate headers (Set-Cookie) and the sender's spelling.
 */
import { randomUUID } from 'node:crypto'

/**
 * Dropped in both directions. `expect` is not hop-by-hop, but node:http answers
 * `100-continue` to the client itself and undici refuses to send it.
 */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'proxy-authorization', 'proxy-authenticate', 'expect'])

/** Extra header names a Connection header lists (besides keep-alive/close), lower-cased; undefined for none. */
function connectionListed(connection: string | undefined): Set<string> | undefined {
  if (connection === undefined) return undefined
  let listed: Set<string> | undefined
  for (const token of connection.split(',')) {
    const t = token.trim().toLowerCase()
    if (t === '' || t === 'close' || t === 'keep-alive') continue
    ;(listed ??= new Set()).add(t)
  }
  return listed
}

/** The request headers for the instance, and the request id they carry. */
export interface ForwardedRequest {
  readonly headers: string[]
  readonly requestId: string
}

/**
 * Builds the headers to send to an instance from the client's raw headers.
 * X-Forwarded-For gets the client address appended (after any the client sent);
 * X-Forwarded-Proto is always `http` (the router is the edge and speaks only
 * HTTP/1.1 without TLS, so a client-sent value would be a lie); Transfer-Encoding
 * is dropped because the body is re-framed. `connection` is the client's
 * Connection header, whose listed names are also dropped.
 */
export function forwardRequestHeaders(rawHeaders: readonly string[], clientAddress: string, connection: string | undefined): ForwardedRequest {
  const listed = connectionListed(connection)
  const out: string[] = []
  let forwardedFor: string | undefined
  let requestId: string | undefined
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] ?? ''
    const value = rawHeaders[i + 1] ?? ''
    const lower = name.toLowerCase()
    if (HOP_BY_HOP.has(lower) || listed?.has(lower) === true || lower === 'x-forwarded-proto') continue
    if (lower === 'x-forwarded-for') {
      forwardedFor = forwardedFor === undefined ? value : `${forwardedFor}, ${value}`
      continue
    }
    if (lower === 'x-request-id') {
      if (requestId !== undefined) continue
      requestId = value
    }
    out.push(name, value)
  }
  out.push('x-forwarded-for', forwardedFor === undefined ? clientAddress : `${forwardedFor}, ${clientAddress}`, 'x-forwarded-proto', 'http')
  if (requestId === undefined) {
    requestId = randomUUID()
    out.push('x-request-id', requestId)
  }
  return { headers: out, requestId }
}

/**
 * Builds the response headers for the client from an instance's raw headers
 * (undici hands them over as Buffers): hop-by-hop ones dropped, the request id
 * added when the instance did not echo it.
 */
export function forwardResponseHeaders(rawHeaders: readonly Buffer[], requestId: string): string[] {
  const out: string[] = []
  let connection: string | undefined
  let hasRequestId = false
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]?.toString('latin1') ?? ''
    const value = rawHeaders[i + 1]?.toString('latin1') ?? ''
    const lower = name.toLowerCase()
    if (lower === 'connection') connection = value
    if (HOP_BY_HOP.has(lower)) continue
    if (lower === 'x-request-id') hasRequestId = true
    out.push(name, value)
  }
  if (!hasRequestId) out.push('x-request-id', requestId)
  const listed = connectionListed(connection)
  if (listed === undefined) return out
  const kept: string[] = []
  for (let i = 0; i + 1 < out.length; i += 2) {
    if (!listed.has((out[i] ?? '').toLowerCase())) kept.push(out[i] ?? '', out[i + 1] ?? '')
  }
  return kept
}
