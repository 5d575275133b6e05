import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Controller, type Drainer } from '../../src/controller/reconciler.ts'
import { ManualClock } from '../../src/controller/clock.ts'
import { MemoryEventLog } from '../../src/controller/events.ts'
import { MemoryStateStore } from '../../src/controller/state-store.ts'
import type { MetricsSource } from '../../src/controller/metrics-source.ts'
import type { InstanceSample } from '../../src/engine/types.ts'
import { GroupSchema, type GroupSpec } from '../../src/spec/schema.ts'
import { FakeProvider } from '../support/fake-provider.ts'

const T0 = Date.parse('2026-11-11T00:00:00Z')

function group(extra: Record<string, unknown> = {}): GroupSpec {
  return GroupSchema.parse({
    group: 'shop-web',
    provider: 'sim',
    replicas: { min: 2, max: 10 },
    warmupSeconds: 0,
    metrics: [{ type: 'cpu', target: { averageUtilization: 60 } }],
    ...extra,
  })
}

/** Every instance the engine shows reports the same cpu, set by the test. */
class FixedCpu implements MetricsSource {
  cpuRatio = 0.6
  read(_spec: GroupSpec, instances: readonly { id: string }[], nowMs: number) {
    const m = new Map<string, InstanceSample>()
    for (const i of instances) m.set(i.id, { cpuRatio: this.cpuRatio })
    return { atMs: nowMs, instances: m, group: {} }
  }
}

function setup(spec = group()) {
  const clock = new ManualClock(T0)
  const provider = new FakeProvider(clock)
  const metrics = new FixedCpu()
  const events = new MemoryEventLog()
  const store = new MemoryStateStore()
  const controller = new Controller({ groups: [spec], provider, metrics, clock, events, store })
  return { clock, provider, metrics, events, store, controller, spec }
}

function readyAll(provider: FakeProvider): void {
  for (const r of provider.instances.values()) if (r.status === 'starting') provider.markRunning(r.id)
}

test('first reconcile launches min replicas', async () => {
  const { provider, controller } = setup()
  const [r] = await controller.reconcileOnce()
  assert.ok(r)
  assert.equal(r.launched.length, 2)
  assert.equal(provider.instances.size, 2)
  assert.equal(controller.status('shop-web')?.desiredReplicas, 2)
})

test('pending instances count: a second reconcile does not launch again', async () => {
  const { provider, controller } = setup()
  await controller.reconcileOnce()
  await controller.reconcileOnce()
  assert.equal(provider.countCalls('launch'), 1)
  assert.equal(provider.instances.size, 2)
})

test('high cpu scales out by the HPA formula and records a decision event', async () => {
  const { provider, controller, metrics, clock, events } = setup()
  await controller.reconcileOnce()
  readyAll(provider)
  clock.advance(15_000)
  metrics.cpuRatio = 0.9 // 2 × 90/60 = 3
  const [r] = await controller.reconcileOnce()
  assert.ok(r)
  assert.equal(r.decision.to, 3)
  assert.equal(r.launched.length, 1)
  assert.equal(provider.instances.size, 3)
  const decisions = events.list().filter((e) => e.type === 'decision')
  assert.ok(decisions.some((e) => e.message.includes('3')), 'the explanation names the new count')
})

test('scale-in drains before it terminates', async () => {
  const { provider, clock, metrics, spec } = setup(group({ behavior: { scaleDown: { stabilizationWindowSeconds: 0 } } }))
  const drained: string[] = []
  let release: () => void = () => undefined
  const gate = new Promise<void>((resolve) => (release = resolve))
  const drainer: Drainer = {
    async drain(_spec, instance) {
      drained.push(instance.id)
      await gate
    },
  }
  const events = new MemoryEventLog()
  const controller = new Controller({ groups: [spec], provider, metrics, clock, events, drainer })
  metrics.cpuRatio = 0.9
  await controller.reconcileOnce() // launches 2
  readyAll(provider)
  clock.advance(15_000)
  await controller.reconcileOnce() // 2 → 3
  readyAll(provider)
  clock.advance(15_000)
  metrics.cpuRatio = 0.2 // 3 × 20/60 = 1 → clamped to min 2
  const [r] = await controller.reconcileOnce()
  assert.ok(r)
  assert.equal(r.decision.to, 2)
  assert.equal(drained.length, 1, 'one instance is draining')
  assert.equal(provider.instances.size, 3, 'not terminated while draining')
  const status = controller.status('shop-web')
  assert.equal(status?.instances.find((i) => i.id === drained[0])?.phase, 'draining')
  release()
  await controller.settle()
  assert.equal(provider.instances.size, 2)
  assert.equal(provider.instances.has(drained[0] ?? ''), false)
  assert.ok(events.list().some((e) => e.type === 'drain-start'))
})

test('a dead instance is replaced', async () => {
  const { provider, controller, clock, events } = setup()
  await controller.reconcileOnce()
  readyAll(provider)
  clock.advance(15_000)
  const victim = [...provider.instances.keys()][0] ?? ''
  provider.markFailed(victim)
  const [r] = await controller.reconcileOnce()
  assert.ok(r)
  assert.deepEqual(r.terminated, [victim])
  assert.equal(r.launched.length, 1)
  assert.equal(provider.instances.size, 2)
  const types = events.list().map((e) => e.type)
  assert.ok(types.includes('instance-failed'))
  assert.ok(types.includes('instance-replaced'))
})

test('a restarted controller adopts running instances and launches nothing', async () => {
  const { provider, controller, clock, metrics, store, spec } = setup()
  await controller.reconcileOnce()
  readyAll(provider)
  clock.advance(15_000)
  const events = new MemoryEventLog()
  const again = new Controller({ groups: [spec], provider, metrics, clock, events, store })
  const [r] = await again.reconcileOnce()
  assert.ok(r)
  assert.equal(r.launched.length, 0)
  assert.equal(provider.instances.size, 2)
  assert.equal(events.list().filter((e) => e.type === 'adopted').length, 2)
})

test('adoption without stored state takes the running count as desired', async () => {
  const { provider, controller, clock, metrics, spec } = setup()
  await controller.reconcileOnce()
  readyAll(provider)
  await provider.launch(spec, spec.size, 2) // 4 running, as left by an earlier tide
  readyAll(provider)
  clock.advance(15_000)
  const fresh = new Controller({ groups: [spec], provider, metrics, clock })
  const [r] = await fresh.reconcileOnce()
  assert.ok(r)
  assert.equal(r.decision.from, 4)
  assert.equal(r.launched.length, 0)
})

test('a failed launch is an event and is retried next tick', async () => {
  const { provider, controller, clock, events } = setup()
  provider.nextError.launch = new Error('capacity unavailable')
  const [r1] = await controller.reconcileOnce()
  assert.ok(r1)
  assert.equal(r1.launched.length, 0)
  assert.ok(events.list().some((e) => e.type === 'launch-failed' && e.message.includes('capacity unavailable')))
  clock.advance(15_000)
  const [r2] = await controller.reconcileOnce()
  assert.ok(r2)
  assert.equal(r2.launched.length, 2)
})

test('protected instances are not removed by scale-in', async () => {
  const { provider, controller, clock, metrics } = setup(group({ replicas: { min: 1, max: 10, initial: 3 }, behavior: { scaleDown: { stabilizationWindowSeconds: 0 } } }))
  await controller.reconcileOnce()
  readyAll(provider)
  const ids = [...provider.instances.keys()]
  for (const id of ids) controller.setProtection('shop-web', id, true)
  clock.advance(15_000)
  metrics.cpuRatio = 0.05
  const [r] = await controller.reconcileOnce()
  assert.ok(r)
  assert.deepEqual(r.terminated, [])
  assert.equal(provider.instances.size, 3)
})
