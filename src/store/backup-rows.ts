/**
 * Row-by-row validation of a store before `tide restore` puts it in place: every row of every
 * table tide reads is checked against what tide writes there (SQLite's column types are only
 * affinities: a TEXT in an INTEGER column, or JSON of the wrong shape, passes its integrity
 * check). A backup with a malformed row is refused whole, naming the table, the row and the
 * field, before anything is replaced; without this check a hand-edited or corrupted backup
 * was restored and `tide up` then failed on it tick after tick.
 *
 * Rows are read one at a time (`iterate`), so a large backup is checked in bounded memory.
 */
import type Database from 'better-sqlite3'
import { z } from 'zod'

/** Finite: zod 4's numbers refuse Infinity and NaN by default. */
const finite = z.number()
const epochMs = z.number().int().nonnegative()
const count = z.number().int().nonnegative()
const text = z.string()
const nonEmpty = z.string().min(1)

const SizeJson = z.looseObject({ cpu: finite.positive(), memoryMiB: finite.positive() })
const HistoryJson = z.looseObject({
  recommendations: z.array(z.looseObject({ atMs: finite, replicas: count })),
  scaleUpEvents: z.array(z.looseObject({ atMs: finite, delta: finite })),
  scaleDownEvents: z.array(z.looseObject({ atMs: finite, delta: finite })),
  stepFiredAtMs: z.record(z.string().regex(/^\d+$/), finite),
})
const Ids = z.array(nonEmpty)
const InstanceJson = z.looseObject({
  id: nonEmpty,
  group: nonEmpty,
  status: nonEmpty,
  size: SizeJson,
  launchedAtMs: finite,
  readyAtMs: finite.optional(),
  address: z.looseObject({ host: nonEmpty, port: z.number().int().min(1).max(65535) }).optional(),
  meta: z.record(z.string(), z.string()).optional(),
})
const LocalEntryJson = z.looseObject({
  id: nonEmpty,
  group: nonEmpty,
  pid: z.number().int().positive(),
  startTime: nonEmpty,
  port: z.number().int().min(1).max(65535),
  size: SizeJson,
  launchedAtMs: finite,
  readyAtMs: finite.optional(),
  stoppingAtMs: finite.optional(),
  logPath: nonEmpty,
})
const StatusJson = z.looseObject({ group: nonEmpty, atMs: finite })
const DecisionJson = z.looseObject({})

const HistogramJson = z.looseObject({ version: z.literal(1), halfLifeMs: finite.positive(), referenceMs: finite, buckets: z.array(z.tuple([count, finite.nonnegative()])) })
const OperatorJson = z.looseObject({
  pausedSinceMs: finite.optional(),
  override: z.looseObject({ desired: count, sinceMs: finite, untilMs: finite }).optional(),
  standby: z.array(z.looseObject({ id: nonEmpty, sinceMs: finite, decremented: z.boolean() })).optional(),
})
/** The JSON of each kind of group_records row (state-store.ts StoredLearnedState, StoredOperation[], StoredBackupRun[]). */
const RECORD_JSON: Record<string, z.ZodType> = {
  learned: z.looseObject({
    atMs: finite,
    startupsMs: z.array(finite.nonnegative()).optional(),
    crashLoop: z.looseObject({ failures: count, untilMs: finite }).optional(),
    usage: z.looseObject({ cpuCores: HistogramJson, memoryMiB: HistogramJson, samples: count }).optional(),
    slo: z.looseObject({ days: z.array(z.looseObject({ day: z.number().int(), measured: finite.nonnegative(), violated: finite.nonnegative() })), learner: z.looseObject({ version: z.literal(1) }).optional() }).optional(),
  }),
  operations: z.array(
    z.looseObject({
      id: nonEmpty,
      kind: z.enum(['launch', 'terminate']),
      why: nonEmpty,
      decisionAtMs: finite,
      startedAtMs: finite,
      state: z.enum(['pending', 'done', 'rolled-back']),
      count: count.optional(),
      size: SizeJson.optional(),
      instanceIds: Ids,
    }),
  ),
  backups: z.array(
    z.looseObject({
      instanceId: nonEmpty,
      state: z.enum(['running', 'done']),
      startedAtMs: finite,
      statusFile: nonEmpty,
      pid: z.number().int().positive().optional(),
      startTime: nonEmpty.optional(),
      ok: z.boolean().optional(),
      detail: text.optional(),
    }),
  ),
}

/** A group_records row: a known kind, and JSON of that kind's shape. */
const GroupRecordRow = z.looseObject({ group_name: nonEmpty, kind: z.enum(['learned', 'operations', 'backups']), record_json: z.string() }).superRefine((row, ctx) => {
  const shape = RECORD_JSON[row.kind]
  if (shape === undefined) return
  let v: unknown
  try {
    v = JSON.parse(row.record_json)
  } catch {
    ctx.addIssue({ code: 'custom', path: ['record_json'], message: 'is not valid JSON' })
    return
  }
  const r = shape.safeParse(v)
  if (!r.success) {
    const first = r.error.issues[0]
    ctx.addIssue({ code: 'custom', path: ['record_json'], message: `${first?.path.join('.') ?? ''}${first?.path.length === 0 ? '' : ': '}${first?.message ?? 'malformed'}` })
  }
})

/** A column holding JSON text of the given shape. */
const json = (shape: z.ZodType) =>
  z.string().transform((s, ctx) => {
    let v: unknown
    try {
      v = JSON.parse(s)
    } catch {
      ctx.addIssue({ code: 'custom', message: 'is not valid JSON' })
      return z.NEVER
    }
    const r = shape.safeParse(v)
    if (!r.success) {
      const first = r.error.issues[0]
      ctx.addIssue({ code: 'custom', message: `${first?.path.join('.') ?? ''}${first?.path.length === 0 ? '' : ': '}${first?.message ?? 'malformed'}` })
    }
    return v
  })

/** One table: how to name a row in a message, and the shape of its columns. */
interface TableCheck {
  readonly table: string
  /** The SQL expression naming a row (its key) in messages. */
  readonly key: string
  readonly row: z.ZodType
}

const metricRow = (at: string) => z.looseObject({ group_name: nonEmpty, series: nonEmpty, [at]: z.number().int(), sum: finite, count, min: finite, max: finite })

/** Every table tide reads back, with the shape of its rows (migrations.ts is the schema). */
const TABLES: readonly TableCheck[] = [
  { table: 'meta', key: 'key', row: z.looseObject({ key: nonEmpty, value: text }) },
  {
    table: 'group_state',
    key: 'group_name',
    row: z.looseObject({ group_name: nonEmpty, desired_replicas: count, size_json: json(SizeJson), history_json: json(HistoryJson), draining_json: json(Ids), protected_json: json(Ids) }),
  },
  { table: 'group_status', key: 'group_name', row: z.looseObject({ group_name: nonEmpty, at_ms: epochMs, status_json: json(StatusJson) }) },
  { table: 'group_operator', key: 'group_name', row: z.looseObject({ group_name: nonEmpty, state_json: json(OperatorJson) }) },
  { table: 'group_records', key: "group_name || '/' || kind", row: GroupRecordRow },
  {
    table: 'events',
    key: 'id',
    row: z.looseObject({
      at_ms: epochMs,
      group_name: text,
      type: nonEmpty,
      message: text,
      instance_id: text.nullable(),
      decision_json: json(DecisionJson).nullable(),
    }),
  },
  { table: 'instances', key: "group_name || '/' || id", row: z.looseObject({ group_name: nonEmpty, id: nonEmpty, record_json: json(InstanceJson) }) },
  { table: 'local_instances', key: "group_name || '/' || id", row: z.looseObject({ group_name: nonEmpty, id: nonEmpty, entry_json: json(LocalEntryJson) }) },
  { table: 'metric_seconds', key: "group_name || '/' || series || '@' || at_s", row: metricRow('at_s') },
  { table: 'metric_minutes', key: "group_name || '/' || series || '@' || at_min", row: metricRow('at_min') },
  {
    table: 'alert_deliveries',
    key: 'id',
    row: z.looseObject({
      delivery_id: nonEmpty,
      at_ms: epochMs,
      group_name: text,
      alert: nonEmpty,
      event_type: nonEmpty,
      url: text,
      attempt: count,
      outcome: nonEmpty,
      status: z.number().int().nullable(),
      error: text.nullable(),
    }),
  },
]

/** Messages listed at most; the rest are counted. */
const MAX_LISTED = 10

/**
 * The malformed rows of a tide store of any schema version this tide knows, as messages
 * (`group_state row "web": history_json: scaleUpEvents: expected array`), at most MAX_LISTED of
 * them plus a count of the rest; an empty list when every row is sound. Tables a store of that
 * version does not have yet are skipped. Reads every row once, one at a time.
 */
export function malformedRows(db: Database.Database): string[] {
  const tables = new Set(db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table'`).pluck().all() as string[])
  const out: string[] = []
  let more = 0
  for (const check of TABLES) {
    if (!tables.has(check.table)) continue
    for (const row of db.prepare(`SELECT ${check.key} AS __key, * FROM ${check.table}`).iterate() as IterableIterator<Record<string, unknown>>) {
      const r = check.row.safeParse(row)
      if (r.success) continue
      if (out.length >= MAX_LISTED) {
        more++
        continue
      }
      const issue = r.error.issues[0]
      const field = issue?.path.join('.') ?? ''
      out.push(`${check.table} row ${JSON.stringify(String(row.__key))}: ${field === '' ? '' : `${field}: `}${issue?.message ?? 'malformed'}`)
    }
  }
  if (more > 0) out.push(`… and ${more} more`)
  return out
}
