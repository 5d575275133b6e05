/**
 * What the controller does with a failed provider call, per group, by the kind of failure
 * (src/providers/errors.ts; Karpenter's cloudprovider errors are the model):
 *
 * - **throttled** (the platform's API rate limit): every provider call of the group waits,
 *   `retryAfterMs` when the platform said how long, else 1 s doubling to 60 s while throttles
 *   follow one another. The group's tick skips its provider calls meanwhile: it holds its
 *   count (listStep throws ProviderCallsHeld, which the controller does not count as a failed
 *   tick). One 'provider-throttled' event per streak; the streak ends when every call that was
 *   throttled has succeeded since.
 * - **insufficient capacity** (no room for this size): launches of that size wait 10 s doubling
 *   to 5 min; one 'capacity-unavailable' event per streak; a launch of that size that succeeds
 *   ends it. Other sizes, and terminations, go on.
 * - **instance not found** on terminate: the instance is gone, which is what terminate wanted,
 *   so it counts as terminated (a 'terminate' event says so).
 * - anything else, by the error's retryable flag (the registry in src/errors.ts, read through
 *   isRetryableProviderError): a retryable launch failure (no pid, a plain Error that is not
 *   tide's) is tried again on the next tick with no wait; a non-retryable one (a missing
 *   executable, a group the provider cannot run) needs a fix, so it counts as a start failure
 *   and the group's launches back off as in a crash loop (1 s doubling to 60 s, crash-loop.ts).
 *   A failed terminate is not retried by itself: the instance is still there, so the next
 *   tick's decision asks for it again; the event says whether that can help.
 *
 * A streak whose wait ended more than its longest wait ago is over: a throttle or a shortage
 * after such a quiet spell starts a new streak (with its event) from the shortest wait.
 * The controller never calls `resize` (no provider resizes in place yet), so there is no
 * resize hook here.
 */
import { sizeText, type SizeLike } from '../core/size.ts'
import { isInstanceNotFoundError, isInsufficientCapacityError, isRetryableProviderError, isThrottledError, retryAfterMsOf } from '../providers/errors.ts'
import type { CrashLoop } from './crash-loop.ts'

/** The first wait of a throttle streak, ms. */
export const THROTTLE_BACKOFF_BASE_MS = 1000
/** The longest wait of a throttle streak when the platform does not say how long, ms. */
export const THROTTLE_BACKOFF_MAX_MS = 60_000
/** The first wait of launches of a size the platform has no room for, ms. */
export const CAPACITY_BACKOFF_BASE_MS = 10_000
/** The longest wait of launches of a size the platform has no room for, ms. */
export const CAPACITY_BACKOFF_MAX_MS = 300_000

/**
 * The wait after the `streak`-th failure in a row: baseMs × 2^(streak − 1), capped at maxMs;
 * 0 for a streak of 0 or less.
 */
export function backoffMs(streak: number, baseMs: number, maxMs: number): number {
  if (streak <= 0) return 0
  // 2^(streak − 1) is bounded by the exponent cap; past it maxMs applies anyway.
  return Math.min(maxMs, baseMs * 2 ** Math.min(streak - 1, 30))
}

/** The provider calls the controller makes (it never calls resize). */
export type ProviderCall = 'list' | 'launch' | 'terminate'

/** A wait in force for a group's provider calls, for status: Controller.providerBackoff(). */
export interface ProviderBackoff {
  /** 'throttled': every provider call waits; 'capacity': launches of one size wait. */
  readonly kind: 'throttled' | 'capacity'
  /** Until when, ms since the epoch on the controller's clock. */
  readonly untilMs: number
  /** One sentence: what the provider said, and how long the streak has lasted. */
  readonly why: string
}

/** An event ProviderFailures reports for its group; the controller adds the group and stores it. */
export interface ProviderFailureEvent {
  readonly atMs: number
  readonly type: 'provider-throttled' | 'capacity-unavailable' | 'launch-failed' | 'terminate' | 'terminate-failed'
  readonly message: string
  readonly instanceId?: string
}

/**
 * Thrown by the controller's list step when the group's provider calls wait (a throttle):
 * the group sits this tick out and holds its count. Not a failure of the tick: the
 * 'provider-throttled' event already said why, so no 'reconcile-failed' follows.
 */
export class ProviderCallsHeld extends Error {
  constructor(options?: ErrorOptions) {
    super("the platform's API rate limit holds this group's provider calls (see the 'provider-throttled' event)", options)
    this.name = 'ProviderCallsHeld'
  }
}

interface Streak {
  readonly count: number
  readonly untilMs: number
  /** The wait that set untilMs, ms: a streak whose end is further off than this, the clock stepped back (rebased). */
  readonly waitMs: number
  readonly why: string
}

/**
 * `s` with its end at most its wait from nowMs: after a step back of the clock a wait ends its
 * own length from now, not when the clock catches up with where it was. Undefined stays so.
 */
function rebased<S extends Streak>(s: S | undefined, nowMs: number): S | undefined {
  return s !== undefined && s.untilMs - nowMs > s.waitMs ? { ...s, untilMs: nowMs + s.waitMs } : s
}

interface ThrottleStreak extends Streak {
  /** Calls throttled in this streak that have not succeeded since; the streak ends when none is left. */
  readonly calls: Set<ProviderCall>
}

/** The error's message, for an event (a thrown non-Error is shown as a string). */
function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}

/** Whole seconds of a wait, for messages. */
function secondsText(ms: number): string {
  return `${Math.round(ms / 1000)} s`
}

/** The streak a new failure at nowMs continues: `prior`, unless it went quiet for longer than maxMs after its wait. */
function continuing<S extends Streak>(prior: S | undefined, nowMs: number, maxMs: number): S | undefined {
  return prior !== undefined && nowMs - prior.untilMs <= maxMs ? prior : undefined
}

/**
 * One group's provider failure streaks: the throttle that holds all its calls and the
 * capacity shortages that hold launches of one size. Reports its events through `emit`
 * (once per streak for throttles and shortages). Time comes in as `nowMs`.
 */
export class ProviderFailures {
  readonly #emit: (event: ProviderFailureEvent) => void
  #throttle: ThrottleStreak | undefined
  /** Capacity streaks by sizeText of the size. */
  readonly #capacity = new Map<string, Streak>()

  constructor(emit: (event: ProviderFailureEvent) => void) {
    this.#emit = emit
  }

  /** Whether every provider call of the group waits at nowMs (a throttle). */
  holdsCalls(nowMs: number): boolean {
    this.#throttle = rebased(this.#throttle, nowMs)
    return this.#throttle !== undefined && nowMs < this.#throttle.untilMs
  }

  /** Whether a launch of `size` waits at nowMs: a throttle, or no capacity for that size. */
  launchWaits(size: SizeLike, nowMs: number): boolean {
    const key = sizeText(size)
    const shortage = rebased(this.#capacity.get(key), nowMs)
    if (shortage !== undefined) this.#capacity.set(key, shortage)
    if (this.holdsCalls(nowMs)) return true
    return shortage !== undefined && nowMs < shortage.untilMs
  }

  /** A call succeeded: it no longer counts toward the throttle streak, which ends when no throttled call is left. */
  succeeded(call: ProviderCall): void {
    const t = this.#throttle
    if (t === undefined) return
    t.calls.delete(call)
    if (t.calls.size === 0) this.#throttle = undefined
  }

  /** A launch of `size` succeeded: the end of that size's capacity streak, and of the launch's part in a throttle. */
  launched(size: SizeLike): void {
    this.succeeded('launch')
    this.#capacity.delete(sizeText(size))
  }

  /** A list failed. True when it was throttled: the group holds (the caller throws ProviderCallsHeld). */
  listFailed(err: unknown, nowMs: number): boolean {
    if (!isThrottledError(err)) return false
    this.#throttled('list', err, nowMs)
    return true
  }

  /**
   * A launch of `count` instances of `size` failed: a throttle or a capacity shortage starts or
   * continues its streak; anything else is a 'launch-failed' event, and a non-retryable one a
   * start failure in `crashLoop` (noteLaunchFailure).
   */
  launchFailed(err: unknown, size: SizeLike, count: number, nowMs: number, crashLoop: CrashLoop): void {
    if (isThrottledError(err)) this.#throttled('launch', err, nowMs)
    else if (isInsufficientCapacityError(err)) {
      this.succeeded('launch') // the platform answered: this is no throttle
      this.#capacityShort(err, size, count, nowMs)
    }
    else this.#emit({ atMs: nowMs, type: 'launch-failed', message: noteLaunchFailure(crashLoop, count, err, nowMs) })
  }

  /**
   * A terminate of `instanceId` failed. Returns true when the instance is gone all the same
   * (not found: a 'terminate' event says so); a throttle holds the group's calls; anything
   * else is a 'terminate-failed' event, and the next tick asks again.
   */
  terminateFailed(err: unknown, instanceId: string, nowMs: number): boolean {
    if (isInstanceNotFoundError(err)) {
      this.succeeded('terminate') // the platform answered: this is no throttle
      this.#emit({ atMs: nowMs, type: 'terminate', message: `instance ${instanceId} was already gone (${messageOf(err)}): counted as terminated`, instanceId })
      return true
    }
    if (isThrottledError(err)) this.#throttled('terminate', err, nowMs)
    else this.#emit({ atMs: nowMs, type: 'terminate-failed', message: terminateFailureMessage(instanceId, err), instanceId })
    return false
  }

  /**
   * The wait in force at nowMs, for status: the throttle when it holds (it stops everything),
   * else the capacity shortage that ends last; undefined when nothing waits.
   */
  backoff(nowMs: number): ProviderBackoff | undefined {
    const t = rebased(this.#throttle, nowMs)
    if (t !== undefined && nowMs < t.untilMs) return { kind: 'throttled', untilMs: t.untilMs, why: t.why }
    let latest: Streak | undefined
    for (const c of this.#capacity.values()) {
      const s = rebased(c, nowMs) ?? c
      if (nowMs < s.untilMs && (latest === undefined || s.untilMs > latest.untilMs)) latest = s
    }
    return latest === undefined ? undefined : { kind: 'capacity', untilMs: latest.untilMs, why: latest.why }
  }

  #throttled(call: ProviderCall, err: unknown, nowMs: number): void {
    const prior = continuing(this.#throttle, nowMs, THROTTLE_BACKOFF_MAX_MS)
    const count = (prior?.count ?? 0) + 1
    const asked = retryAfterMsOf(err)
    const waitMs = asked ?? backoffMs(count, THROTTLE_BACKOFF_BASE_MS, THROTTLE_BACKOFF_MAX_MS)
    const calls = prior?.calls ?? new Set<ProviderCall>()
    calls.add(call)
    // Concurrent calls (a drain's terminate beside the tick) may be throttled together: the longer wait wins.
    const untilMs = Math.max(prior?.untilMs ?? 0, nowMs + waitMs)
    const why = `the provider's API rate limit (${call}: ${messageOf(err)}); ${count} throttled call(s) in a row`
    this.#throttle = { count, untilMs, waitMs: Math.max(prior?.waitMs ?? 0, waitMs), why, calls }
    if (count > 1) return
    const how = asked === undefined ? `, doubling up to ${secondsText(THROTTLE_BACKOFF_MAX_MS)} while it lasts` : ' (as the provider asked)'
    this.#emit({
      atMs: nowMs,
      type: 'provider-throttled',
      message: `the provider's API is rate-limiting tide (${call}: ${messageOf(err)}): every provider call of this group waits ${secondsText(waitMs)}${how}; the group holds its count meanwhile`,
    })
  }

  #capacityShort(err: unknown, size: SizeLike, count: number, nowMs: number): void {
    const key = sizeText(size)
    const prior = continuing(this.#capacity.get(key), nowMs, CAPACITY_BACKOFF_MAX_MS)
    const streak = (prior?.count ?? 0) + 1
    const waitMs = backoffMs(streak, CAPACITY_BACKOFF_BASE_MS, CAPACITY_BACKOFF_MAX_MS)
    const why = `no capacity for ${key} (${messageOf(err)}); ${streak} launch(es) refused in a row`
    this.#capacity.set(key, { count: streak, untilMs: nowMs + waitMs, waitMs, why })
    if (streak > 1) return
    this.#emit({
      atMs: nowMs,
      type: 'capacity-unavailable',
      message: `no capacity for ${count} instance(s) of ${key}: ${messageOf(err)}; launches of that size wait ${secondsText(waitMs)}, doubling up to ${secondsText(CAPACITY_BACKOFF_MAX_MS)}, until one succeeds`,
    })
  }
}

/**
 * Records a failed launch of `count` instances at `nowMs` and returns the
 * `launch-failed` event's message. A non-retryable failure is recorded in `loop` (so the
 * group's next launch waits); a retryable one leaves the loop untouched.
 */
export function noteLaunchFailure(loop: CrashLoop, count: number, err: unknown, nowMs: number): string {
  const head = `launch of ${count} instance(s) failed: ${messageOf(err)}`
  if (isRetryableProviderError(err)) return `${head} (retryable: tried again on the next tick)`
  const waitMs = loop.failed(nowMs)
  return `${head} (not retryable: fix the cause; next launch in ${secondsText(waitMs)})`
}

/** The `terminate-failed` event's message for instance `id`: the error and whether retrying can help. */
export function terminateFailureMessage(id: string, err: unknown): string {
  const head = `terminate of ${id} failed: ${messageOf(err)}`
  return isRetryableProviderError(err) ? `${head} (retryable: tried again while the instance is still to go)` : `${head} (not retryable: fix the cause; it stays until then)`
}
