/**
 * tide's error registry and error base class, in the manner of fastify's `createError`
 * table (lib/errors.js): ONE table holds every stable `TIDE_ERR_*` code with its class,
 * its HTTP status and whether retrying can help. A code never changes meaning once
 * released, so scripts and the API can match on it; the message is for people and may be
 * reworded. Every TideError subclass takes its code from this table (the type allows no
 * other), one handler maps any error to an HTTP answer with `httpStatusOf`, and
 * test/errors.test.ts checks docs/errors.md against the table in both directions.
 *
 * This file stands at the bottom of the layers (.dependency-cruiser.cjs): it imports
 * nothing, so every folder may import it.
 */

/**
 * What kind of failure a code is, for people and for an API's error handler:
 * `usage` a wrong command line, `config` a tide.yaml or group setting that must be
 * fixed, `input` a malformed file the user gave (trace, access log, manifest), `io` a
 * file that cannot be read or written, `provider` the platform that runs instances,
 * `store` the SQLite store, `router` traffic through tide's router, `api` a request to
 * tide's REST API, `internal` a bug or a misused API (report it).
 */
export type ErrorClass = 'usage' | 'config' | 'input' | 'io' | 'provider' | 'store' | 'router' | 'api' | 'internal'

/**
 * Whether the same call may succeed later without a change by an operator: `true`
 * (a timeout, a busy port, shedding), `false` (a mistake that must be fixed), or
 * `'per-error'` when the code covers both and each error carries its own `retryable`
 * (a launch whose process started without a pid may succeed later, one on ENOENT never will).
 */
export type Retryable = boolean | 'per-error'

/** One registry entry. */
export interface ErrorInfo {
  /** What kind of failure this is (see ErrorClass). */
  readonly class: ErrorClass
  /** The HTTP status an API or the router answers with for this code (400–599). */
  readonly status: number
  /** Whether retrying the same call may help (see Retryable). */
  readonly retryable: Retryable
  /** One line on what the code means; docs/errors.md says more and what to do. */
  readonly summary: string
}

/**
 * Every stable code tide raises, by code. Adding a code means a row here and a row in
 * docs/errors.md (the test fails otherwise). The router's client-facing statuses are
 * the ones it sends with `x-tide-error` (docs/router.md); codes that never reach a
 * client have the status an API would answer with.
 */
export const errorRegistry = {
  // General and CLI
  TIDE_ERR_USAGE: { class: 'usage', status: 400, retryable: false, summary: 'The command line is wrong: unknown command or flag, bad flag value. Exit status 2.' },
  TIDE_ERR_FILE: { class: 'io', status: 500, retryable: false, summary: 'A file tide was told to read or write cannot be read or written, is not a regular file, or is too large to read.' },
  // Configuration
  TIDE_ERR_CONFIG: { class: 'config', status: 400, retryable: false, summary: 'tide.yaml is not valid: syntax, schema or a cross-field rule. Carries every issue found.' },
  TIDE_ERR_HPA_IMPORT: { class: 'input', status: 400, retryable: false, summary: 'A Kubernetes HorizontalPodAutoscaler manifest cannot be converted at all.' },
  // Traces and access logs
  TIDE_ERR_TRACE: { class: 'input', status: 400, retryable: false, summary: 'A traffic trace CSV is malformed, or longer than 5 million rows.' },
  TIDE_ERR_ACCESS_LOG: { class: 'input', status: 400, retryable: false, summary: 'An access log line cannot be parsed or is over 64 KiB (and --skip-bad was not given), or the log spans too many steps.' },
  // Providers
  TIDE_ERR_PROVIDER_LAUNCH: {
    class: 'provider',
    status: 502,
    retryable: 'per-error',
    summary: 'An instance could not be started: the command does not exist or cannot be executed (not retryable), or no process or port was available (retryable).',
  },
  TIDE_ERR_PROVIDER_CONFIG: { class: 'config', status: 400, retryable: false, summary: 'The group cannot run on this provider as configured (for `local`: no `launch.command`).' },
  TIDE_ERR_PROVIDER_REGISTRY: { class: 'provider', status: 500, retryable: true, summary: "The provider's record of its instances cannot be read or written (corrupt or unwritable file)." },
  TIDE_ERR_PROVIDER_THROTTLED: {
    class: 'provider',
    status: 429,
    retryable: true,
    summary: "The platform's API refused the call for its rate limit; the same call succeeds after a wait (retryAfterMs when the platform says how long).",
  },
  TIDE_ERR_PROVIDER_CAPACITY: {
    class: 'provider',
    status: 503,
    retryable: true,
    summary: 'The platform has no room for another instance of this size now (a cloud out of an instance type, a machine out of processes or ports); room may come later.',
  },
  TIDE_ERR_PROVIDER_NOT_FOUND: { class: 'provider', status: 404, retryable: false, summary: 'The instance the call names does not exist on the platform any more: it is gone.' },
  TIDE_ERR_PROVIDER_FENCED: {
    class: 'provider',
    status: 503,
    retryable: false,
    summary: 'A provider action (launch, terminate, resize, drain) refused because this tide does not know it holds the leadership lease: not acquired, no renewal within the renew deadline, or a store write fenced off by a newer holder.',
  },
  TIDE_ERR_PROVIDER_API: {
    class: 'provider',
    status: 502,
    retryable: 'per-error',
    summary: "The platform's API failed a call for another reason than its rate limit or capacity: retryable when transient (a 5xx, a network error), not when refused (access denied, a validation error).",
  },
  // Store
  TIDE_ERR_STORE_IO: { class: 'store', status: 500, retryable: true, summary: 'The store file cannot be opened, read or written (permissions, disk full, a directory in the way).' },
  TIDE_ERR_STORE_NOT_A_STORE: { class: 'store', status: 500, retryable: false, summary: "The file is not a tide store, or it fails SQLite's integrity check; a backup to restore with a malformed row." },
  TIDE_ERR_STORE_VERSION: { class: 'store', status: 500, retryable: false, summary: 'The store was written by a newer tide (its schema version is above the one this tide knows), or a reader met an older schema it does not migrate.' },
  TIDE_ERR_STORE_LOCKED: { class: 'store', status: 409, retryable: true, summary: 'Another running tide process holds the store; restore needs --force.' },
  TIDE_ERR_STORE_QUERY: { class: 'store', status: 400, retryable: false, summary: "A query's arguments are out of range (empty time range, step too small for the range, bad limit)." },
  TIDE_ERR_STORE_FENCED: { class: 'store', status: 409, retryable: false, summary: 'A PostgreSQL store refused a fenced write: the lease named by the fence has another holder or epoch (this tide is no longer the leader); nothing was written.' },
  TIDE_ERR_STORE_UNSUPPORTED: { class: 'store', status: 400, retryable: false, summary: 'The operation is not available for this kind of store (tide backup/restore of a PostgreSQL store: use pg_dump/pg_restore).' },
  // Engine
  TIDE_ERR_HISTOGRAM_STATE: { class: 'internal', status: 500, retryable: false, summary: 'A persisted decaying histogram is malformed, from other options, or has negative weights.' },
  // Router: the statuses of client-facing codes are what the client gets, with the code in x-tide-error
  TIDE_ERR_ROUTER_HEADERS_TOO_LARGE: { class: 'router', status: 431, retryable: false, summary: "The request's header block exceeded routing.limits.maxHeaderBytes." },
  TIDE_ERR_ROUTER_BODY_TOO_LARGE: { class: 'router', status: 413, retryable: false, summary: 'The request body exceeded routing.limits.maxBodyBytes.' },
  TIDE_ERR_ROUTER_BAD_REQUEST: { class: 'router', status: 400, retryable: false, summary: 'The request could not be parsed as HTTP/1.1, or the router cannot forward it (OPTIONS *, CONNECT, two Host headers); never counted against an instance.' },
  TIDE_ERR_ROUTER_TIMEOUT: { class: 'router', status: 504, retryable: true, summary: 'No instance answered within routing.limits.requestTimeoutSeconds.' },
  TIDE_ERR_ROUTER_UPSTREAM: { class: 'router', status: 502, retryable: true, summary: 'Every attempt (1 + routing.retries) failed to reach an instance, or it died before answering.' },
  TIDE_ERR_ROUTER_NO_INSTANCE: { class: 'router', status: 503, retryable: true, summary: 'No instance is healthy and in service (or warming).' },
  TIDE_ERR_ROUTER_SHED: { class: 'router', status: 503, retryable: true, summary: "Capacity is short and this request's priority class was shed; retry after Retry-After seconds." },
  TIDE_ERR_ROUTER_STOPPING: { class: 'router', status: 503, retryable: true, summary: 'The router is stopping and takes no new requests.' },
  TIDE_ERR_ROUTER_LISTEN: {
    class: 'router',
    status: 500,
    retryable: false,
    summary: 'The router cannot listen on routing.host:routing.listen (EADDRINUSE, EACCES, EADDRNOTAVAIL). Never sent to a client.',
  },
  // REST API (src/api): every error answers { error: { code, message } } with the status below
  TIDE_ERR_API_BAD_REQUEST: { class: 'api', status: 400, retryable: false, summary: 'A request to the API is malformed: a bad query parameter, path or JSON body. The message names the field.' },
  TIDE_ERR_API_UNAUTHORIZED: { class: 'api', status: 401, retryable: false, summary: 'The request needs the API token (every change, and reads from beyond loopback) and has none or a wrong one.' },
  TIDE_ERR_API_NOT_FOUND: { class: 'api', status: 404, retryable: false, summary: 'No such route, group or instance.' },
  TIDE_ERR_API_CONFLICT: { class: 'api', status: 409, retryable: true, summary: 'The change conflicts with the state tide is in (a group still draining after its removal, a change the running tide cannot apply without a restart).' },
  TIDE_ERR_API_INSUFFICIENT_DATA: { class: 'api', status: 422, retryable: true, summary: 'A replay asked for a window with too little recorded demand (under 10 minutes); the message says how much there is.' },
  TIDE_ERR_API_RATE_LIMITED: { class: 'api', status: 429, retryable: true, summary: 'The remote address has spent its request budget (reads or changes, docs/api.md "Rate limits"); Retry-After says how many seconds to wait.' },
  TIDE_ERR_API_NOT_LEADER: { class: 'api', status: 503, retryable: true, summary: 'The tide that answered is a standby (another tide holds the leadership lease): it serves reads from the store, and refuses every change; the message names the leader.' },
  TIDE_ERR_API_INTERNAL: { class: 'internal', status: 500, retryable: false, summary: 'The API caught an error that is not a TideError: a bug in tide (the message says what failed).' },
  TIDE_ERR_API_LISTEN: { class: 'api', status: 500, retryable: false, summary: 'The API cannot listen on api.host:api.listen (EADDRINUSE, EACCES, EADDRNOTAVAIL). Never sent to a client.' },
  TIDE_ERR_ROUTER_USAGE: {
    class: 'internal',
    status: 500,
    retryable: false,
    summary: 'A Router method called in the wrong state, or a worker or haproxy that failed to start. Never sent to a client.',
  },
} as const satisfies Readonly<Record<`TIDE_ERR_${string}`, ErrorInfo>>

/** A stable error code: one of the registry's keys. */
export type TideErrorCode = keyof typeof errorRegistry

/** The status an error of unknown origin gets (a bug, or a code this copy of tide does not know). */
export const INTERNAL_ERROR_STATUS = 500

/** The registry entry of `code`, or undefined for a string that is not a registered code. */
export function errorInfo(code: string): ErrorInfo | undefined {
  return Object.hasOwn(errorRegistry, code) ? errorRegistry[code as TideErrorCode] : undefined
}

/** Options of a TideError: the standard `cause`, and `retryable` for codes whose registry entry says 'per-error'. */
export interface TideErrorOptions extends ErrorOptions {
  /**
   * Whether this very error may clear on a retry. Only for codes registered as
   * 'per-error' (it is ignored otherwise: the registry decides); such an error without
   * it is not retryable.
   */
  readonly retryable?: boolean
}

/**
 * The base of every error tide raises on purpose. The CLI prints a TideError as
 * `tide: <message>` without a stack (unless TIDE_DEBUG=1); anything else is a bug and
 * is printed with its stack. `cause` is always kept so that the root error is not lost.
 * `status` and `retryable` come from the registry (`retryable` from the error itself for
 * 'per-error' codes), so they travel with the error as own properties.
 */
export class TideError extends Error {
  /** The stable code; see docs/errors.md. */
  readonly code: TideErrorCode
  /** The HTTP status for this code (errorRegistry). */
  readonly status: number
  /** Whether trying the same call again later may succeed (errorRegistry, or this error's own for 'per-error' codes). */
  readonly retryable: boolean

  constructor(code: TideErrorCode, message: string, options?: TideErrorOptions) {
    const { retryable, ...errorOptions } = options ?? {}
    super(message, errorOptions)
    this.name = new.target.name
    this.code = code
    const info: ErrorInfo = errorRegistry[code]
    this.status = info.status
    this.retryable = info.retryable === 'per-error' ? retryable === true : info.retryable
  }
}

/**
 * Whether `err` is a TideError, optionally with the given code. Checks the shape (an
 * Error whose `code` is a `TIDE_ERR_*` string) rather than `instanceof`, so an error from
 * a second copy of this module (two installed versions of tide) is still recognised, as
 * undici's errors are; a code this copy does not know still counts.
 */
export function isTideError(err: unknown, code?: TideErrorCode): err is TideError {
  if (!(err instanceof Error)) return false
  const c = (err as { code?: unknown }).code
  return typeof c === 'string' && c.startsWith('TIDE_ERR_') && (code === undefined || c === code)
}

/**
 * Whether `err` is a TideError of one area, by its code's prefix (`TIDE_ERR_STORE_`,
 * `TIDE_ERR_ROUTER_`, …), optionally of one code. The shape check of isTideError, so
 * the `is…` helpers of every folder agree and are cross-copy safe.
 */
export function isTideErrorOf(err: unknown, prefix: `TIDE_ERR_${string}_`, code?: TideErrorCode): err is TideError {
  return isTideError(err, code) && err.code.startsWith(prefix)
}

/**
 * Whether retrying the call that threw `err` may succeed: the error's own `retryable`
 * when it carries a boolean one (every TideError does; for a 'per-error' code it is the
 * only source), else the registry's flag for its code. False for anything that is not a
 * TideError, and for an unknown code without a flag: tide does not know that it would help
 * (callers with their own policy for unknown failures, as the controller, decide that
 * themselves).
 */
export function isRetryable(err: unknown): boolean {
  if (!isTideError(err)) return false
  const own = (err as { retryable?: unknown }).retryable
  if (typeof own === 'boolean') return own
  const flag = errorInfo(err.code)?.retryable
  return flag === true
}

/**
 * The HTTP status to answer `err` with, for the one error handler of an API: the
 * registry's status for a TideError's code, 500 for anything else (a bug, or a code
 * from a newer copy of tide that this one does not know).
 */
export function httpStatusOf(err: unknown): number {
  if (!isTideError(err)) return INTERNAL_ERROR_STATUS
  return errorInfo(err.code)?.status ?? INTERNAL_ERROR_STATUS
}

/** A file cannot be read or written; the message names the file and the system's reason (ENOENT, EACCES, …). */
export class FileError extends TideError {
  /** The path as the user gave it. */
  readonly path: string

  constructor(path: string, action: 'read' | 'write', cause: unknown) {
    const reason = cause instanceof Error ? ((cause as NodeJS.ErrnoException).code ?? cause.message) : String(cause)
    super('TIDE_ERR_FILE', `cannot ${action} ${path}: ${reason}`, { cause })
    this.path = path
  }
}

/**
 * The candidate closest to `word` for a "did you mean" hint: within edit distance 2
 * (1 for words of up to 3 letters, so that short words do not match everything), case
 * ignored. Undefined when nothing is that close, and for words over 64 characters.
 */
export function didYouMean(word: string, candidates: Iterable<string>): string | undefined {
  // A word this long is no typo of a name: no hint, and no quadratic distance on hostile input.
  if (word.length > 64) return undefined
  let best: string | undefined
  let bestDistance = word.length <= 3 ? 2 : 3
  const lower = word.toLowerCase()
  for (const c of candidates) {
    // The distance is at least the difference in length: skip what cannot beat the best.
    if (Math.abs(c.length - word.length) >= bestDistance) continue
    const d = editDistance(lower, c.toLowerCase())
    if (d < bestDistance) {
      best = c
      bestDistance = d
    }
  }
  return best
}

/** Levenshtein distance: insertions, deletions and substitutions each cost 1. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1)
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution))
    }
    previous = current
  }
  return previous[b.length] ?? 0
}
