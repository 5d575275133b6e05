/**
 * Errors of the SQLite store and of backup/restore. Their codes, statuses and retryable
 * flags are in the one registry (src/errors.ts, listed in docs/errors.md and
 * docs/store.md); messages name the file and what to do.
 */
import { TideError, isTideErrorOf, type TideErrorCode } from '../errors.ts'

/** The codes of store errors: the registry's `TIDE_ERR_STORE_*` codes. */
export type StoreErrorCode = Extract<TideErrorCode, `TIDE_ERR_STORE_${string}`>

/** The base of store errors; `path` is the store file as given (`:memory:` for an in-memory store). */
export class StoreError extends TideError {
  declare readonly code: StoreErrorCode
  /** The store file the error is about. */
  readonly path: string

  constructor(code: StoreErrorCode, path: string, message: string, options?: ErrorOptions) {
    super(code, message, options)
    this.path = path
  }
}

/** Another live tide process holds the store. */
export class StoreLockedError extends StoreError {
  /** The pid recorded in the lock row. */
  readonly pid: number

  constructor(path: string, pid: number, hint: string) {
    super('TIDE_ERR_STORE_LOCKED', path, `store ${path} is held by a running tide (pid ${pid}); ${hint}`)
    this.pid = pid
  }
}

/** Whether `err` is a store error, of any code or of `code`; by shape (a `TIDE_ERR_STORE_*` code), so cross-copy safe. */
export function isStoreError(err: unknown, code?: StoreErrorCode): err is StoreError {
  return isTideErrorOf(err, 'TIDE_ERR_STORE_', code)
}

/** Which lease a fenced write names, and the holder and epoch it believes it holds. */
export interface Fence {
  /** The lease row's name (tide_lease.name). */
  readonly lease: string
  /** Who the writer believes holds the lease (tide_lease.holder). */
  readonly holder: string
  /** The lease's epoch when the writer took it (tide_lease.epoch): the fencing token. */
  readonly epoch: number
}

/**
 * A fenced flush found the lease row with another holder or epoch (or no row): the writer is no
 * longer the leader, and nothing of its batch was written (the batch is dropped, not retried).
 * `path` is the store's location with any password redacted.
 */
export class FencedError extends StoreError {
  /** The fence the writer gave. */
  readonly fence: Fence
  /** The lease row's holder and epoch as the database had them; undefined when there is no row. */
  readonly current: { readonly holder: string | null; readonly epoch: number } | undefined

  constructor(path: string, fence: Fence, current: { readonly holder: string | null; readonly epoch: number } | undefined) {
    const now = current === undefined ? 'there is no such lease' : `it is held by ${current.holder ?? 'nobody'} at epoch ${current.epoch}`
    super('TIDE_ERR_STORE_FENCED', path, `store ${path}: write fenced off: lease '${fence.lease}' was expected held by ${fence.holder} at epoch ${fence.epoch}, but ${now}; nothing was written`)
    this.fence = fence
    this.current = current
  }
}
