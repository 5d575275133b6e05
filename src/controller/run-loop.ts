import type { Clock } from '../core/clock.ts'

/** Something that can be reconciled on a period (the Controller). */
export interface Reconcilable {
  reconcileOnce(): Promise<unknown>
}

/** Waits `ms` or until `signal` aborts; injected so tests need not sleep. */
export type Sleep = (ms: number, signal: AbortSignal) => Promise<void>

/** The real sleep: a timer that an abort cuts short. */
export const timerSleep: Sleep = (ms, signal) =>
  new Promise((resolve) => {
    if (signal.aborted) {
      resolve()
      return
    }
    const timer = setTimeout(done, ms)
    function done(): void {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
    signal.addEventListener('abort', done, { once: true })
  })

export interface RunLoopOptions {
  readonly controller: Reconcilable
  readonly clock: Clock
  /** Between ticks, ms; a function is asked after each tick (the group list, and so the shortest period, may change). */
  readonly intervalMs: number | (() => number)
  readonly signal: AbortSignal
  readonly sleep?: Sleep
  /** Where a failed reconcile is reported; the loop keeps going. */
  readonly onError?: (err: unknown) => void
  /**
   * Work between ticks, every `everyMs` (the controller's fast scale-out path, each fresh router
   * second); its failures go to onError too.
   */
  readonly between?: { readonly everyMs: number; run(): Promise<unknown> }
}

/**
 * Calls reconcileOnce() every `intervalMs` of clock time until aborted. Ticks are
 * aligned to the interval: a slow reconcile delays the next tick, never doubles it.
 * With `between`, its run() is called every `everyMs` while waiting for the next tick.
 * A step of the clock never stops the loop: after a step back (the next tick would be
 * more than one interval away) the next tick is one interval from now, and a wait that
 * the clock steps back in the middle of ends one interval after the step at the latest.
 */
export async function runLoop(opts: RunLoopOptions): Promise<void> {
  const sleep = opts.sleep ?? timerSleep
  let next = opts.clock.now()
  while (!opts.signal.aborted) {
    try {
      await opts.controller.reconcileOnce()
    } catch (err) {
      opts.onError?.(err)
    }
    const intervalMs = typeof opts.intervalMs === 'function' ? opts.intervalMs() : opts.intervalMs
    next += intervalMs
    const now = opts.clock.now()
    if (next < now) next = now
    // The clock stepped back: the tick that was due is one interval from now, not the step's length away.
    if (next > now + intervalMs) next = now + intervalMs
    await waitFor(next, intervalMs, opts, sleep)
  }
}

/** Sleeps until clock time `untilMs` (at most `intervalMs` from now, whatever the clock does), running `between` every `everyMs` meanwhile. */
async function waitFor(untilMs: number, intervalMs: number, opts: RunLoopOptions, sleep: Sleep): Promise<void> {
  const between = opts.between
  let until = untilMs
  const done = (): boolean => opts.signal.aborted || opts.clock.now() >= until
  for (;;) {
    if (done()) return
    const now = opts.clock.now()
    // Stepped back while waiting: wait one interval from now, not until the clock catches up.
    if (until > now + intervalMs) until = now + intervalMs
    if (between === undefined) return sleep(until - now, opts.signal)
    await sleep(Math.min(until - now, between.everyMs), opts.signal)
    if (done()) return
    try {
      await between.run()
    } catch (err) {
      opts.onError?.(err)
    }
  }
}
