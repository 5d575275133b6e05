/**
 * Clock steps on the controller's clock (issue 13): the real controller in the real run loop
 * (`Runtime.run()`'s loop: reconcileDue every second, the fast path between), on a clock that
 * reads the wall clock plus an offset the scenario steps: +1 h, −1 h, then −5 s, while demand
 * moves. The group uses short windows (a 10 s down-stabilization window, rate policies of 2
 * instances per 10 s, a step rule with a 10 s cooldown) and every learner (slo headroom, the
 * forecaster, vertical recommendations), so the whole run takes about a minute.
 * Checked: the loop keeps ticking through every step (no tick gap longer than 3 s), no scale-in
 * while demand holds (no burst after a step), a dip after a step back still waits out the
 * down window, a scale-up after a step back is held one period, not an hour (no cooldown that
 * never ends), no negative duration in any event, no failed tick. The lease under steps is
 * checked in test/controller/leader-election.test.ts (monotonic durations).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { setTimeout as sleep } from 'node:timers/promises'
import { Controller, type ReconcileResult } from '../../src/controller/reconciler.ts'
import type { MetricsSource } from '../../src/controller/metrics-source.ts'
import { runLoop } from '../../src/controller/run-loop.ts'
import type { Clock } from '../../src/core/clock.ts'
import type { InstanceSample, Signals } from '../../src/engine/types.ts'
import { GroupSchema } from '../../src/spec/schema.ts'
import { MemoryEventLog } from '../../src/store/events.ts'
import { MemoryStateStore } from '../../src/store/state-store.ts'
import { FakeProvider } from '../support/fake-provider.ts'
import { recordChaos } from './tally.ts'

const HOUR = 3_600_000

/** The wall clock plus an offset the scenario steps (NTP's step, an operator's `date -s`). */
class SteppedClock implements Clock {
  offsetMs = 0
  now(): number {
    return Date.now() + this.offsetMs
  }
}

/** Demand in requests/s spread over the instances; 100 per instance is the target. */
class Demand implements MetricsSource {
  rps = 400
  read(_spec: unknown, views: readonly { readonly id: string }[], nowMs: number): Signals {
    const each = views.length === 0 ? 0 : this.rps / views.length
    return { atMs: nowMs, instances: new Map<string, InstanceSample>(views.map((v) => [v.id, { rps: each, cpuRatio: 0.5, cpuAtMs: nowMs, cpuWindowMs: 1000, memoryMiB: 200 }])), group: { rps: this.rps, latencyMs: { p50: 20, p95: 40, p99: 60 } } }
  }
}

test('clock steps of +1 h, −1 h and −5 s: the loop ticks on, no scale-in burst, no endless cooldown, no negative wait', { timeout: 180_000 }, async () => {
  const clock = new SteppedClock()
  const provider = new FakeProvider(clock, 200)
  const demand = new Demand()
  const events = new MemoryEventLog()
  const spec = GroupSchema.parse({
    group: 'web',
    provider: 'sim',
    replicas: { min: 2, max: 20 },
    syncPeriodSeconds: 1,
    startupSeconds: 1,
    warmupSeconds: 0,
    metrics: [{ type: 'rps', target: { averageValue: 100 } }],
    steps: [{ metric: { type: 'rps' }, above: 300, change: { type: 'Pods', value: 1 }, cooldownSeconds: 10 }],
    behavior: {
      scaleUp: { stabilizationWindowSeconds: 0, policies: [{ type: 'Pods', value: 2, periodSeconds: 10 }] },
      scaleDown: { stabilizationWindowSeconds: 10, policies: [{ type: 'Pods', value: 1, periodSeconds: 10 }] },
    },
    slo: { latencyP95Ms: 200, instanceRps: 150 },
    predictive: { mode: 'forecastOnly' },
    vertical: { mode: 'recommend' },
  })
  const controller = new Controller({ groups: [spec], backend: () => ({ provider, signals: demand }), clock, events, store: new MemoryStateStore() })
  const ticks: { wallMs: number; phase: string; r: ReconcileResult }[] = []
  let phase = 'steady'
  const errors: unknown[] = []
  const abort = new AbortController()
  const loop = runLoop({
    controller: {
      reconcileOnce: async () => {
        for (const r of await controller.reconcileDue()) ticks.push({ wallMs: Date.now(), phase, r })
        await controller.fastScaleOut()
      },
    },
    clock,
    intervalMs: 1000,
    signal: abort.signal,
    onError: (err) => errors.push(err),
  })
  const desired = (): number => controller.status('web')?.desiredReplicas ?? 0
  const of = (p: string) => ticks.filter((t) => t.phase === p).map((t) => t.r.decision)
  const waitFor = async (what: string, cond: () => boolean, ms: number): Promise<number> => {
    const t0 = Date.now()
    while (!cond()) {
      if (Date.now() - t0 > ms) assert.fail(`${what} not within ${ms} ms (desired ${desired()}); last decisions:\n${ticks.slice(-5).map((t) => `${t.phase}: ${t.r.decision.explanation}`).join('\n')}`)
      await sleep(100)
    }
    return Date.now() - t0
  }
  const recoveryMs: number[] = []
  let faults = 0
  try {
    // 400 req/s → 4 instances, held.
    await waitFor('4 instances', () => desired() === 4, 30_000)
    await sleep(3000)

    // +1 h: the windows and periods all lie in the past now. Demand holds: nothing moves.
    phase = 'ahead'
    clock.offsetMs += HOUR
    faults++
    await sleep(4000)
    // Then a rise while an hour ahead: 600 req/s → 6, scale events stamped an hour ahead.
    demand.rps = 600
    await waitFor('6 instances, an hour ahead', () => desired() === 6, 20_000)
    await sleep(1500)

    // −1 h: everything just recorded is an hour in the future. A surge to 1000 req/s wants 10:
    // +2 per 10 s from 6 → 8 → 10 within ~20 s, not held for an hour.
    phase = 'back'
    clock.offsetMs -= HOUR
    faults++
    demand.rps = 1000
    recoveryMs.push(await waitFor('10 instances after the step back', () => desired() === 10, 40_000))
    await sleep(1500)

    // −5 s, then a dip to 400 req/s: the 10 s down window still holds before any scale-in, then
    // one instance per 10 s.
    phase = 'small-back'
    clock.offsetMs -= 5000
    faults++
    const dipAt = Date.now()
    demand.rps = 400
    await waitFor('a scale-in after the dip', () => desired() < 10, 40_000)
    const heldMs = Date.now() - dipAt
    recoveryMs.push(heldMs)
    assert.ok(heldMs >= 8000, `scaled in ${heldMs} ms after the dip: the 10 s down window was lost`)
    await sleep(2000)
    abort.abort()
    await loop

    // No scale-in while demand held or rose, whatever the clock did.
    for (const p of ['steady', 'ahead', 'back']) for (const d of of(p)) assert.ok(d.to >= d.from, `${p}: scaled in ${d.from}→${d.to}: ${d.explanation}`)
    // One instance at a time after the dip (Pods 1 per 10 s): no burst.
    for (const d of of('small-back')) assert.ok(d.from - d.to <= 1, `small-back: ${d.from}→${d.to}`)
    // The loop ticked through every step: no gap longer than 3 s between two ticks.
    for (let i = 1; i < ticks.length; i++) {
      const gap = ticks[i]!.wallMs - ticks[i - 1]!.wallMs
      assert.ok(gap <= 3000, `no tick for ${gap} ms (${ticks[i - 1]!.phase} → ${ticks[i]!.phase})`)
    }
    // No negative duration anywhere an operator reads one, and no failed tick.
    for (const e of events.list()) assert.doesNotMatch(e.message, /(?<![\w.])[-−]\d+(\.\d+)? ?(s|ms|seconds)\b/, `${e.type}: ${e.message}`)
    assert.deepEqual(events.list().filter((e) => e.type === 'reconcile-failed').map((e) => e.message), [])
    assert.deepEqual(errors, [])

    recordChaos({
      scenario: 'clock: +1 h, −1 h, −5 s',
      faults,
      requestsSent: 0,
      requestsFailed: 0,
      recoveryMs,
      note: `${ticks.length} ticks of the real run loop; recovery = 6→10 after −1 h, then the dip held by the 10 s down window after −5 s`,
      found: [
        'after a step back the run loop and the group\'s sync schedule waited for the clock to catch up (an hour without a tick)',
        'a scale event or recommendation stamped "in the future" held scale-up for the step\'s length and dropped the down window (engine/history-as-of.ts)',
        'crash-loop and provider waits lasted the step plus their length',
        'the lease elector measured expiry on the wall clock: +1 h handed a renewed lease to a follower, −1 h kept a dead one',
      ],
    })
  } finally {
    abort.abort()
    await loop
  }
})
