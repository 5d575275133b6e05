import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ManualClock } from '../../src/core/clock.ts'
import { MemoryEventLog } from '../../src/store/events.ts'
import { HeadroomRecorder } from '../../src/controller/headroom-recorder.ts'
import type { MetricsSource } from '../../src/controller/metrics-source.ts'
import { Controller } from '../../src/controller/reconciler.ts'
import { sameBackend } from '../../src/controller/backend.ts'
import type { Signals } from '../../src/engine/types.ts'
import { GroupSchema, type GroupSpec } from '../../src/spec/schema.ts'
import { FakeProvider } from '../support/fake-provider.ts'

const T0 = Date.parse('2026-11-11T00:00:00Z')

function group(slo: Record<string, unknown> = { instanceRps: 50 }): GroupSpec {
  return GroupSchema.parse({ group: 'shop-web', provider: 'sim', replicas: { min: 1, max: 20 }, warmupSeconds: 0, slo })
}

/** Group demand and p95 set by the test; a fresh demand (the router's last seconds) beside it. */
class Demand implements MetricsSource {
  rps = 100
  p95Ms = 50
  fresh: number | undefined
  read(_spec: GroupSpec, _instances: readonly unknown[], nowMs: number): Signals {
    return { atMs: nowMs, instances: new Map(), group: { rps: this.rps, latencyMs: { p95: this.p95Ms } } }
  }
  freshDemand(): number | undefined {
    return this.fresh
  }
}

function setup(spec = group()) {
  const clock = new ManualClock(T0)
  const provider = new FakeProvider(clock)
  const metrics = new Demand()
  const events = new MemoryEventLog()
  const controller = new Controller({ groups: [spec], backend: sameBackend({ provider, signals: metrics }), clock, events })
  const ready = () => {
    for (const r of provider.instances.values()) if (r.status === 'starting') provider.markRunning(r.id)
  }
  return { clock, provider, metrics, events, controller, ready }
}

test('status shows the headroom in force and why, the target, its cost in instances and the budget', async () => {
  const { controller, clock, ready } = setup()
  await controller.reconcileOnce()
  ready()
  clock.advance(15_000)
  await controller.reconcileOnce()
  const slo = controller.status('shop-web')?.slo
  assert.ok(slo)
  assert.equal(slo.latencyP95Ms, 200)
  assert.equal(slo.budgetPercent, 0.5)
  // No history yet: the safe default of 40 %; 50 / 1.4 = 35.7 req/s per instance; ⌈100 / 35.7⌉ = 3
  // instances, of which ⌈100 / 50⌉ = 2 carry the demand and 1 is headroom.
  const headroom = slo.headroom
  assert.ok(headroom)
  assert.equal(headroom.source, 'default')
  assert.equal(headroom.percent, 40)
  assert.match(headroom.why, /safe default until enough demand history is learned/)
  assert.ok(Math.abs((slo.targetPerInstanceRps ?? 0) - 50 / 1.4) < 1e-9)
  assert.deepEqual(slo.cost, { demandInstances: 2, headroomInstances: 1 })
  assert.equal(slo.budget.todayViolatedPercent, 0)
  assert.equal(controller.status('shop-web')?.lastDecision?.to, 3)
})

test('the fast path scales out between sync periods once the fresh demand exceeds the capacity in force, never in', async () => {
  const { controller, clock, ready, metrics, provider } = setup()
  await controller.reconcileOnce()
  ready()
  clock.advance(15_000)
  await controller.reconcileOnce() // 3 instances: capacity 150 req/s
  assert.equal(provider.instances.size, 3)
  clock.advance(3000)
  metrics.fresh = 140 // within the capacity: nothing to do
  assert.equal(controller.fastScaleOutDue(), false)
  assert.deepEqual(await controller.fastScaleOut(), [])
  metrics.fresh = 400 // beyond 3 × 50: ⌈400 / 35.7⌉ = 12, capped by the default scale-up policy (+100 % or +4 per 15 s) at 7
  assert.equal(controller.fastScaleOutDue(), true)
  const [r] = await controller.fastScaleOut()
  assert.ok(r)
  assert.equal(r.decision.from, 3)
  assert.equal(r.decision.to, 7)
  assert.equal(provider.instances.size, 7)
  // A fresh demand that falls again is no reason to scale in on the fast path.
  metrics.fresh = 10
  assert.equal(controller.fastScaleOutDue(), false)
})

test('a fast decision that cannot scale out (at max) disarms the fast path until the next sync period', async () => {
  const { controller, clock, ready, metrics } = setup(GroupSchema.parse({ group: 'shop-web', provider: 'sim', replicas: { min: 1, max: 3 }, warmupSeconds: 0, slo: { instanceRps: 50 } }))
  await controller.reconcileOnce()
  ready()
  clock.advance(15_000)
  await controller.reconcileOnce()
  metrics.fresh = 1000
  clock.advance(1000)
  const [r] = await controller.fastScaleOut()
  assert.equal(r?.decision.to, 3)
  assert.equal(controller.fastScaleOutDue(), false, 'held at max: not re-decided every second')
  clock.advance(14_000)
  await controller.reconcileOnce()
  assert.equal(controller.fastScaleOutDue(), true, 're-armed by the sync period')
})

test('slo.fastScaleOut false: no fast path', async () => {
  const { controller, clock, ready, metrics } = setup(group({ instanceRps: 50, fastScaleOut: false }))
  await controller.reconcileOnce()
  ready()
  clock.advance(15_000)
  await controller.reconcileOnce()
  metrics.fresh = 1000
  assert.equal(controller.fastScaleOutDue(), false)
})

test('the budget account: windows whose p95 exceeds the objective count as violated, per day and week', () => {
  const spec = group({ instanceRps: 50, latencyP95Ms: 200 })
  const slo = spec.slo
  assert.ok(slo)
  const recorder = new HeadroomRecorder(spec, slo)
  const window = (atMs: number, p95: number): Signals => ({ atMs, instances: new Map(), group: { rps: 100, latencyMs: { p95 } } })
  recorder.observe(window(T0, 50), T0, 30_000) // the first window only starts the account
  // 60 windows of 15 s (15 minutes): 2 of them over 200 ms → 30 s of 900 s = 3.33 %
  for (let i = 1; i <= 60; i++) recorder.observe(window(T0 + i * 15_000, i === 10 || i === 11 ? 250 : 120), T0 + i * 15_000, 30_000)
  const b = recorder.budget(T0 + 60 * 15_000)
  assert.equal(b.todayMeasuredSeconds, 900)
  assert.ok(Math.abs(b.todayViolatedPercent - (30 / 900) * 100) < 1e-9)
  assert.equal(b.weekViolatedPercent, b.todayViolatedPercent)
  // The next day starts a new account for today; the week keeps both.
  const nextDay = T0 + 86_400_000
  recorder.observe(window(nextDay, 120), nextDay, 30_000) // after a gap: not measured
  recorder.observe(window(nextDay + 15_000, 120), nextDay + 15_000, 30_000)
  const later = recorder.budget(nextDay + 15_000)
  assert.equal(later.todayMeasuredSeconds, 15)
  assert.equal(later.todayViolatedPercent, 0)
  assert.ok(later.weekViolatedPercent > 0 && later.weekViolatedPercent < b.weekViolatedPercent)
})

test('an slo without instanceRps keeps the budget account but no learner', () => {
  const spec = group({ latencyP95Ms: 300 })
  const slo = spec.slo
  assert.ok(slo)
  const recorder = new HeadroomRecorder(spec, slo)
  assert.equal(recorder.estimate(T0), undefined)
})
