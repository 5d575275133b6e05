/**
 * The scale history as of `nowMs` when the controller's clock has stepped back (NTP, an
 * operator's `date -s`, a restored VM): entries stamped after `nowMs` were made "in the future" of
 * the clock the engine is given now. Left as they are they would
 * - count in a rate policy's period until the clock catches up (a scale-up held for an hour
 *   after a step of −1 h: a cooldown that never ends),
 * - keep a step rule cooling down for the step plus its cooldown,
 * - and be dropped by the stabilization window (it keeps what is not after now), so that a
 *   group's down-window memory is lost and a dip scales it in at once.
 * Each such entry is taken as made now instead: the windows and periods start again from the
 * step, so every wait is at most its own length, never the step's. Entries at or before
 * `nowMs` are untouched; with none after it the same object comes back (the common case costs
 * one pass, no allocation). A step forward needs nothing: entries age out of their windows, as
 * they would had that much time passed. Pure.
 */
import type { ScaleHistory } from './types.ts'

/** `history` with every entry stamped after `nowMs` stamped `nowMs` (see the module comment). */
export function historyAsOf(history: ScaleHistory, nowMs: number): ScaleHistory {
  const future = (atMs: number): boolean => atMs > nowMs
  const steps = Object.values(history.stepFiredAtMs)
  if (!history.recommendations.some((r) => future(r.atMs)) && !history.scaleUpEvents.some((e) => future(e.atMs)) && !history.scaleDownEvents.some((e) => future(e.atMs)) && !steps.some(future)) return history
  const clamp = (atMs: number): number => Math.min(atMs, nowMs)
  return {
    recommendations: history.recommendations.map((r) => ({ ...r, atMs: clamp(r.atMs) })),
    scaleUpEvents: history.scaleUpEvents.map((e) => ({ ...e, atMs: clamp(e.atMs) })),
    scaleDownEvents: history.scaleDownEvents.map((e) => ({ ...e, atMs: clamp(e.atMs) })),
    stepFiredAtMs: Object.fromEntries(Object.entries(history.stepFiredAtMs).map(([k, atMs]) => [k, clamp(atMs)])),
  }
}
