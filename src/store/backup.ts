/**
 * Consistent copies of a store with SQLite's online backup API (better-sqlite3's
 * `db.backup()`), safe while tide keeps writing: the copy is taken in one backup step,
 * which reads one snapshot of the database, so it never mixes two states. The copy
 * is written to a temporary file beside the destination and renamed into place, so a
 * failed backup never leaves half a file under the destination's name. The copy is
 * made self-contained (rollback journal instead of WAL) and carries no lock row, so a
 * backup never looks held by the tide it was taken from.
 */
import { closeSync, fsyncSync, openSync, renameSync, rmSync } from 'node:fs'
import { dirname } from 'node:path'
import Database from 'better-sqlite3'
import { StoreError } from './errors.ts'
import { assertTideStore, readSchemaInfo } from './migrations.ts'
import { clearLock } from './store-lock.ts'

/** What a backup wrote. */
export interface BackupResult {
  /** The destination path. */
  readonly path: string
  /** Database pages copied (page size is SQLite's, 4096 bytes by default). */
  readonly pages: number
  /** The schema version of the copy. */
  readonly schemaVersion: number
}

let tmpCounter = 0

/** A temporary path beside `path`, unique within this process. */
export function tempPathBeside(path: string, purpose: string): string {
  return `${path}.tide-${purpose}-${process.pid}-${++tmpCounter}.tmp`
}

/** fsyncs a file or directory so that a rename survives a power cut. */
export function fsyncPath(path: string): void {
  const fd = openSync(path, 'r')
  try {
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
}

/** Removes a file and its -wal/-shm/-journal companions; absent files are fine. */
export function removeWithCompanions(path: string): void {
  for (const suffix of ['', '-wal', '-shm', '-journal']) rmSync(`${path}${suffix}`, { force: true })
}

/**
 * Copies `db` to `tmpPath` in a single backup step (one consistent snapshot, even
 * while other connections write), then makes the copy self-contained and unlocked.
 * Returns the number of pages copied.
 */
export async function snapshotTo(db: Database.Database, tmpPath: string): Promise<number> {
  // Returning the largest step from the progress callback makes the next step copy
  // every remaining page at once: a step restarted by a concurrent writer copies
  // everything again under one read transaction, so the result is one snapshot.
  const result = await db.backup(tmpPath, { progress: () => 0x7fffffff })
  const copy = new Database(tmpPath)
  try {
    clearLock(copy)
    copy.pragma('journal_mode = DELETE')
  } finally {
    copy.close()
  }
  return result.totalPages
}

/**
 * Writes a consistent copy of the open store `db` (at `sourcePath`) to `destPath`,
 * replacing any file there atomically. Throws StoreError (TIDE_ERR_STORE_IO) naming
 * the destination when it cannot be written.
 */
export async function backupDatabase(db: Database.Database, sourcePath: string, destPath: string): Promise<BackupResult> {
  const info = readSchemaInfo(db)
  assertTideStore(info, sourcePath, false)
  const tmp = tempPathBeside(destPath, 'backup')
  try {
    const pages = await snapshotTo(db, tmp)
    fsyncPath(tmp)
    renameSync(tmp, destPath)
    fsyncPath(dirname(destPath))
    return { path: destPath, pages, schemaVersion: info.version }
  } catch (err) {
    removeWithCompanions(tmp)
    if (err instanceof StoreError) throw err
    throw new StoreError('TIDE_ERR_STORE_IO', destPath, `cannot write backup ${destPath}: ${(err as Error).message}`, { cause: err })
  }
}

/**
 * Opens the store file at `storePath` (which must exist and be a tide store) just
 * long enough to back it up to `destPath`. For `tide backup` while another process
 * (the running tide) has the store open.
 */
export async function backupStoreFile(storePath: string, destPath: string): Promise<BackupResult> {
  let db: Database.Database
  try {
    db = new Database(storePath, { fileMustExist: true })
  } catch (err) {
    throw new StoreError('TIDE_ERR_STORE_IO', storePath, `cannot open store ${storePath}: ${(err as Error).message}`, { cause: err })
  }
  try {
    db.pragma('busy_timeout = 5000')
    return await backupDatabase(db, storePath, destPath)
  } catch (err) {
    if (err instanceof StoreError) throw err
    throw new StoreError('TIDE_ERR_STORE_NOT_A_STORE', storePath, `cannot read store ${storePath}: ${(err as Error).message}`, { cause: err })
  } finally {
    db.close()
  }
}
