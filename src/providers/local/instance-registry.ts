/**
 * What the local provider remembers of each instance it launched, so that a new tide
 * process (after a restart or a crash) adopts its instances instead of orphaning or
 * duplicating them. The provider is given a registry: a JSON file for now
 * (file-registry.ts); the store may back it with SQLite later. Synchronous on purpose,
 * as the SQLite binding is.
 */
import type { Size } from '../../spec/schema.ts'

/** One launched instance as recorded. Plain JSON data. */
export interface LocalInstanceEntry {
  readonly id: string
  readonly group: string
  readonly pid: number
  /**
   * The process start time from /proc/<pid>/stat (field 22, clock ticks after boot).
   * A live process with this pid but another start time is NOT ours: the pid was reused.
   */
  readonly startTime: string
  readonly port: number
  readonly size: Size
  readonly launchedAtMs: number
  /** Set once the instance's health path first answered 2xx. */
  readonly readyAtMs?: number
  /** Set when terminate() sent SIGTERM; a live instance with this set is 'stopping'. */
  readonly stoppingAtMs?: number
  /** Where the instance's stdout and stderr go. */
  readonly logPath: string
}

/**
 * Keeps LocalInstanceEntry records. Every call is atomic on its own: after a crash at
 * any point the registry holds either the old or the new record, never half of one.
 * Implementations throw RegistryError (src/providers/errors.ts) on I/O failure.
 */
export interface InstanceRegistry {
  /** All records of one group, in launch order. */
  list(group: string): LocalInstanceEntry[]
  /** Inserts or replaces the record with the same group and id. */
  put(entry: LocalInstanceEntry): void
  /** Removes a record; removing one that is absent does nothing. */
  remove(group: string, id: string): void
}

/** A registry in memory: for tests and for a provider whose instances need not survive tide. */
export class MemoryInstanceRegistry implements InstanceRegistry {
  readonly #entries = new Map<string, LocalInstanceEntry>()
  list(group: string): LocalInstanceEntry[] {
    return [...this.#entries.values()].filter((e) => e.group === group)
  }
  put(entry: LocalInstanceEntry): void {
    this.#entries.set(`${entry.group}/${entry.id}`, entry)
  }
  remove(group: string, id: string): void {
    this.#entries.delete(`${group}/${id}`)
  }
}
