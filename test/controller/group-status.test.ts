import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Controller } from '../../src/controller/reconciler.ts'
import { sameBackend } from '../../src/controller/backend.ts'
import { HeadroomRecorder } from '../../src/controller/headroom-recorder.ts'
import type { HeadroomEstimate } from '../../src/forecast/headroom-learner.ts'
import { failedStepOf, GroupStatusBuilder, type GroupStatus, type TickStatusInput } from '../../src/controller/group-status.ts'
import type { MetricsSource } from '../../src/controller/metrics-source.ts'
import { ManualClock } from '../../src/core/clock.ts'
import { emptyHistory, type Decision, type InstancePhase, type InstanceSample, type Signals } from '../../src/engine/types.ts'
import type { InstanceRecord } from '../../src/providers/provider.ts'
import { GroupSchema, type GroupSpec } from '../../src/spec/schema.ts'
import { MemoryStateStore } from '../../src/store/state-store.ts'
import { ThrottledError } from '../../src/providers/errors.ts'
import { FakeProvider } from '../support/fake-provider.ts'

const T0 = Date.parse('2026-11-11T11:00:00Z')
const sizes = [
  { name: 's', cpu: 0.5, memoryMiB: 256 },
  { name: 'm', cpu: 1, memoryMiB: 512 },
  { name: 'l', cpu: 2, memoryMiB: 1024 },
]

/** Three groups that exercise every part of a status: an slo with its learner, a forecaster, usage histograms and the mixed planner. */
const specs: readonly GroupSpec[] = [
  GroupSchema.parse({ group: 'slo', provider: 'sim', replicas: { min: 1, max: 20 }, warmupSeconds: 0, slo: { instanceRps: 50, fastScaleOut: true } }),
  GroupSchema.parse({
    group: 'predictive',
    provider: 'sim',
    replicas: { min: 1, max: 20 },
    warmupSeconds: 0,
    metrics: [{ type: 'rps', target: { averageValue: 100 } }],
    predictive: { mode: 'forecastAndScale', bufferPercent: 0, schedulingBufferSeconds: 60 },
  }),
  GroupSchema.parse({
    group: 'vertical',
    provider: 'sim',
    replicas: { min: 1, max: 10 },
    warmupSeconds: 0,
    size: sizes[1],
    sizes,
    strategy: 'mixed',
    metrics: [{ type: 'cpu', target: { averageUtilization: 60 } }],
    vertical: { mode: 'recommend', percentile: 90, headroomPercent: 15 },
  }),
]

/** A daily wave of demand, spread over the instances the engine shows, with cpu and memory to match. */
class Wave implements MetricsSource {
  failRead: string | undefined
  read(spec: GroupSpec, instances: readonly { id: string }[], nowMs: number): Signals {
    if (this.failRead !== undefined && spec.group === this.failRead) throw new Error('metrics backend unreachable')
    const rps = 300 + 200 * Math.sin((2 * Math.PI * (nowMs - T0)) / 3_600_000)
    const m = new Map<string, InstanceSample>()
    const per = rps / Math.max(1, instances.length)
    for (const i of instances) m.set(i.id, { cpuRatio: Math.min(1.5, per / 120), cpuAtMs: nowMs, cpuWindowMs: 0, rps: per, memoryMiB: 180 + per / 2, latencyP95Ms: 40 + per / 10 })
    return { atMs: nowMs, instances: m, group: { rps, latencyMs: { p95: 40 + per / 10 } } }
  }
}

/** Two days of history for the predictive group's forecaster, at 5-minute steps. */
function history(spec: GroupSpec) {
  if (spec.group !== 'predictive') return undefined
  const startSec = T0 / 1000 - 2 * 86_400
  return { startSec, stepSeconds: 300, values: Array.from({ length: 2 * 288 }, (_, i) => 300 + 100 * Math.sin((2 * Math.PI * i) / 288)) }
}

function run() {
  const clock = new ManualClock(T0)
  const provider = new FakeProvider(clock, 20_000)
  const metrics = new Wave()
  const store = new MemoryStateStore()
  const controller = new Controller({ groups: specs, backend: sameBackend({ provider, signals: metrics }), clock, store, demandHistory: history })
  return { clock, provider, metrics, store, controller }
}

function assertPlain(s: GroupStatus | undefined, where: string): asserts s is GroupStatus {
  assert.ok(s, `${where}: a status`)
  assert.deepEqual(JSON.parse(JSON.stringify(s)), s, `${where}: the status is plain JSON data`)
}

test('every status of a real run (slo, predictive, vertical/mixed groups) is plain JSON data, built each tick with its tick time', async () => {
  const { clock, controller, store } = run()
  const seen = { slo: false, forecast: false, usage: false }
  for (let tick = 0; tick < 240; tick++) {
    await controller.reconcileOnce()
    for (const spec of specs) {
      const s = controller.status(spec.group)
      assertPlain(s, `${spec.group} tick ${tick}`)
      assert.equal(s.atMs, clock.now(), 'built for this tick, not an earlier one')
      assert.equal(store.loadGroupStatus(spec.group), s, 'the store keeps the latest status')
      assert.deepEqual(
        s.conditions.map((c) => c.type),
        ['AbleToScale', 'ScalingActive', 'ScalingLimited'].filter((t) => s.conditions.some((c) => c.type === t)),
        'conditions in their order',
      )
      if (s.slo?.headroom !== undefined) seen.slo = true
      if (s.forecast?.status === 'ok') seen.forecast = true
      if ((s.usageSamples ?? 0) > 0) seen.usage = true
    }
    clock.advance(15_000)
    await controller.fastScaleOut()
  }
  assert.deepEqual(seen, { slo: true, forecast: true, usage: true }, 'the run exercised every part of a status')
})

test('a status is a new object each tick, and an unchanged instance keeps its entry', async () => {
  const { clock, controller } = run()
  await controller.reconcileOnce()
  const first = controller.status('slo')
  clock.advance(15_000)
  await controller.reconcileOnce()
  const second = controller.status('slo')
  assert.ok(first && second)
  assert.notEqual(first, second)
  assert.equal(first.atMs, T0)
  assert.equal(second.atMs, T0 + 15_000)
  assert.deepEqual(first.conditions.find((c) => c.type === 'AbleToScale')?.reason, 'SucceededRescale')
})

test('a failing provider: AbleToScale False FailedGetScale on every failed tick, the rest as of the last good tick; a good tick restores it', async () => {
  const { clock, provider, controller, store } = run()
  await controller.reconcileOnce()
  clock.advance(15_000)
  await controller.reconcileOnce()
  const good = controller.status('slo')
  assert.ok(good)
  for (let i = 1; i <= 3; i++) {
    clock.advance(15_000)
    provider.nextError.list = new Error('cloud API timeout')
    // FakeProvider fails the next list() of any group: the first group listed (slo) fails.
    await controller.reconcileOnce()
    const s = controller.status('slo')
    assertPlain(s, `failed tick ${i}`)
    assert.equal(s.atMs, clock.now(), 'the failed tick updates the status')
    const able = s.conditions.find((c) => c.type === 'AbleToScale')
    assert.deepEqual(able && { status: able.status, reason: able.reason }, { status: 'False', reason: 'FailedGetScale' })
    assert.match(able?.message ?? '', /unable to list the group's instances: cloud API timeout/)
    assert.equal(able?.lastTransitionMs, T0 + 30_000, 'the transition is the first failed tick')
    assert.deepEqual(s.instances, good.instances)
    assert.deepEqual(s.lastDecision, good.lastDecision)
    assert.deepEqual(
      s.conditions.filter((c) => c.type !== 'AbleToScale'),
      good.conditions.filter((c) => c.type !== 'AbleToScale'),
      'ScalingActive and ScalingLimited are left as they were (as the HPA)',
    )
    assert.equal(store.loadGroupStatus('slo'), s)
  }
  clock.advance(15_000)
  await controller.reconcileOnce()
  const back = controller.status('slo')?.conditions.find((c) => c.type === 'AbleToScale')
  assert.ok(back)
  assert.equal(back.status, 'True')
  assert.equal(back.lastTransitionMs, clock.now())
})

test('a throttled provider: AbleToScale False BackoffBoth while its calls wait, the rest as before; no failure', async () => {
  const { clock, provider, controller } = run()
  await controller.reconcileOnce()
  clock.advance(15_000)
  await controller.reconcileOnce()
  const good = controller.status('slo')
  assert.ok(good)
  clock.advance(15_000)
  provider.nextError.list = new ThrottledError('fake', 'Rate exceeded', { retryAfterMs: 20_000 })
  await controller.reconcileOnce()
  const s = controller.status('slo')
  assertPlain(s, 'throttled tick')
  assert.equal(s.atMs, clock.now())
  const able = s.conditions.find((c) => c.type === 'AbleToScale')
  assert.deepEqual(able && [able.status, able.reason], ['False', 'BackoffBoth'])
  assert.match(able?.message ?? '', /^scaling waits in both directions: the provider's API rate limit \(list: Rate exceeded\)/)
  assert.deepEqual(s.conditions.slice(1), good.conditions.slice(1))
  // The next sync period, 15 s on, is still within the 20 s the provider asked for: held again, the transition kept.
  clock.advance(15_000)
  await controller.reconcileOnce()
  assert.equal(controller.status('slo')?.conditions[0]?.lastTransitionMs, clock.now() - 15_000)
  clock.advance(15_000)
  await controller.reconcileOnce()
  assert.equal(controller.status('slo')?.conditions[0]?.status, 'True', 'calls resumed: able to scale again')
})

test('failing metrics: ScalingActive False FailedGetMetrics, AbleToScale True; a first tick that fails still gives a status', async () => {
  const { controller, metrics } = run()
  metrics.failRead = 'vertical'
  await controller.reconcileOnce()
  const s = controller.status('vertical')
  assertPlain(s, 'first tick failed')
  assert.equal(s.desiredReplicas, 0, 'nothing stored yet: no count')
  assert.deepEqual(s.instances, [])
  assert.equal(s.lastDecision, undefined)
  assert.deepEqual(
    s.conditions.map((c) => [c.type, c.status, c.reason]),
    [
      ['AbleToScale', 'True', 'SucceededGetScale'],
      ['ScalingActive', 'False', 'FailedGetMetrics'],
    ],
  )
  assert.match(s.conditions[1]?.message ?? '', /metrics backend unreachable/)
  assert.equal(controller.status('slo')?.conditions.find((c) => c.type === 'ScalingActive')?.status, 'True', 'another group is unaffected')
})

test('failedStepOf names the condition a step failure goes to', () => {
  assert.equal(failedStepOf('provider.list'), 'provider')
  assert.equal(failedStepOf('metrics.refresh'), 'metrics')
  assert.equal(failedStepOf('metrics.read'), 'metrics')
  assert.equal(failedStepOf('act'), 'act')
})

test('a failed first tick: the fallback count and size, no instances, the failure in the conditions', () => {
  const s = new GroupStatusBuilder('g').failed(5000, { step: 'act', message: 'disk full' }, { desiredReplicas: 3, size: { cpu: 1, memoryMiB: 512 } })
  assert.deepEqual(s, {
    group: 'g',
    atMs: 5000,
    desiredReplicas: 3,
    size: { cpu: 1, memoryMiB: 512 },
    instances: [],
    conditions: [{ type: 'AbleToScale', status: 'False', reason: 'FailedUpdateScale', message: 'tide was unable to act on its decision: disk full', lastTransitionMs: 5000 }],
  })
})

test('instances: terminated left out, draining shown, entries reused while record, phase and protection hold', () => {
  const spec = specs[0]
  assert.ok(spec)
  const size = { cpu: 1, memoryMiB: 512 }
  const decision: Decision = { group: 'slo', atMs: 0, kind: 'hold', from: 2, to: 2, reason: 'DesiredWithinRange', explanation: 'held at 2', recommendations: [], limits: [], scaleInCandidates: [], history: emptyHistory }
  const tick = (records: InstanceRecord[], draining: string[], protectedIds: string[]): TickStatusInput => ({
    input: { spec, state: { desiredReplicas: 2, size, instances: [], history: emptyHistory }, signals: undefined, nowMs: 0 },
    records,
    phases,
    draining: new Set(draining),
    protectedIds: new Set(protectedIds),
    decision,
    desiredReplicas: 2,
    size,
  })
  const a: InstanceRecord = { id: 'a', group: 'g', status: 'running', size, launchedAtMs: 0, readyAtMs: 10, address: { host: '127.0.0.1', port: 9001 }, meta: { pid: '42' } }
  const b: InstanceRecord = { id: 'b', group: 'g', status: 'running', size, launchedAtMs: 0, readyAtMs: 10 }
  const c: InstanceRecord = { id: 'c', group: 'g', status: 'stopped', size, launchedAtMs: 0 }
  const phases = new Map<string, InstancePhase>([
    ['a', 'in-service'],
    ['b', 'in-service'],
    ['c', 'terminated'],
  ])
  const builder = new GroupStatusBuilder('slo')
  const first = builder.tick(tick([a, b, c], [], [])).instances
  assert.deepEqual(first, [
    { id: 'a', phase: 'in-service', size, launchedAtMs: 0, readyAtMs: 10, protectedFromScaleIn: false, address: { host: '127.0.0.1', port: 9001 }, meta: { pid: '42' } },
    { id: 'b', phase: 'in-service', size, launchedAtMs: 0, readyAtMs: 10, protectedFromScaleIn: false },
  ])
  const second = builder.tick(tick([a, b, c], ['b'], ['a'])).instances
  assert.equal(second[0]?.protectedFromScaleIn, true)
  assert.equal(second[1]?.phase, 'draining')
  const third = builder.tick(tick([a, b], ['b'], ['a'])).instances
  assert.equal(third[0], second[0], 'unchanged: the same entry')
  assert.equal(third[1], second[1])
  assert.equal(builder.tick(tick([b], ['b'], [])).instances[0], second[1], 'a gone: b kept')
  const fifth = builder.tick(tick([{ ...a }], [], ['a'])).instances
  assert.notEqual(fifth[0], third[0], 'a new record: a new entry')
  assert.deepEqual(fifth[0], third[0])
})

test("the slo's headroom part is rebuilt only when the estimate changes at the resolution shown", () => {
  const spec = specs[0]
  assert.ok(spec?.slo)
  const size = spec.size
  const recorder = new HeadroomRecorder(spec, spec.slo)
  const decision: Decision = { group: 'slo', atMs: 0, kind: 'hold', from: 3, to: 3, reason: 'DesiredWithinRange', explanation: 'held at 3', recommendations: [], limits: [], scaleInCandidates: [], history: emptyHistory }
  const estimate = (historySeconds: number): HeadroomEstimate => ({ source: 'default', smoothingSeconds: 15, holdSeconds: 0, quantile: 0.995, scope: 'all', hour: 11, historySeconds, neededSeconds: 3600, windowDays: 7, lagSeconds: 30 })
  const tick = (historySeconds: number): TickStatusInput => ({
    input: { spec, state: { desiredReplicas: 3, size, instances: [], history: emptyHistory }, signals: { atMs: 0, instances: new Map(), group: { rps: 100 } }, nowMs: 0, headroom: estimate(historySeconds) },
    records: [],
    phases: new Map(),
    draining: new Set(),
    protectedIds: new Set(),
    decision,
    desiredReplicas: 3,
    size,
    slo: recorder,
  })
  const builder = new GroupStatusBuilder('slo')
  const a = builder.tick(tick(600)).slo?.headroom
  const b = builder.tick(tick(615)).slo?.headroom // 10.0 → 10.25 min: still "10 min"
  const c = builder.tick(tick(660)).slo?.headroom // 11 min
  assert.ok(a && b && c)
  assert.equal(b, a, 'the same words: the same object')
  assert.match(a.why, /\(10 min of 1 h\)/)
  assert.notEqual(c, a)
  assert.match(c.why, /\(11 min of 1 h\)/)
  assert.equal(c.percent, 40)
  // 50 req/s per instance at 40 % headroom: 35.7; ⌈100 / 50⌉ = 2 carry the demand, 1 is headroom.
  const slo = builder.latest?.slo
  assert.ok(slo)
  assert.ok(Math.abs((slo.targetPerInstanceRps ?? 0) - 50 / 1.4) < 1e-9)
  assert.deepEqual(slo.cost, { demandInstances: 2, headroomInstances: 1 })
})
