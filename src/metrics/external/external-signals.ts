/**
 * Polls the external sources of each group and merges their values into the group's signals
 * (Signals.group.external), counting failures per group and query for the fallback (KEDA's
 * pkg/fallback): a failing source gives no value (the metric holds: no scale-in), and once a
 * metric's fallback.failureThreshold failures in a row are reached, its fallback count reaches
 * the engine in Signals.group.externalFailures, which target tracking proposes and explains.
 *
 * The controller calls refresh() before it reads a group's signals, at most once per the
 * group's sync period; every source of the group is read in parallel, each bounded by its own
 * timeout, so a slow source delays the tick by at most its timeoutSeconds and never fails it.
 */
import type { Signals } from '../../engine/types.ts'
import type { ExternalFailure } from '../../engine/types.ts'
import type { GroupSpec } from '../../spec/schema.ts'
import type { ExternalFallback, ExternalSource } from '../../spec/sources/index.ts'
import { readExternal, type ExternalReader } from './index.ts'

/** One external query of a group: where it is read, and its fallback (target tracking only). */
export interface ExternalQuery {
  readonly query: string
  readonly source: ExternalSource
  readonly fallback?: ExternalFallback
}

/**
 * The group's external queries, each once (validation gives one query one source), from its
 * target-tracking metrics first, then its step rules.
 */
export function externalQueries(spec: GroupSpec): ExternalQuery[] {
  const out = new Map<string, ExternalQuery>()
  for (const m of spec.metrics) {
    if (m.type === 'external' && !out.has(m.query)) out.set(m.query, { query: m.query, source: m.source, ...(m.fallback === undefined ? {} : { fallback: m.fallback }) })
  }
  for (const s of spec.steps) if (s.metric.type === 'external' && !out.has(s.metric.query)) out.set(s.metric.query, { query: s.metric.query, source: s.metric.source })
  return [...out.values()]
}

/** What one group's last polls left. */
interface GroupPolls {
  polledAtMs: number | undefined
  readonly values: Map<string, number>
  readonly failures: Map<string, ExternalFailure>
}

/** Options of ExternalSignals; the reader is injectable for tests of the counting alone. */
export interface ExternalSignalsOptions {
  /** Reads one query; the sources' readers (src/metrics/external/index.ts) by default. */
  readonly read?: ExternalReader
}

/** A poll sooner than this share of the sync period after the last is skipped (ticks are not exact). */
const EARLY_SHARE = 0.9

/** The external values and failures of every group, refreshed on each group's sync period. */
export class ExternalSignals {
  readonly #read: ExternalReader
  readonly #groups = new Map<string, GroupPolls>()

  constructor(opts: ExternalSignalsOptions = {}) {
    this.#read = opts.read ?? readExternal
  }

  /**
   * Polls the group's sources if a sync period has passed since its last poll (always the first
   * time). Never rejects: a source's failure is counted, not thrown. Resolves once every source
   * answered or timed out.
   */
  async refresh(spec: GroupSpec, nowMs: number): Promise<void> {
    const queries = externalQueries(spec)
    if (queries.length === 0) {
      this.#groups.delete(spec.group)
      return
    }
    const polls = this.#polls(spec.group)
    if (polls.polledAtMs !== undefined && nowMs - polls.polledAtMs < spec.syncPeriodSeconds * 1000 * EARLY_SHARE) return
    polls.polledAtMs = nowMs
    const wanted = new Set(queries.map((q) => q.query))
    for (const map of [polls.values, polls.failures]) for (const q of map.keys()) if (!wanted.has(q)) map.delete(q)
    await Promise.all(queries.map((q) => this.#poll(polls, q)))
  }

  /**
   * `signals` with the group's external values and failures added; signals of their own when
   * the inner source had none but an external value exists. Unchanged without external queries.
   */
  merge(spec: GroupSpec, signals: Signals | undefined, nowMs: number): Signals | undefined {
    const polls = this.#groups.get(spec.group)
    if (polls === undefined || (polls.values.size === 0 && polls.failures.size === 0)) return signals
    const base: Signals = signals ?? { atMs: nowMs, instances: new Map(), group: {} }
    return {
      ...base,
      group: {
        ...base.group,
        ...(polls.values.size === 0 ? {} : { external: { ...base.group.external, ...Object.fromEntries(polls.values) } }),
        ...(polls.failures.size === 0 ? {} : { externalFailures: Object.fromEntries(polls.failures) }),
      },
    }
  }

  /** The group's current failures by query (for status and tests); empty when all answer. */
  failures(group: string): ReadonlyMap<string, ExternalFailure> {
    return this.#groups.get(group)?.failures ?? new Map()
  }

  #polls(group: string): GroupPolls {
    let polls = this.#groups.get(group)
    if (polls === undefined) {
      polls = { polledAtMs: undefined, values: new Map(), failures: new Map() }
      this.#groups.set(group, polls)
    }
    return polls
  }

  async #poll(polls: GroupPolls, q: ExternalQuery): Promise<void> {
    try {
      const value = await this.#read(q.source, q.query)
      if (!Number.isFinite(value)) throw new Error(`value ${value} is not finite`)
      polls.values.set(q.query, value)
      polls.failures.delete(q.query)
    } catch (err) {
      polls.values.delete(q.query)
      const failures = (polls.failures.get(q.query)?.failures ?? 0) + 1
      const error = err instanceof Error ? err.message : String(err)
      const fallback = q.fallback !== undefined && failures >= q.fallback.failureThreshold ? { fallbackReplicas: q.fallback.replicas } : {}
      polls.failures.set(q.query, { failures, error, ...fallback })
    }
  }
}
