/**
 * Errors of the SQLite store and of backup/restore. Codes are stable (listed in
 * docs/errors.md and docs/store.md); messages name the file and what to do.
 */
import { TideError } from '../errors.ts'

/** The codes of store errors. */
export const StoreErrorCodes = {
  /** The store file cannot be opened, read or written (permissions, disk full, a directory in the way). */
  io: 'TIDE_ERR_STORE_IO',
  /** The file is not a tide store (another SQLite database, or not SQLite at all), or it fails SQLite's integrity check. */
  notAStore: 'TIDE_ERR_STORE_NOT_A_STORE',
  /** The store was written by a newer tide (its schema version is above the one this tide knows). */
  version: 'TIDE_ERR_STORE_VERSION',
  /** Another running tide process holds the store (its lock row names a live pid); restore needs --force. */
  locked: 'TIDE_ERR_STORE_LOCKED',
  /** A query's arguments are out of range (empty time range, step too small for the range, bad limit). */
  query: 'TIDE_ERR_STORE_QUERY',
} as const

/** One of StoreErrorCodes. */
export type StoreErrorCode = (typeof StoreErrorCodes)[keyof typeof StoreErrorCodes]

/** The base of store errors; `path` is the store file as given (`:memory:` for an in-memory store). */
export class StoreError extends TideError {
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
    super(StoreErrorCodes.locked, path, `store ${path} is held by a running tide (pid ${pid}); ${hint}`)
    this.pid = pid
  }
}

/** Whether `err` is a store error, of any code or of `code`. */
export function isStoreError(err: unknown, code?: StoreErrorCode): err is StoreError {
  return err instanceof StoreError && (code === undefined || err.code === code)
}
