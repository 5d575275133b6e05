/**
 * The router's errors: TideErrors with stable `TIDE_ERR_…` codes (listed in
 * docs/errors.md and docs/router.md). Those a client can see become an HTTP answer
 * with that code in a JSON body and in the `x-tide-error` header, so that a 503
 * from shedding is never mistaken for a 503 from the app.
 */
import { TideError } from '../errors.ts'

/** Stable error codes, with the HTTP status a client gets for the ones that reach a client. */
export const RouterErrorCodes = {
  /** The request's header block exceeded routing.limits.maxHeaderBytes. */
  TIDE_ERR_ROUTER_HEADERS_TOO_LARGE: 431,
  /** The request body exceeded routing.limits.maxBodyBytes. */
  TIDE_ERR_ROUTER_BODY_TOO_LARGE: 413,
  /** The request could not be parsed as HTTP/1.1. */
  TIDE_ERR_ROUTER_BAD_REQUEST: 400,
  /** No instance answered within routing.limits.requestTimeoutSeconds. */
  TIDE_ERR_ROUTER_TIMEOUT: 504,
  /** Every attempt (1 + routing.retries) failed to reach an instance, or it died before answering. */
  TIDE_ERR_ROUTER_UPSTREAM: 502,
  /** No instance is healthy and in service (or warming). */
  TIDE_ERR_ROUTER_NO_INSTANCE: 503,
  /** Capacity is short and this request's priority class was shed; retry after Retry-After seconds. */
  TIDE_ERR_ROUTER_SHED: 503,
  /** The router is stopping and takes no new requests. */
  TIDE_ERR_ROUTER_STOPPING: 503,
  /**
   * The router cannot listen on routing.host:routing.listen: the port is taken by another
   * program (EADDRINUSE), or not allowed here (EACCES, EADDRNOTAVAIL). Never sent to a client.
   */
  TIDE_ERR_ROUTER_LISTEN: 500,
  /** Programmer error: a method called in the wrong state or with an invalid argument (never sent to a client). */
  TIDE_ERR_ROUTER_USAGE: 500,
} as const

/** One of the router's stable error codes. */
export type RouterErrorCode = keyof typeof RouterErrorCodes

/** An error of the router, with its stable code and, for client-facing ones, the HTTP status. */
export class RouterError extends TideError {
  declare readonly code: RouterErrorCode
  readonly status: number
  constructor(code: RouterErrorCode, message: string, options?: ErrorOptions) {
    super(code, message, options)
    this.status = RouterErrorCodes[code]
  }
}

/** True for router errors of the given code (or any router error without one). */
export function isRouterError(err: unknown, code?: RouterErrorCode): err is RouterError {
  return err instanceof RouterError && (code === undefined || err.code === code)
}

/** What the OS said when the router could not listen, in words that name the address and what to do. */
const LISTEN_ADVICE: Readonly<Record<string, string>> = {
  EADDRINUSE: 'the port is already in use by another program (another tide?): stop it, or choose another routing.listen',
  EACCES: 'not allowed to listen there (ports below 1024 need privileges): choose another routing.listen',
  EADDRNOTAVAIL: 'routing.host is not an address of this machine: choose another routing.host',
}

/** A TIDE_ERR_ROUTER_LISTEN error for host:port from the OS error code and message. */
export function listenError(host: string, port: number, code: string, message: string, cause?: unknown): RouterError {
  return new RouterError('TIDE_ERR_ROUTER_LISTEN', `cannot listen on ${host}:${port}: ${LISTEN_ADVICE[code] ?? message}`, cause === undefined ? {} : { cause })
}
