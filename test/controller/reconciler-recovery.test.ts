/**
 * What a restarted controller finds in the store and does with it (issue 13, docs/chaos.md):
 * the learners' checkpoint brings back the same headroom and vertical recommendation, and the
 * operations a killed tide left pending are completed or rolled back, never launched twice.
 * The real kills at every crash point are test/chaos/crash-points.chaos.ts.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Controller } from '../../src/controller/reconciler.ts'
import { sameBackend } from '../../src/controller/backend.ts'
import { ManualClock } from '../../src/core/clock.ts'
import { MemoryEventLog } from '../../src/store/events.ts'
import { MemoryStateStore, type StateStore } from '../../src/store/state-store.ts'
import type { MetricsSource } from '../../src/controller/metrics-source.ts'
import type { InstanceSample } from '../../src/engine/types.ts'
import { GroupSchema, type GroupSpec } from '../../src/spec/schema.ts'
import { FakeProvider } from '../support/fake-provider.ts'

const T0 = Date.parse('2026-11-11T00:00:00Z')

function group(extra: Record<string, unknown> = {}): GroupSpec {
  return GroupSchema.parse({ group: 'web', provider: 'sim', replicas: { min: 2, max: 20 }, warmupSeconds: 0, metrics: [{ type: 'cpu', target: { averageUtilization: 60 } }], ...extra })
}

/** A wavy demand with per-instance cpu and memory that follow it. */
class Wave implements MetricsSource {
  rps = 100
  read(_spec: GroupSpec, instances: readonly { id: string }[], nowMs: number) {
    this.rps = 100 + 40 * Math.sin(nowMs / 600_000) + 15 * Math.sin(nowMs / 47_000)
    const m = new Map<string, InstanceSample>()
    for (const i of instances) m.set(i.id, { cpuRatio: 0.2 + this.rps / 1000, cpuAtMs: nowMs, cpuWindowMs: 0, rps: this.rps / Math.max(1, instances.length), memoryMiB: 150 + this.rps / 4 })
    return { atMs: nowMs, instances: m, group: { rps: this.rps, latencyMs: { p50: 20, p95: 80, p99: 120 } } }
  }
}

function controllerOver(spec: GroupSpec, store: StateStore, provider: FakeProvider, clock: ManualClock) {
  const events = new MemoryEventLog()
  const controller = new Controller({ groups: [spec], backend: sameBackend({ provider, signals: new Wave() }), clock, events, store, checkpointSeconds: 300 })
  return { controller, events }
}

/** A copy of what a store holds for one group: what a restarted tide would open. */
function copyStore(from: StateStore, g: string): MemoryStateStore {
  const to = new MemoryStateStore()
  const state = from.loadGroupState(g)
  if (state) to.saveGroupState(g, state)
  const learned = from.loadLearnedState(g)
  if (learned) to.saveLearnedState(g, JSON.parse(JSON.stringify(learned)) as typeof learned)
  to.saveOperations(g, from.loadOperations(g))
  return to
}

/** A copy of a provider's instances on another clock-sharing fake (the processes outlive tide). */
function copyProvider(from: FakeProvider, clock: ManualClock): FakeProvider {
  const to = new FakeProvider(clock, 10_000)
  for (const [id, r] of from.instances) to.instances.set(id, { ...r })
  return to
}

test('a restarted controller decides from the checkpoint as the one before would: same headroom, same vertical recommendation, same start-up', async () => {
  const spec = group({ metrics: [], slo: { latencyP95Ms: 200, instanceRps: 60, headroom: { windowDays: 1 } }, vertical: { mode: 'recommend' }, syncPeriodSeconds: 15 })
  const clock = new ManualClock(T0)
  const store = new MemoryStateStore()
  const provider = new FakeProvider(clock, 10_000)
  const first = controllerOver(spec, store, provider, clock)
  // Two hours of ticks: past the learner's hour of history, so the headroom is learned.
  for (let i = 0; i < 480; i++) {
    await first.controller.reconcileOnce()
    clock.advance(15_000)
  }
  const before = first.controller.status('web')
  assert.equal(before?.slo?.headroom?.source, 'learned', 'the case is worth checking: the first tide has learned its headroom')
  assert.ok((before.usageSamples ?? 0) > 100)
  assert.equal(first.controller.checkpoint(), 1)

  // Tide restarts on the same store and instances; the one before goes on alone beside it, as if it
  // had not stopped; a third starts with the group state but not the learners (what tide did before).
  const restartedStore = copyStore(store, 'web')
  const restarted = controllerOver(spec, restartedStore, copyProvider(provider, clock), clock)
  const coldStore = new MemoryStateStore()
  const stateOnly = store.loadGroupState('web')
  assert.ok(stateOnly)
  coldStore.saveGroupState('web', stateOnly)
  const coldStart = controllerOver(spec, coldStore, copyProvider(provider, clock), clock)

  const [a] = await first.controller.reconcileOnce()
  const [b] = await restarted.controller.reconcileOnce()
  const [c] = await coldStart.controller.reconcileOnce()
  assert.ok(a && b && c)
  assert.deepEqual(b.decision.recommendations, a.decision.recommendations, 'the restarted tide recommends what the one before does')
  assert.equal(b.decision.to, a.decision.to)
  const sa = first.controller.status('web')
  const sb = restarted.controller.status('web')
  assert.deepEqual(sb?.slo?.headroom, sa?.slo?.headroom)
  assert.equal(sb?.startupMs, sa?.startupMs)
  assert.equal(sb?.usageSamples, sa?.usageSamples)
  assert.equal(coldStart.controller.status('web')?.slo?.headroom?.source, 'default', 'without the checkpoint: the cold-start default')
  assert.notDeepEqual(c.decision.recommendations, a.decision.recommendations)
  const recovered = restarted.events.list().filter((e) => e.type === 'recovered')
  assert.equal(recovered.length, 1)
  assert.match(recovered[0]?.message ?? '', /restored what web had learned by .*start-up sample\(s\).*usage histograms.*headroom learner/)
  assert.ok(!restarted.events.list().some((e) => e.type === 'decision' && e.decision?.kind === 'hold'), 'an unchanged decision is not announced again after the restart')
})

test('checkpoints: none without checkpointSeconds (the simulator); with it, on the first tick, then every period and on a new start-up sample', async () => {
  const clock = new ManualClock(T0)
  const store = new MemoryStateStore()
  const provider = new FakeProvider(clock, 10_000)
  const none = new Controller({ groups: [group()], backend: sameBackend({ provider, signals: new Wave() }), clock, store })
  await none.reconcileOnce()
  assert.equal(store.loadLearnedState('web'), undefined)

  const store2 = new MemoryStateStore()
  const { controller } = controllerOver(group(), store2, new FakeProvider(clock, 10_000), clock)
  await controller.reconcileOnce()
  assert.equal(store2.loadLearnedState('web')?.atMs, T0)
  clock.advance(15_000) // the instances are ready after 10 s: two start-up samples
  await controller.reconcileOnce()
  assert.deepEqual(store2.loadLearnedState('web')?.startupsMs, [10_000, 10_000])
  assert.equal(store2.loadLearnedState('web')?.atMs, T0 + 15_000)
  clock.advance(15_000)
  await controller.reconcileOnce()
  assert.equal(store2.loadLearnedState('web')?.atMs, T0 + 15_000, 'nothing new learned that must not be lost: the next checkpoint waits its period')
  clock.advance(300_000)
  await controller.reconcileOnce()
  assert.equal(store2.loadLearnedState('web')?.atMs, T0 + 330_000)
})

test('a launch intent whose instances were launched before the kill: adopted as its own, nothing launched again', async () => {
  const clock = new ManualClock(T0)
  const store = new MemoryStateStore()
  const provider = new FakeProvider(clock, 10_000)
  // What a tide killed right after provider.launch left: the decided count saved ahead, the intent pending, the instances running.
  store.saveGroupState('web', { desiredReplicas: 3, size: group().size, history: { recommendations: [], scaleUpEvents: [], scaleDownEvents: [], stepFiredAtMs: {} }, drainingIds: [], protectedIds: [] })
  store.saveOperations('web', [{ id: `launch-${T0}-0`, kind: 'launch', why: 'scale-out', decisionAtMs: T0, startedAtMs: T0, state: 'pending', count: 3, size: group().size, instanceIds: [] }])
  await provider.launch(group(), group().size, 3)
  clock.advance(2_000)
  const { controller, events } = controllerOver(group(), store, provider, clock)
  const [r] = await controller.reconcileOnce()
  assert.ok(r)
  assert.deepEqual(r.launched, [], 'nothing launched twice for one decision')
  assert.equal(provider.instances.size, 3)
  assert.deepEqual(store.loadOperations('web'), [], 'the operation is resolved')
  const recovered = events.list().filter((e) => e.type === 'recovered')
  assert.equal(recovered.length, 1)
  assert.match(recovered[0]?.message ?? '', /launch \(scale-out\) decided at 2026-11-11T00:00:00.000Z of 3 instance\(s\) had launched when tide was killed: i-1, i-2, i-3 adopted/)
  assert.ok(!events.list().some((e) => e.type === 'adopted'), 'its instances are the operation’s, not strangers')
  // Their start-up is measured as for instances launched here.
  clock.advance(15_000)
  await controller.reconcileOnce()
  assert.equal(controller.status('web')?.startupMs, 10_000)
})

test('a launch intent cut before any instance started is rolled back, and the decided count launches once; one cut half-way keeps what started', async () => {
  for (const started of [0, 1]) {
    const clock = new ManualClock(T0)
    const store = new MemoryStateStore()
    const provider = new FakeProvider(clock, 10_000)
    await provider.launch(group(), group().size, 2 + started) // 2 from before, plus what the cut launch started
    store.saveGroupState('web', { desiredReplicas: 4, size: group().size, history: { recommendations: [], scaleUpEvents: [], scaleDownEvents: [], stepFiredAtMs: {} }, drainingIds: [], protectedIds: [] })
    // The two older instances were launched before the intent; the cut one (if any) after.
    for (const r of provider.instances.values()) r.launchedAtMs = T0 - 60_000
    if (started === 1) {
      const last = [...provider.instances.values()].at(-1)
      if (last) last.launchedAtMs = T0 + 100
    }
    store.saveOperations('web', [{ id: `launch-${T0}-0`, kind: 'launch', why: 'scale-out', decisionAtMs: T0, startedAtMs: T0, state: 'pending', count: 2, size: group().size, instanceIds: [] }])
    clock.advance(2_000)
    const { controller, events } = controllerOver(group(), store, provider, clock)
    const [r] = await controller.reconcileOnce()
    assert.ok(r)
    assert.equal(r.launched.length, 2 - started, `${started} started before the kill: the rest launched once`)
    assert.equal(provider.instances.size, 4)
    const message = events.list().find((e) => e.type === 'recovered')?.message ?? ''
    assert.match(message, started === 0 ? /cut by tide's kill before any instance started: rolled back/ : /cut by tide's kill after 1: i-3 adopted; the rest is rolled back/)
  }
})

test('a terminate intent whose instance still runs is completed on restart; one already gone is said to be done', async () => {
  const clock = new ManualClock(T0)
  const store = new MemoryStateStore()
  const provider = new FakeProvider(clock, 0)
  await provider.launch(group(), group().size, 3)
  store.saveGroupState('web', { desiredReplicas: 2, size: group().size, history: { recommendations: [], scaleUpEvents: [], scaleDownEvents: [], stepFiredAtMs: {} }, drainingIds: ['i-3'], protectedIds: [] })
  store.saveOperations('web', [
    { id: `terminate-${T0}-0`, kind: 'terminate', why: 'scale-in', decisionAtMs: T0, startedAtMs: T0, state: 'pending', instanceIds: ['i-3'] },
    { id: `terminate-${T0}-1`, kind: 'terminate', why: 'scale-in', decisionAtMs: T0, startedAtMs: T0, state: 'pending', instanceIds: ['i-9'] },
  ])
  clock.advance(2_000)
  const { controller, events } = controllerOver(group(), store, provider, clock)
  await controller.reconcileOnce()
  assert.deepEqual([...provider.instances.keys()], ['i-1', 'i-2'])
  const recovered = events.list().filter((e) => e.type === 'recovered').map((e) => e.message)
  assert.equal(recovered.length, 2)
  assert.match(recovered[0] ?? '', /terminate \(scale-in\) decided at .* of instance i-3 was cut by tide's kill: completed now/)
  assert.match(recovered[1] ?? '', /of instance i-9 had finished when tide was killed: it is gone/)
  assert.equal(provider.calls.filter((c) => c.method === 'terminate').length, 1)
  assert.deepEqual(store.loadOperations('web'), [])
})
