/**
 * The router's errors: TideErrors with stable `TIDE_ERR_ROUTER_*` codes, whose HTTP
 * statuses are in the one registry (src/errors.ts; listed in docs/errors.md and
 * docs/router.md). Those a client can see become an HTTP answer with that status and
 * the code in a JSON body and in the `x-tide-error` header, so that a 503 from shedding
 * is never mistaken for a 503 from the app.
 */
import { TideError, isTideErrorOf, type TideErrorCode } from '../errors.ts'

/** One of the router's stable error codes: the registry's `TIDE_ERR_ROUTER_*` codes. */
export type RouterErrorCode = Extract<TideErrorCode, `TIDE_ERR_ROUTER_${string}`>

/** An error of the router, with its stable code and (inherited, from the registry) the HTTP status a client gets. */
export class RouterError extends TideError {
  declare readonly code: RouterErrorCode
  // Not useless: it narrows the accepted codes to the router's own.
  // eslint-disable-next-line @typescript-eslint/no-useless-constructor
  constructor(code: RouterErrorCode, message: string, options?: ErrorOptions) {
    super(code, message, options)
  }
}

/** True for router errors of the given code (or any router error without one); by shape, so cross-copy safe. */
export function isRouterError(err: unknown, code?: RouterErrorCode): err is RouterError {
  return isTideErrorOf(err, 'TIDE_ERR_ROUTER_', code)
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
