/**
 * Scheduled scaling: campaigns and calendars that raise or lower min/max (and
 * propose a desired count) for a window.
 *
 * - One-off window: active while start ≤ now < end. For a `campaign` schedule the
 *   window opens `campaign.leadMinutes` early, so that capacity is ready at start.
 * - Recurring window: active while now < the previous cron fire + durationMinutes
 *   (again opened leadMinutes early for campaigns). The cron pattern is read in
 *   the schedule's IANA `timezone` by the `croner` package, which does the
 *   daylight-saving arithmetic (a fire at 09:00 New York is 14:00 UTC in winter and
 *   13:00 UTC in summer).
 * - Several active schedules: the highest min, the lowest max and the highest
 *   desired. The schedule's min/max replace the spec's min/max while it is active
 *   (see guards/bounds.ts); its desired is a recommendation like any other, combined by
 *   max and subject to the rate limits.
 *
 * Croner is pure computation here (no callback, so no timer is ever started), and
 * its results are memoised per pattern and zone: a fire time stays valid until the
 * next fire, so a tick costs a map look-up instead of a cron search.
 */
import { Cron } from 'croner'
import type { ScheduleSpec } from '../../spec/schema.ts'
import { isoToEpochMs } from '../../core/iso-time.ts'
import type { Recommendation } from '../types.ts'
import type { PolicyInput, ScalingPolicy } from './policy.ts'

const msPerMinute = 60_000

interface CronMemo {
  /** Undefined when the pattern or time zone is invalid (see `problem`). */
  readonly cron: Cron | undefined
  /** Why the pattern or time zone cannot be used, in croner's words. */
  readonly problem: string | undefined
  /** Epoch ms of the last fire at or before a reference inside [validFromMs, validUntilMs); undefined if none. */
  lastFireMs: number | undefined
  validFromMs: number
  validUntilMs: number
}

const memos = new Map<string, CronMemo>()

function memoFor(pattern: string, timezone: string): CronMemo {
  const key = `${pattern}\u0000${timezone}`
  let memo = memos.get(key)
  if (memo === undefined) {
    let cron: Cron | undefined
    let problem: string | undefined
    try {
      cron = new Cron(pattern, { timezone })
      // An unknown time zone only shows when a date is converted into it.
      // eslint-disable-next-line no-restricted-globals -- a fixed instant, not a clock read.
      cron.nextRun(new Date(0))
    } catch (err) {
      cron = undefined
      problem = err instanceof Error ? err.message : String(err)
    }
    memo = { cron, problem, lastFireMs: undefined, validFromMs: 0, validUntilMs: -1 }
    memos.set(key, memo)
  }
  return memo
}

/**
 * Why a cron pattern or IANA time zone cannot be used (croner's message), or
 * undefined when it can. The spec loader may call this to reject a bad schedule
 * up front; the engine itself treats such a schedule as never active and says so.
 */
export function cronProblem(pattern: string, timezone: string): string | undefined {
  return memoFor(pattern, timezone).problem
}

/**
 * Epoch ms of the last fire of `pattern` in `timezone` at or before `atMs`, or
 * undefined if it never fired before (or the pattern is invalid: see cronProblem).
 * Pure: the same arguments give the same answer.
 */
export function lastCronFireMs(pattern: string, timezone: string, atMs: number): number | undefined {
  const memo = memoFor(pattern, timezone)
  if (memo.cron === undefined) return undefined
  if (atMs >= memo.validFromMs && atMs < memo.validUntilMs) return memo.lastFireMs
  // Croner counts a fire earlier in the same second as the reference, so +1 ms includes a fire exactly at atMs.
  // eslint-disable-next-line no-restricted-globals -- converts the input atMs for croner; no clock is read.
  const previous = memo.cron.previousRuns(1, new Date(atMs + 1))[0]
  // eslint-disable-next-line no-restricted-globals -- as above.
  const next = memo.cron.nextRun(new Date(atMs))
  memo.lastFireMs = previous?.getTime()
  memo.validFromMs = memo.lastFireMs ?? Number.NEGATIVE_INFINITY
  memo.validUntilMs = next === null ? Number.POSITIVE_INFINITY : next.getTime()
  return memo.lastFireMs
}

/** When a schedule's window (including a campaign's lead time) covers `nowMs`: its [fromMs, untilMs), else undefined. */
export function activeWindow(schedule: ScheduleSpec, nowMs: number): { fromMs: number; untilMs: number } | undefined {
  const leadMs = (schedule.campaign?.leadMinutes ?? 0) * msPerMinute
  if (schedule.start !== undefined && schedule.end !== undefined) {
    const startMs = isoToEpochMs(schedule.start)
    const endMs = isoToEpochMs(schedule.end)
    if (startMs === undefined || endMs === undefined) return undefined
    return nowMs >= startMs - leadMs && nowMs < endMs ? { fromMs: startMs - leadMs, untilMs: endMs } : undefined
  }
  if (schedule.cron !== undefined && schedule.durationMinutes !== undefined) {
    // The window of a fire at f is [f − lead, f + duration); the latest fire at or before now + lead is the one to test.
    const fireMs = lastCronFireMs(schedule.cron, schedule.timezone, nowMs + leadMs)
    if (fireMs === undefined) return undefined
    const untilMs = fireMs + schedule.durationMinutes * msPerMinute
    return nowMs < untilMs ? { fromMs: fireMs - leadMs, untilMs } : undefined
  }
  return undefined
}

function hasBounds(s: ScheduleSpec): boolean {
  return s.replicas.min !== undefined || s.replicas.max !== undefined || s.replicas.desired !== undefined
}

function boundsText(s: ScheduleSpec): string {
  const parts: string[] = []
  if (s.replicas.min !== undefined) parts.push(`min ${s.replicas.min}`)
  if (s.replicas.max !== undefined) parts.push(`max ${s.replicas.max}`)
  if (s.replicas.desired !== undefined) parts.push(`desired ${s.replicas.desired}`)
  return parts.join(', ')
}

interface Aggregate {
  min?: number
  max?: number
  desired?: number
  readonly active: string[]
  /** Schedules that can never be active, with why. */
  readonly invalid: string[]
}

/** Adds an active schedule: the highest min, the lowest max, the highest desired. */
function addSchedule(agg: Aggregate, s: ScheduleSpec): void {
  agg.active.push(`${s.name} (${boundsText(s)})`)
  const { min, max, desired } = s.replicas
  if (min !== undefined) agg.min = Math.max(agg.min ?? min, min)
  if (max !== undefined) agg.max = Math.min(agg.max ?? max, max)
  if (desired !== undefined) agg.desired = Math.max(agg.desired ?? desired, desired)
}

function toRecommendation(agg: Aggregate): Recommendation {
  const parts: string[] = []
  if (agg.active.length > 0) parts.push(`${agg.active.length === 1 ? 'schedule' : 'schedules'} ${agg.active.join(', ')} active`)
  parts.push(...agg.invalid)
  const detail = parts.join('; ')
  const bounds: { min?: number; max?: number } = {}
  if (agg.min !== undefined) bounds.min = agg.min
  if (agg.max !== undefined) bounds.max = agg.max
  const reason = agg.active.length > 0 ? 'ScheduleActive' : 'InvalidSchedule'
  const rec: { -readonly [K in keyof Recommendation]: Recommendation[K] } = { policy: 'scheduled', reason, detail }
  if (agg.desired !== undefined) rec.replicas = agg.desired
  if (agg.min !== undefined || agg.max !== undefined) rec.bounds = bounds
  return rec
}

/** The scheduled policy: silent unless at least one schedule is active now. */
export const scheduledPolicy: ScalingPolicy = {
  kind: 'scheduled',
  propose(input: PolicyInput): Recommendation | undefined {
    const schedules = input.spec.schedules
    if (schedules.length === 0) return undefined
    const agg: Aggregate = { active: [], invalid: [] }
    for (const s of schedules) {
      const problem = s.cron === undefined ? undefined : cronProblem(s.cron, s.timezone)
      if (problem !== undefined) agg.invalid.push(`schedule ${s.name} never applies: ${problem}`)
      // A campaign without bounds is the predictive policy's (its uplift sizes the window).
      else if (hasBounds(s) && activeWindow(s, input.nowMs) !== undefined) addSchedule(agg, s)
    }
    return agg.active.length === 0 && agg.invalid.length === 0 ? undefined : toRecommendation(agg)
  },
}
