/**
 * Instances that fail to start, again and again (a script not found, a missing variable, a
 * port refused): without a pause the controller would relaunch one every tick forever. As
 * Kubernetes' CrashLoopBackOff, each start failure in a row doubles the wait before the group's
 * next launch, from 1 s up to 60 s; the first instance that serves resets it. An instance that
 * served and then died is replaced at once: that is not a crash loop.
 */
import type { InstanceRecord } from '../providers/provider.ts'

/** The first wait after a start failure, ms. */
export const CRASH_BACKOFF_BASE_MS = 1000
/** The longest wait between launches of a group that keeps failing to start, ms. */
export const CRASH_BACKOFF_MAX_MS = 60_000

/** The wait after `failures` start failures in a row: 0 for none, then 1 s, 2 s, 4 s … capped at 60 s. */
export function crashBackoffMs(failures: number): number {
  if (failures <= 0) return 0
  // 2^(failures − 1) overflows nothing: past 2^6 the cap applies anyway.
  return Math.min(CRASH_BACKOFF_MAX_MS, CRASH_BACKOFF_BASE_MS * 2 ** Math.min(failures - 1, 16))
}

/** One group's start failures in a row, and until when its launches wait. */
export class CrashLoop {
  #failures = 0
  #untilMs = 0
  #waitMs = 0

  /** Start failures in a row so far. */
  get failures(): number {
    return this.#failures
  }

  /** Records a start failure at nowMs; returns the wait before the next launch, ms. */
  failed(nowMs: number): number {
    this.#failures++
    const waitMs = crashBackoffMs(this.#failures)
    this.#untilMs = nowMs + waitMs
    this.#waitMs = waitMs
    return waitMs
  }

  /** The loop as plain data (failures in a row, launches wait until untilMs), for the store. */
  toJSON(): { failures: number; untilMs: number } {
    return { failures: this.#failures, untilMs: this.#untilMs }
  }

  /** Puts back what toJSON gave (an earlier tide's), so a restart does not relaunch a crash-looping group at once. */
  restore(j: { readonly failures: number; readonly untilMs: number }): void {
    this.#failures = Number.isInteger(j.failures) && j.failures >= 0 ? j.failures : 0
    this.#untilMs = Number.isFinite(j.untilMs) ? j.untilMs : 0
  }

  /** An instance served: the loop is over. */
  served(): void {
    this.#failures = 0
    this.#untilMs = 0
  }

  /**
   * Whether launches must wait at nowMs. A wait that ends further from nowMs than its own length
   * (the clock stepped back since it began) ends its length from now instead, not when the
   * clock catches up.
   */
  blocks(nowMs: number): boolean {
    if (this.#untilMs - nowMs > this.#waitMs) this.#untilMs = nowMs + this.#waitMs
    return nowMs < this.#untilMs
  }
}

/**
 * How a failed instance ended, from its record's meta: "exit code 1", "killed by SIGKILL", or
 * "exited" when the provider could not tell (an instance adopted from an earlier tide).
 */
export function exitText(r: InstanceRecord): string {
  const exit = r.meta?.exit
  if (exit === undefined) return 'exited'
  if (exit.startsWith('signal ')) return `killed by ${exit.slice('signal '.length)}`
  if (exit.startsWith('code ')) return `exit code ${exit.slice('code '.length)}`
  return exit
}

/**
 * The message of an instance that failed before it ever served: how it ended, how long after
 * launch, the wait before the next launch and, when the provider kept one (meta.logTail, with
 * meta.logPath), the end of its log, one line each, indented.
 */
export function startFailureMessage(r: InstanceRecord, nowMs: number, failures: number, waitMs: number, withLog: boolean): string {
  const after = Math.max(0, (nowMs - r.launchedAtMs) / 1000).toFixed(1)
  const streak = failures > 1 ? `, ${failures} start failures in a row` : ''
  let text = `instance ${r.id} failed to start (${exitText(r)}, within ${after} s of launch${streak}); next launch in ${Math.round(waitMs / 1000)} s`
  const tail = r.meta?.logTail
  if (withLog && tail !== undefined && tail !== '') {
    text += `; the end of its log${r.meta?.logPath === undefined ? '' : ` ${r.meta.logPath}`}:\n${tail.split('\n').map((l) => `    | ${l}`).join('\n')}`
  }
  return text
}
