import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ManualClock } from '../../src/core/clock.ts'
import { runLoop, type Sleep } from '../../src/controller/run-loop.ts'

/** A sleep that advances the manual clock at once, so the loop runs in virtual time; stops the loop after `untilMs`. */
function virtualSleep(clock: ManualClock, abort: AbortController, untilMs: number): Sleep {
  return (ms) => {
    clock.advance(ms)
    if (clock.now() >= untilMs) abort.abort()
    return Promise.resolve()
  }
}

test('ticks every interval of clock time, and runs `between` every everyMs in the waits', async () => {
  const clock = new ManualClock(0)
  const abort = new AbortController()
  const ticks: number[] = []
  const between: number[] = []
  await runLoop({
    controller: { reconcileOnce: () => Promise.resolve(ticks.push(clock.now())) },
    clock,
    intervalMs: 15_000,
    signal: abort.signal,
    sleep: virtualSleep(clock, abort, 45_000),
    between: { everyMs: 1000, run: () => Promise.resolve(between.push(clock.now())) },
  })
  assert.deepEqual(ticks, [0, 15_000, 30_000])
  // 14 seconds between two ticks (1 … 14 s after each), none at a tick's own time
  assert.equal(between.filter((t) => t > 0 && t < 15_000).length, 14)
  assert.ok(!between.includes(15_000) && !between.includes(30_000))
})

test('a failing tick or between-run is reported and the loop goes on', async () => {
  const clock = new ManualClock(0)
  const abort = new AbortController()
  const errors: string[] = []
  let ticks = 0
  await runLoop({
    controller: { reconcileOnce: () => (++ticks === 1 ? Promise.reject(new Error('tick')) : Promise.resolve()) },
    clock,
    intervalMs: 5000,
    signal: abort.signal,
    sleep: virtualSleep(clock, abort, 10_000),
    between: { everyMs: 2000, run: () => Promise.reject(new Error('fast')) },
    onError: (err) => errors.push(err instanceof Error ? err.message : String(err)),
  })
  assert.equal(ticks, 2)
  assert.equal(errors[0], 'tick')
  assert.ok(errors.filter((e) => e === 'fast').length >= 2)
})

test('without `between` it sleeps straight to the next tick', async () => {
  const clock = new ManualClock(0)
  const abort = new AbortController()
  const sleeps: number[] = []
  await runLoop({
    controller: { reconcileOnce: () => Promise.resolve() },
    clock,
    intervalMs: 15_000,
    signal: abort.signal,
    sleep: (ms) => {
      sleeps.push(ms)
      return virtualSleep(clock, abort, 30_000)(ms, abort.signal)
    },
  })
  assert.deepEqual(sleeps, [15_000, 15_000])
})

test('a clock that steps back an hour between ticks: the next tick comes one interval later, not an hour', async () => {
  const clock = new ManualClock(10_000_000)
  const abort = new AbortController()
  const sleeps: number[] = []
  let ticks = 0
  await runLoop({
    controller: {
      reconcileOnce: () => {
        ticks++
        if (ticks === 2) clock.advance(-3_600_000) // stepped back during the second tick
        if (ticks === 4) abort.abort()
        return Promise.resolve()
      },
    },
    clock,
    intervalMs: 1000,
    signal: abort.signal,
    sleep: (ms) => {
      sleeps.push(ms)
      clock.advance(ms)
      return Promise.resolve()
    },
  })
  assert.equal(ticks, 4)
  for (const ms of sleeps) assert.ok(ms >= 0 && ms <= 1000, `slept ${ms} ms with an interval of 1000 ms`)
})

test('a clock that steps back an hour while the loop waits: the wait ends one interval after the step', async () => {
  const clock = new ManualClock(10_000_000)
  const abort = new AbortController()
  const sleeps: number[] = []
  let ticks = 0
  let stepped = false
  await runLoop({
    controller: {
      reconcileOnce: () => {
        if (++ticks === 3) abort.abort()
        return Promise.resolve()
      },
    },
    clock,
    intervalMs: 1000,
    signal: abort.signal,
    between: { everyMs: 250, run: () => Promise.resolve() },
    sleep: (ms) => {
      sleeps.push(ms)
      clock.advance(ms)
      if (!stepped) {
        stepped = true
        clock.advance(-3_600_000)
      }
      return Promise.resolve()
    },
  })
  assert.equal(ticks, 3)
  // 250 ms before the step, then at most one interval (four sleeps of 250 ms) before the next tick.
  assert.ok(sleeps.length <= 10, `${sleeps.length} sleeps: ${sleeps.join(', ')}`)
  for (const ms of sleeps) assert.ok(ms >= 0 && ms <= 250)
})
