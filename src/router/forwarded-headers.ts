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

/** The request headers for the instance, the request id they carry, and what the proxy needs to know of the body. */
export interface ForwardedRequest {
  readonly headers: string[]
  readonly requestId: string
  /** The client's Content-Length, as sent; undefined when absent. */
  readonly contentLength: string | undefined
  /** The client sent Transfer-Encoding (a body of unknown length). */
  readonly chunked: boolean
  /** How many Host headers the client sent: one is the rule (RFC 9112 §3.2), more cannot be forwarded. */
  readonly hostCount: number
}

/**
 * Builds the headers to send to an instance from the client's raw headers, in one
 * pass (so node's lazily built `req.headers` object is never needed).
 * X-Forwarded-For gets the client address appended (after any the client sent);
 * X-Forwarded-Proto is always `http` (the router is the edge and speaks only
 * HTTP/1.1 without TLS, so a client-sent value would be a lie); Transfer-Encoding
 * is dropped because the body is re-framed; names listed in Connection are dropped.
 */
export function forwardRequestHeaders(rawHeaders: readonly string[], clientAddress: string): ForwardedRequest {
  let out: string[] = []
  let forwardedFor: string | undefined
  let requestId: string | undefined
  let connection: string | undefined
  let contentLength: string | undefined
  let chunked = false
  let hostCount = 0
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] ?? ''
    const value = rawHeaders[i + 1] ?? ''
    const lower = name.toLowerCase()
    if (lower === 'host') hostCount++
    if (HOP_BY_HOP.has(lower)) {
      if (lower === 'connection') connection = connection === undefined ? value : `${connection}, ${value}`
      else if (lower === 'transfer-encoding') chunked = true
      continue
    }
    if (lower === 'x-forwarded-proto') continue
    if (lower === 'x-forwarded-for') {
      forwardedFor = forwardedFor === undefined ? value : `${forwardedFor}, ${value}`
      continue
    }
    if (lower === 'content-length') contentLength = value
    else if (lower === 'x-request-id') {
      if (requestId !== undefined) continue
      requestId = value
    }
    out.push(name, value)
  }
  const listed = connectionListed(connection)
  if (listed !== undefined) out = withoutNames(out, listed)
  return { ...withForwarding(out, forwardedFor, clientAddress, requestId), contentLength, chunked, hostCount }
}

/** Appends X-Forwarded-For/Proto and, when the client sent none, a new X-Request-Id. */
function withForwarding(out: string[], forwardedFor: string | undefined, clientAddress: string, clientRequestId: string | undefined): { headers: string[]; requestId: string } {
  out.push('x-forwarded-for', forwardedFor === undefined ? clientAddress : `${forwardedFor}, ${clientAddress}`, 'x-forwarded-proto', 'http')
  if (clientRequestId !== undefined) return { headers: out, requestId: clientRequestId }
  const requestId = randomUUID()
  out.push('x-request-id', requestId)
  return { headers: out, requestId }
}

/** The flat header list without the given (lower-case) names. */
function withoutNames(flat: readonly string[], names: ReadonlySet<string>): string[] {
  const kept: string[] = []
  for (let i = 0; i + 1 < flat.length; i += 2) {
    if (!names.has((flat[i] ?? '').toLowerCase())) kept.push(flat[i] ?? '', flat[i + 1] ?? '')
  }
  return kept
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
  return listed === undefined ? out : withoutNames(out, listed)
}
