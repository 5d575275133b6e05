/**
 * The persistent event log: every TideEvent the controller emits, with each
 * decision's explanation, queryable by group, type, time range and limit. Only the
 * event's own fields are stored (events carry no secrets; nothing such as env or
 * command lines is added here). A decision is stored without its `history` (state
 * for the next tick, not part of the explanation), which keeps rows small.
 */
import type Database from 'better-sqlite3'
import type { TideEvent, TideEventType } from './events.ts'
import type { Decision } from '../engine/types.ts'
import { StoreError } from './errors.ts'

/** A decision as the event log keeps it: everything but the history. */
export type DecisionSummary = Omit<Decision, 'history'>

/** An event read back from the log. `id` increases with insertion order. */
export interface StoredEvent {
  readonly id: number
  readonly atMs: number
  readonly group: string
  readonly type: TideEventType
  readonly message: string
  readonly instanceId?: string
  readonly decision?: DecisionSummary
}

/** Filters of an event query; every field is optional and they combine with AND. */
export interface EventQuery {
  readonly group?: string
  /** Any of these types. An empty list matches nothing. */
  readonly types?: readonly TideEventType[]
  /** Inclusive lower bound on atMs. */
  readonly fromMs?: number
  /** Exclusive upper bound on atMs. */
  readonly toMs?: number
  /** Only events with an id above this (for paging and tailing). */
  readonly afterId?: number
  /** Only events with an id below this (paging back from the newest: the last id of the page before). */
  readonly beforeId?: number
  /** Most rows returned: 1 to MAX_EVENT_LIMIT, default 100. */
  readonly limit?: number
  /** 'desc' (default) returns the newest first; 'asc' the oldest first. Ties on atMs go by id. */
  readonly order?: 'asc' | 'desc'
}

/** The most events one query returns. */
export const MAX_EVENT_LIMIT = 10_000

interface EventRow {
  readonly id: number
  readonly at_ms: number
  readonly group_name: string
  readonly type: TideEventType
  readonly message: string
  readonly instance_id: string | null
  readonly decision_json: string | null
}

/** The events table of one store connection. Owned by SqliteStore. */
export class EventLog {
  readonly #db: Database.Database
  readonly #path: string
  readonly #insert: Database.Statement<[number, string, string, string, string | null, string | null]>

  constructor(db: Database.Database, path: string) {
    this.#db = db
    this.#path = path
    this.#insert = db.prepare('INSERT INTO events (at_ms, group_name, type, message, instance_id, decision_json) VALUES (?, ?, ?, ?, ?, ?)')
  }

  /** Inserts one event (a single statement: atomic) and returns its id. Throws on I/O failure. */
  insert(event: TideEvent): number {
    let decisionJson: string | null = null
    if (event.decision !== undefined) {
      // The history is next tick's state, not part of the explanation.
      decisionJson = JSON.stringify({ ...event.decision, history: undefined })
    }
    const info = this.#insert.run(event.atMs, event.group, event.type, event.message, event.instanceId ?? null, decisionJson)
    return Number(info.lastInsertRowid)
  }

  /** Events matching `q`. Throws StoreError (TIDE_ERR_STORE_QUERY) for a limit outside 1..MAX_EVENT_LIMIT. */
  query(q: EventQuery = {}): StoredEvent[] {
    const limit = q.limit ?? 100
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_EVENT_LIMIT) {
      throw new StoreError('TIDE_ERR_STORE_QUERY', this.#path, `event query: limit must be a whole number from 1 to ${MAX_EVENT_LIMIT}, got ${limit}`)
    }
    if (q.types?.length === 0) return []
    const where: string[] = []
    const params: (string | number)[] = []
    if (q.group !== undefined) {
      where.push('group_name = ?')
      params.push(q.group)
    }
    if (q.types !== undefined) {
      where.push(`type IN (${q.types.map(() => '?').join(', ')})`)
      params.push(...q.types)
    }
    if (q.fromMs !== undefined) {
      where.push('at_ms >= ?')
      params.push(q.fromMs)
    }
    if (q.toMs !== undefined) {
      where.push('at_ms < ?')
      params.push(q.toMs)
    }
    if (q.afterId !== undefined) {
      where.push('id > ?')
      params.push(q.afterId)
    }
    if (q.beforeId !== undefined) {
      where.push('id < ?')
      params.push(q.beforeId)
    }
    const dir = q.order === 'asc' ? 'ASC' : 'DESC'
    const sql = `SELECT * FROM events ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY at_ms ${dir}, id ${dir} LIMIT ?`
    const rows = this.#db.prepare(sql).all(...params, limit) as EventRow[]
    return rows.map(toEvent)
  }

  /** Deletes events before `beforeMs`; returns how many. */
  pruneBefore(beforeMs: number): number {
    return this.#db.prepare<[number]>('DELETE FROM events WHERE at_ms < ?').run(beforeMs).changes
  }
}

function toEvent(r: EventRow): StoredEvent {
  const base = { id: r.id, atMs: r.at_ms, group: r.group_name, type: r.type, message: r.message }
  const withInstance = r.instance_id === null ? base : { ...base, instanceId: r.instance_id }
  return r.decision_json === null ? withInstance : { ...withInstance, decision: JSON.parse(r.decision_json) as DecisionSummary }
}
