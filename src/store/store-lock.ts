/**
 * The store's lock row: a running tide that owns a store (the controller of `tide up`)
 * writes its pid, the process start time and the host name into `meta`, so that
 * `tide restore` and a second `tide up` can tell that the store is in use. A lock
 * whose process is gone (a crash, kill -9) is stale and is taken over silently.
 * The start time guards against pid reuse: a live process with the same pid but a
 * different start time is someone else. On systems without /proc the start time is
 * absent and only the pid is compared.
 */
import { readFileSync } from 'node:fs'
import { hostname } from 'node:os'
import type Database from 'better-sqlite3'
import { StoreLockedError } from './errors.ts'

/** Who holds a store. */
export interface LockHolder {
  readonly pid: number
  /** /proc/<pid>/stat field 22 (clock ticks after boot), when readable. */
  readonly startTime?: string
  readonly hostname: string
}

const LOCK_KEY = 'lock'

/** The start time of a process from /proc, or undefined when there is no such process or no /proc. */
export function processStartTime(pid: number): string | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // Field 2 (comm) may hold spaces and parentheses; the fields after the last ')' start at field 3.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ')
    return fields[19]
  } catch {
    return undefined
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    // EPERM: the process exists but belongs to another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** This process as a lock holder. */
export function currentHolder(): LockHolder {
  const startTime = processStartTime(process.pid)
  return startTime === undefined ? { pid: process.pid, hostname: hostname() } : { pid: process.pid, startTime, hostname: hostname() }
}

/**
 * Whether the holder is a live process. A lock from another host cannot be checked
 * and counts as live (a store on a shared disk must not be taken from under a tide).
 */
export function isHolderAlive(holder: LockHolder): boolean {
  if (holder.hostname !== hostname()) return true
  if (!pidAlive(holder.pid)) return false
  if (holder.startTime === undefined) return true
  const now = processStartTime(holder.pid)
  return now === undefined || now === holder.startTime
}

/** The lock row, or undefined when the store is not locked. Reads only. */
export function readLock(db: Database.Database): LockHolder | undefined {
  const hasMeta = db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'`).get() !== undefined
  if (!hasMeta) return undefined
  const value = db.prepare<[string]>('SELECT value FROM meta WHERE key = ?').pluck().get(LOCK_KEY) as string | undefined
  if (value === undefined) return undefined
  try {
    const parsed = JSON.parse(value) as Partial<LockHolder>
    if (typeof parsed.pid !== 'number' || typeof parsed.hostname !== 'string') return undefined
    return typeof parsed.startTime === 'string' ? { pid: parsed.pid, startTime: parsed.startTime, hostname: parsed.hostname } : { pid: parsed.pid, hostname: parsed.hostname }
  } catch {
    return undefined
  }
}

function isSelf(holder: LockHolder): boolean {
  const me = currentHolder()
  return holder.pid === me.pid && holder.hostname === me.hostname && holder.startTime === me.startTime
}

/** The live holder other than this process, if any. */
export function liveOtherHolder(db: Database.Database): LockHolder | undefined {
  const holder = readLock(db)
  return holder !== undefined && !isSelf(holder) && isHolderAlive(holder) ? holder : undefined
}

/**
 * Takes the lock for this process in one IMMEDIATE transaction (so two tides
 * starting at once cannot both win). Throws StoreLockedError when another live
 * process holds it.
 */
export function acquireLock(db: Database.Database, path: string): void {
  db.transaction(() => {
    const other = liveOtherHolder(db)
    if (other !== undefined) throw new StoreLockedError(path, other.pid, 'stop it first; one tide runs per store')
    db.prepare(`INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`).run(LOCK_KEY, JSON.stringify(currentHolder()))
  }).immediate()
}

/** Removes the lock row when this process holds it. */
export function releaseLock(db: Database.Database): void {
  db.transaction(() => {
    const holder = readLock(db)
    if (holder !== undefined && isSelf(holder)) db.prepare('DELETE FROM meta WHERE key = ?').run(LOCK_KEY)
  }).immediate()
}

/** Removes any lock row (a backup or a restored copy must not look held). */
export function clearLock(db: Database.Database): void {
  db.prepare('DELETE FROM meta WHERE key = ?').run(LOCK_KEY)
}
