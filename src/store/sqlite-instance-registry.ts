/**
 * The local provider's InstanceRegistry kept in the SQLite store (table
 * local_instances), so that the instances of one machine survive a tide restart in
 * the same file as everything else, and are covered by `tide backup`. Each call is one
 * statement, hence atomic; records keep their first-insert (launch) order.
 */
import type { InstanceRegistry, LocalInstanceEntry } from '../providers/local/instance-registry.ts'
import { RegistryError } from '../providers/errors.ts'
import type Database from 'better-sqlite3'

/** What the registry needs of a SqliteStore (structurally, so that sqlite-store.ts can make one without an import cycle). */
export interface SqliteRegistryHost {
  readonly path: string
  readonly database: Database.Database
}

/** An InstanceRegistry over an open SqliteStore. Throws RegistryError (retryable) on I/O failure. */
export class SqliteInstanceRegistry implements InstanceRegistry {
  readonly #store: SqliteRegistryHost

  constructor(store: SqliteRegistryHost) {
    this.#store = store
  }

  list(group: string): LocalInstanceEntry[] {
    const rows = this.#run('read', () => this.#store.database.prepare<[string]>('SELECT entry_json FROM local_instances WHERE group_name = ? ORDER BY rowid').pluck().all(group) as string[])
    return rows.map((json, i) => {
      try {
        return JSON.parse(json) as LocalInstanceEntry
      } catch (err) {
        throw new RegistryError('local', `instance registry in store ${this.#store.path}: record ${i} of group '${group}' is not valid JSON`, { cause: err })
      }
    })
  }

  put(entry: LocalInstanceEntry): void {
    this.#run('write', () =>
      this.#store.database
        .prepare<[string, string, string]>(
          'INSERT INTO local_instances (group_name, id, entry_json) VALUES (?, ?, ?) ON CONFLICT (group_name, id) DO UPDATE SET entry_json = excluded.entry_json',
        )
        .run(entry.group, entry.id, JSON.stringify(entry)),
    )
  }

  remove(group: string, id: string): void {
    this.#run('write', () => this.#store.database.prepare<[string, string]>('DELETE FROM local_instances WHERE group_name = ? AND id = ?').run(group, id))
  }

  #run<T>(action: 'read' | 'write', fn: () => T): T {
    try {
      return fn()
    } catch (err) {
      throw new RegistryError('local', `cannot ${action} instance registry in store ${this.#store.path}: ${(err as Error).message}`, { cause: err })
    }
  }
}
