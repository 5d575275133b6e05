/**
 * Bringing a store back from a backup. The backup is validated first (an SQLite file
 * with tide's application id, a schema version this tide knows, a clean
 * `PRAGMA quick_check`, and every row of every table well-formed: backup-rows.ts), then copied to a temporary file beside the store, brought to
 * the current schema, and renamed over the store: the store is either the old one or
 * the restored one, never a mix. A store held by a running tide (a live lock row) is
 * not replaced unless `force` is given; that tide keeps writing to the file it opened,
 * which is no longer the store, so it must be restarted.
 */
import { existsSync, renameSync, rmSync } from 'node:fs'
import { dirname } from 'node:path'
import Database from 'better-sqlite3'
import { malformedRows } from './backup-rows.ts'
import { StoreError, StoreLockedError } from './errors.ts'
import { fsyncPath, removeWithCompanions, snapshotTo, tempPathBeside } from './backup.ts'
import { LATEST_SCHEMA_VERSION, assertTideStore, migrate, readSchemaInfo } from './migrations.ts'
import { liveOtherHolder, type LockHolder } from './store-lock.ts'

/** Options of restoreStore. */
export interface RestoreOptions {
  /** Replace the store even while a live tide holds it. */
  readonly force?: boolean
}

/** What a restore did. */
export interface RestoreResult {
  /** The backup's schema version. */
  readonly fromVersion: number
  /** The restored store's schema version (the backup's, migrated to the current one). */
  readonly toVersion: number
  /** The live tide that held the store and was overridden with force. */
  readonly overriddenHolder?: LockHolder
}

/** Opens a backup for reading and checks that it is a usable tide store; returns its schema version. */
function validateBackup(db: Database.Database, backupPath: string): number {
  let info
  try {
    info = readSchemaInfo(db)
  } catch (err) {
    throw new StoreError('TIDE_ERR_STORE_NOT_A_STORE', backupPath, `${backupPath} is not a tide store: ${(err as Error).message}`, { cause: err })
  }
  assertTideStore(info, backupPath, false)
  const check = db.pragma('quick_check', { simple: true }) as string
  if (check !== 'ok') throw new StoreError('TIDE_ERR_STORE_NOT_A_STORE', backupPath, `${backupPath} fails SQLite's integrity check: ${check}`)
  const bad = malformedRows(db)
  if (bad.length > 0) {
    throw new StoreError('TIDE_ERR_STORE_NOT_A_STORE', backupPath, `${backupPath} has malformed rows, so nothing was restored:\n  ${bad.join('\n  ')}`)
  }
  return info.version
}

/** The live holder of the store at `storePath`, if the file exists and one holds it. */
function holderOf(storePath: string): LockHolder | undefined {
  if (!existsSync(storePath)) return undefined
  let db: Database.Database
  try {
    db = new Database(storePath, { fileMustExist: true })
  } catch (err) {
    throw new StoreError('TIDE_ERR_STORE_IO', storePath, `cannot open store ${storePath}: ${(err as Error).message}`, { cause: err })
  }
  try {
    db.pragma('busy_timeout = 5000')
    return liveOtherHolder(db)
  } catch {
    // Not a readable SQLite file: nothing can hold it; the restore replaces it.
    return undefined
  } finally {
    db.close()
  }
}

/**
 * Replaces the store at `storePath` with the backup at `backupPath`. Throws StoreError:
 * TIDE_ERR_STORE_NOT_A_STORE / TIDE_ERR_STORE_VERSION for a bad backup (the store is
 * untouched), TIDE_ERR_STORE_LOCKED when a live tide holds the store and `force` is
 * not set, TIDE_ERR_STORE_IO when files cannot be written.
 */
export async function restoreStore(backupPath: string, storePath: string, options: RestoreOptions = {}): Promise<RestoreResult> {
  let src: Database.Database
  try {
    src = new Database(backupPath, { readonly: true, fileMustExist: true })
  } catch (err) {
    throw new StoreError('TIDE_ERR_STORE_IO', backupPath, `cannot open backup ${backupPath}: ${(err as Error).message}`, { cause: err })
  }
  const tmp = tempPathBeside(storePath, 'restore')
  let fromVersion: number
  let holder: LockHolder | undefined
  try {
    fromVersion = validateBackup(src, backupPath)
    holder = holderOf(storePath)
    if (holder !== undefined && options.force !== true) {
      throw new StoreLockedError(storePath, holder.pid, 'stop it first, or pass --force (the running tide must then be restarted)')
    }
    await snapshotTo(src, tmp)
  } catch (err) {
    removeWithCompanions(tmp)
    if (err instanceof StoreError) throw err
    throw new StoreError('TIDE_ERR_STORE_IO', storePath, `cannot restore ${backupPath} to ${storePath}: ${(err as Error).message}`, { cause: err })
  } finally {
    src.close()
  }
  try {
    const copy = new Database(tmp)
    try {
      migrate(copy, tmp)
      copy.pragma('journal_mode = DELETE')
    } finally {
      copy.close()
    }
    fsyncPath(tmp)
    // A -wal left beside the old store (a crashed tide) would be replayed onto the
    // restored file by the next opener; it belongs to the old store, so it goes.
    rmSync(`${storePath}-wal`, { force: true })
    rmSync(`${storePath}-shm`, { force: true })
    renameSync(tmp, storePath)
    fsyncPath(dirname(storePath))
  } catch (err) {
    removeWithCompanions(tmp)
    throw new StoreError('TIDE_ERR_STORE_IO', storePath, `cannot restore ${backupPath} to ${storePath}: ${(err as Error).message}`, { cause: err })
  }
  const base = { fromVersion, toVersion: LATEST_SCHEMA_VERSION }
  return holder === undefined ? base : { ...base, overriddenHolder: holder }
}
