/**
 * What the controller does with a failed provider call, by the error's retryable flag
 * (the registry in src/errors.ts, read through isRetryableProviderError): a retryable
 * launch failure (EAGAIN, no free port, a plain Error that is not tide's) is tried again
 * on the next tick with no wait; a non-retryable one (a missing executable, a group the
 * provider cannot run) needs a fix, so it counts as a start failure and the group's
 * launches back off as in a crash loop (1 s doubling to 60 s, crash-loop.ts) instead of
 * failing every tick. Either way the event says which, so an operator knows whether to
 * wait or to act. A failed terminate is not retried by itself: the instance is still
 * there, so the next tick's decision asks for it again; the event says whether that can
 * help.
 */
import { isRetryableProviderError } from '../providers/errors.ts'
import type { CrashLoop } from './crash-loop.ts'

/** The error's message, for an event (a thrown non-Error is shown as a string). */
function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
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
  return `${head} (not retryable: fix the cause; next launch in ${Math.round(waitMs / 1000)} s)`
}

/** The `terminate-failed` event's message for instance `id`: the error and whether retrying can help. */
export function terminateFailureMessage(id: string, err: unknown): string {
  const head = `terminate of ${id} failed: ${messageOf(err)}`
  return isRetryableProviderError(err) ? `${head} (retryable: tried again while the instance is still to go)` : `${head} (not retryable: fix the cause; it stays until then)`
}
