import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Controller } from '../../src/controller/reconciler.ts'
import { sameBackend, type Traffic } from '../../src/controller/backend.ts'
import { ManualClock } from '../../src/core/clock.ts'
import { MemoryEventLog } from '../../src/store/events.ts'
import { MemoryStateStore } from '../../src/store/state-store.ts'
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

/**
 * Every instance the engine shows reports the same cpu, set by the test: an instantaneous reading
 * at the read's time (cpuAtMs now, a window of 0), so the HPA's cpu rule counts it once the
 * instance is ready.
 */
class FixedCpu implements MetricsSource {
  cpuRatio = 0.6
  read(_spec: GroupSpec, instances: readonly { id: string }[], nowMs: number) {
    const m = new Map<string, InstanceSample>()
    for (const i of instances) m.set(i.id, { cpuRatio: this.cpuRatio, cpuAtMs: nowMs, cpuWindowMs: 0 })
    return { atMs: nowMs, instances: m, group: {} }
  }
}

function setup(spec = group()) {
  const clock = new ManualClock(T0)
  const provider = new FakeProvider(clock)
  const metrics = new FixedCpu()
  const events = new MemoryEventLog()
  const store = new MemoryStateStore()
  const controller = new Controller({ groups: [spec], backend: sameBackend({ provider, signals: metrics }), clock, events, store })
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
  const targets: string[][] = []
  const traffic: Traffic = {
    setTargets(_spec, list) {
      targets.push(list.map((t) => `${t.id}:${t.state}`))
    },
    async drain(_spec, instance) {
      drained.push(instance.id)
      await gate
    },
  }
  const events = new MemoryEventLog()
  const controller = new Controller({ groups: [spec], backend: sameBackend({ provider, signals: metrics, traffic }), clock, events })
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
  // Routing followed the tick: the draining instance finishes its requests and gets no new ones.
  const table = targets.at(-1) ?? []
  assert.equal(table.length, 3)
  assert.ok(table.includes(`${drained[0] ?? ''}:draining`), table.join(' '))
  assert.equal(table.filter((t) => t.endsWith(':in-service')).length, 2)
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
  const again = new Controller({ groups: [spec], backend: sameBackend({ provider, signals: metrics }), clock, events, store })
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
  const fresh = new Controller({ groups: [spec], backend: sameBackend({ provider, signals: metrics }), clock })
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

// --- predictive, vertical and mixed: what the controller feeds the engine, and what it does with the answer.

/** Group rps and per-instance cpu/memory set by the test; every instance the engine shows gets the same sample (cpu as FixedCpu's). */
class Load implements MetricsSource {
  groupRps = 100
  cpuRatio = 0.6
  memoryMiB = 200
  read(_spec: GroupSpec, instances: readonly { id: string }[], nowMs: number) {
    const m = new Map<string, InstanceSample>()
    for (const i of instances) m.set(i.id, { cpuRatio: this.cpuRatio, cpuAtMs: nowMs, cpuWindowMs: 0, rps: this.groupRps / Math.max(1, instances.length), memoryMiB: this.memoryMiB })
    return { atMs: nowMs, instances: m, group: { rps: this.groupRps } }
  }
}

/** A controller over a FakeProvider whose first instances were launched and became ready 15 s ago. */
async function startedWith(spec: GroupSpec, load: Partial<Pick<Load, 'groupRps' | 'cpuRatio' | 'memoryMiB'>>) {
  const clock = new ManualClock(T0)
  const provider = new FakeProvider(clock)
  const metrics = Object.assign(new Load(), load)
  const events = new MemoryEventLog()
  const controller = new Controller({ groups: [spec], backend: sameBackend({ provider, signals: metrics }), clock, events })
  await controller.reconcileOnce()
  readyAll(provider)
  clock.advance(15_000)
  return { clock, provider, controller, events }
}

test('predictive: the controller forecasts from preloaded history, the engine pre-launches, status shows the forecaster', async () => {
  // Three days of a square daily tide: 200 req/s, but 1000 req/s from 12:00 to 18:00 UTC.
  const rpsAt = (sec: number) => (((sec % 86_400) + 86_400) % 86_400 >= 12 * 3600 && ((sec % 86_400) + 86_400) % 86_400 < 18 * 3600 ? 1000 : 200)
  const startSec = T0 / 1000 - 3 * 86_400
  const history = { startSec, stepSeconds: 300, values: Array.from({ length: 3 * 288 }, (_, i) => rpsAt(startSec + i * 300)) }
  const spec = group({ metrics: [{ type: 'rps', target: { averageValue: 100 } }], replicas: { min: 1, max: 20 }, predictive: { mode: 'forecastAndScale', bufferPercent: 0, schedulingBufferSeconds: 60 } })
  const clock = new ManualClock(T0 + 11 * 3600 * 1000 + 58 * 60 * 1000) // 11:58, two minutes before the tide turns
  const provider = new FakeProvider(clock, 0)
  const metrics = new Load()
  metrics.groupRps = 200
  const events = new MemoryEventLog()
  const controller = new Controller({ groups: [spec], backend: sameBackend({ provider, signals: metrics }), clock, events, demandHistory: () => history })
  await controller.reconcileOnce() // launches min
  clock.advance(15_000)
  const [r] = await controller.reconcileOnce()
  assert.ok(r)
  const p = r.decision.recommendations.find((x) => x.policy === 'predictive')
  assert.ok(p, 'the predictive policy spoke')
  // Look-ahead = the 60 s scheduling buffer + sync 15 s from 11:58:15 reaches 11:59:30 — still before noon: 200 req/s → 2.
  assert.equal(p.replicas, 2)
  clock.advance(60_000) // 11:59:15: the look-ahead now reaches 12:00:30, where 1000 req/s → 10 instances
  const [r2] = await controller.reconcileOnce()
  assert.ok(r2)
  assert.equal(r2.decision.recommendations.find((x) => x.policy === 'predictive')?.replicas, 10)
  assert.ok(r2.decision.to > 2, `scaled out ahead of the tide (to ${r2.decision.to})`)
  assert.match(r2.decision.explanation, /predictive/)
  // The forecaster's state is logged when it changes, not every tick: one 'forecast' event so far.
  const forecastEvents = events.list().filter((e) => e.type === 'forecast')
  assert.equal(forecastEvents.length, 1)
  assert.match(forecastEvents[0]?.message ?? '', /req\/s expected within 75 s/)
  const forecast = controller.status('shop-web')?.forecast
  assert.ok(forecast)
  assert.equal(forecast.status, 'ok')
  assert.equal(forecast.fullFits, 1)
  assert.ok(forecast.method)
  // 11:59:15 lies in the 11:55 bucket, forecast at the night level of 200 req/s (the square tide).
  assert.ok(forecast.expectedRps !== undefined && Math.abs(forecast.expectedRps - 200) < 20, `expected ${forecast.expectedRps}`)
})

test('predictive forecastOnly records what it would do and launches nothing for it', async () => {
  const spec = group({ metrics: [{ type: 'rps', target: { averageValue: 100 } }], replicas: { min: 1, max: 20 }, predictive: { mode: 'forecastOnly' } })
  const clock = new ManualClock(T0)
  const provider = new FakeProvider(clock, 0)
  const metrics = new Load()
  const controller = new Controller({ groups: [spec], backend: sameBackend({ provider, signals: metrics }), clock })
  await controller.reconcileOnce()
  clock.advance(15_000)
  const [r] = await controller.reconcileOnce()
  assert.ok(r)
  const p = r.decision.recommendations.find((x) => x.policy === 'predictive')
  assert.ok(p)
  assert.equal(p.advisory, true)
  assert.equal(p.reason, 'InsufficientHistory')
  assert.equal(controller.status('shop-web')?.forecast?.status, 'insufficient-history')
})

test('start-up time is measured from the instances launched here (median of the last five)', async () => {
  const { clock, provider, controller } = setup()
  await controller.reconcileOnce() // 2 launched at T0
  clock.advance(7_000)
  readyAll(provider) // ready after 7 s
  await controller.reconcileOnce()
  assert.equal(controller.status('shop-web')?.startupMs, 7_000)
})

test('vertical auto: a resize replaces instances launch-before-terminate, and never goes below the target while doing it', async () => {
  const sizes = [
    { name: 's', cpu: 0.5, memoryMiB: 256 },
    { name: 'm', cpu: 1, memoryMiB: 512 },
    { name: 'l', cpu: 2, memoryMiB: 1024 },
  ]
  // rps keeps the count at min 2 (150 req/s over 2 × 100), so only the size changes.
  const spec = group({ size: sizes[1], sizes, metrics: [{ type: 'rps', target: { averageValue: 100 } }], vertical: { mode: 'auto', percentile: 90, headroomPercent: 15 } })
  const { clock, provider, controller, events } = await startedWith(spec, { groupRps: 150, cpuRatio: 1.2, memoryMiB: 300 }) // 1.2 cores of 1: needs 1.2 × 1.15 = 1.38 → size l
  const [r] = await controller.reconcileOnce()
  assert.ok(r)
  assert.deepEqual(r.decision.resize?.to, sizes[2])
  assert.ok(events.list().some((e) => e.type === 'resize' && e.message.startsWith('resizing m 1 cpu/512 MiB → l 2 cpu/1024 MiB')))
  const large = [...provider.instances.values()].filter((i) => i.size.cpu === 2)
  assert.equal(large.length, r.decision.to, 'new-size instances launched for the whole target')
  assert.equal(r.terminated.length, 0, 'no old instance goes before the new ones serve')
  readyAll(provider)
  clock.advance(15_000)
  const [r2] = await controller.reconcileOnce()
  assert.ok(r2)
  assert.equal(r2.terminated.length, 2, 'the old ones go once the new ones serve')
  assert.ok([...provider.instances.values()].every((i) => i.size.cpu === 2))
  assert.equal(controller.status('shop-web')?.size.cpu, 2)
})

test('an out-of-memory kill raises the memory the vertical policy asks for', async () => {
  const sizes = [
    { cpu: 1, memoryMiB: 512 },
    { cpu: 1, memoryMiB: 1024 },
  ]
  const spec = group({ size: sizes[0], sizes, vertical: { mode: 'recommend' } })
  const { clock, provider, controller, events } = await startedWith(spec, { cpuRatio: 0.3, memoryMiB: 480 })
  const [before] = await controller.reconcileOnce()
  // 480 MiB × 1.15 = 552 > 512 already asks for the 1024 rung; what matters is the OOM floor below.
  const victim = [...provider.instances.values()][0]
  assert.ok(victim && before)
  const r = provider.instances.get(victim.id)
  if (r) r.meta = { reason: 'OOMKilled' }
  provider.markFailed(victim.id)
  clock.advance(15_000)
  await controller.reconcileOnce()
  assert.ok(events.list().some((e) => e.type === 'instance-failed' && /out of memory at 480 MiB/.test(e.message)))
  clock.advance(15_000)
  const [after] = await controller.reconcileOnce()
  assert.ok(after)
  const v = after.decision.recommendations.find((x) => x.policy === 'vertical')
  assert.ok(v)
  // The OOM floor is max(1.2 × 480, 480 + 100) = 580 MiB: the 1024 rung, advisory in recommend mode.
  assert.equal(v.size?.memoryMiB, 1024)
  assert.equal(v.advisory, true)
  assert.equal(after.decision.resize, undefined, 'recommend never resizes')
})

// Per-group isolation (issue 10, "The controller"): one group's failure never fails another's tick.

/** Two groups, each with its own FakeProvider, both at min 2 and ready after one tick. */
async function twoGroups(opts: { quotas?: { maxInstances: number }; store?: MemoryStateStore } = {}) {
  const clock = new ManualClock(T0)
  const providers = { a: new FakeProvider(clock), b: new FakeProvider(clock) }
  const metrics = new FixedCpu()
  const events = new MemoryEventLog()
  const store = opts.store ?? new MemoryStateStore()
  const specs = [group({ group: 'a' }), group({ group: 'b' })]
  const controller = new Controller({
    groups: specs,
    backend: (spec) => ({ provider: spec.group === 'a' ? providers.a : providers.b, signals: metrics }),
    clock,
    events,
    store,
    ...(opts.quotas === undefined ? {} : { quotas: opts.quotas }),
  })
  await controller.reconcileOnce()
  readyAll(providers.a)
  readyAll(providers.b)
  clock.advance(15_000)
  return { clock, providers, metrics, events, store, controller }
}

const failuresOf = (events: MemoryEventLog, g: string) => events.list().filter((e) => e.type === 'reconcile-failed' && e.group === g)

test('a group whose provider.list throws is left out; another group scales out in the same tick', async () => {
  const { providers, metrics, events, controller, clock } = await twoGroups()
  metrics.cpuRatio = 0.9 // 2 × 90/60 = 3
  providers.a.nextError.list = new Error('api unreachable')
  const results = await controller.reconcileOnce()
  assert.deepEqual(results.map((r) => r.group), ['b'])
  assert.equal(results[0]?.decision.to, 3)
  assert.equal(providers.b.instances.size, 3, 'b launched its third instance')
  assert.equal(providers.a.countCalls('launch'), 1, 'a launched nothing this tick')
  const failures = failuresOf(events, 'a')
  assert.equal(failures.length, 1)
  assert.match(failures[0]?.message ?? '', /provider\.list failed: api unreachable/)
  assert.match(failures[0]?.message ?? '', /count stays at 2/)
  assert.equal(failuresOf(events, 'b').length, 0)

  // Still failing: no second event in the same streak.
  clock.advance(15_000)
  providers.a.nextError.list = new Error('api unreachable')
  assert.deepEqual((await controller.reconcileOnce()).map((r) => r.group), ['b'])
  assert.equal(failuresOf(events, 'a').length, 1, 'once per failure streak, not every tick')

  // Recovered: a reconciles again and scales out too.
  clock.advance(15_000)
  const recovered = await controller.reconcileOnce()
  assert.deepEqual(recovered.map((r) => r.group), ['a', 'b'])
  assert.equal(recovered[0]?.decision.to, 3)
  assert.equal(providers.a.instances.size, 3)

  // A new failure after a success is a new streak: a new event.
  clock.advance(15_000)
  providers.a.nextError.list = new Error('api unreachable again')
  await controller.reconcileOnce()
  assert.equal(failuresOf(events, 'a').length, 2)
  assert.match(failuresOf(events, 'a')[1]?.message ?? '', /api unreachable again/)
})

test('a metrics read that throws for one group names the step and spares the other group', async () => {
  const { metrics, events, controller } = await twoGroups()
  const read = metrics.read.bind(metrics)
  metrics.read = (spec, instances, nowMs) => {
    if (spec.group === 'b') throw new Error('prometheus timed out')
    return read(spec, instances, nowMs)
  }
  metrics.cpuRatio = 0.9
  const results = await controller.reconcileOnce()
  assert.deepEqual(results.map((r) => [r.group, r.decision.to]), [['a', 3]])
  assert.match(failuresOf(events, 'b')[0]?.message ?? '', /metrics\.read failed: prometheus timed out/)
})

test('a failed group still counts its stored count toward the fleet quota', async () => {
  // 2 + 2 running, quota 5: with a unobserved (its stored 2 still counted), b may grow to 3, not to the 4 it wants.
  const { providers, metrics, events, controller } = await twoGroups({ quotas: { maxInstances: 5 } })
  metrics.cpuRatio = 1.2 // 2 × 120/60 = 4 wanted
  providers.a.nextError.list = new Error('api unreachable')
  const results = await controller.reconcileOnce()
  assert.deepEqual(results.map((r) => r.group), ['b'])
  assert.equal(results[0]?.decision.to, 3, 'b gets only the room a leaves under the quota')
  assert.equal(providers.b.instances.size, 3)
  assert.equal(failuresOf(events, 'a').length, 1)
})

test('an act failure of one group does not stop the others, and is an event', async () => {
  class FailingSave extends MemoryStateStore {
    failFor: string | undefined
    override saveGroupState(group: string, state: Parameters<MemoryStateStore['saveGroupState']>[1]): void {
      if (group === this.failFor) throw new Error('disk full')
      super.saveGroupState(group, state)
    }
  }
  const store = new FailingSave()
  const { providers, metrics, events, controller } = await twoGroups({ store })
  store.failFor = 'a'
  metrics.cpuRatio = 0.9
  const results = await controller.reconcileOnce()
  assert.deepEqual(results.map((r) => r.group), ['b'])
  assert.equal(providers.b.instances.size, 3)
  assert.match(failuresOf(events, 'a')[0]?.message ?? '', /act failed: disk full/)
})

test('lastTickTimings names and times observe, decide and act', async () => {
  const clock = new ManualClock(T0)
  const provider = new FakeProvider(clock)
  const slow: typeof provider = Object.create(provider) as typeof provider
  slow.list = async (spec) => {
    await new Promise((resolve) => setTimeout(resolve, 30))
    return provider.list(spec)
  }
  const controller = new Controller({ groups: [group()], backend: sameBackend({ provider: slow, signals: new FixedCpu() }), clock })
  assert.equal(controller.lastTickTimings(), undefined)
  await controller.reconcileOnce()
  const t = controller.lastTickTimings()
  assert.ok(t)
  assert.equal(t.atMs, T0, 'the tick is stamped with the injected clock')
  assert.ok(t.observeMs >= 25, `observe includes the 30 ms list (got ${t.observeMs})`)
  for (const ms of [t.decideMs, t.actMs]) assert.ok(Number.isFinite(ms) && ms >= 0)
})

// Groups on their own sync periods, and groups changed while running (issue 10, "The controller" and "Groups change while tide runs").

/** Groups each with its own FakeProvider and a Traffic that records drains (released by `release()`) and routing tables. */
function liveGroups(specs: GroupSpec[]) {
  const clock = new ManualClock(T0)
  const providers = new Map<string, FakeProvider>()
  const metrics = new FixedCpu()
  const events = new MemoryEventLog()
  const store = new MemoryStateStore()
  const drained: string[] = []
  const tables = new Map<string, string[]>()
  const removed: string[] = []
  let release: () => void = () => undefined
  let gate = new Promise<void>((resolve) => (release = resolve))
  const traffic: Traffic = {
    setTargets(spec, list) {
      tables.set(spec.group, list.map((t) => `${t.id}:${t.state}`))
    },
    async drain(_spec, instance) {
      drained.push(instance.id)
      await gate
    },
  }
  const providerOf = (g: string): FakeProvider => {
    let p = providers.get(g)
    if (p === undefined) providers.set(g, (p = new FakeProvider(clock)))
    return p
  }
  const controller = new Controller({
    groups: specs,
    backend: (spec) => ({ provider: providerOf(spec.group), signals: metrics, traffic }),
    clock,
    events,
    store,
    onGroupRemoved: (spec) => removed.push(spec.group),
  })
  const readyEvery = () => {
    for (const p of providers.values()) readyAll(p)
  }
  const openGate = () => {
    release()
    gate = new Promise<void>((resolve) => (release = resolve))
  }
  return { clock, providerOf, metrics, events, store, controller, drained, tables, removed, readyEvery, openGate }
}

test('reconcileDue ticks each group on its own sync period', async () => {
  const { controller, clock } = liveGroups([group({ group: 'fast', syncPeriodSeconds: 5 }), group({ group: 'slow', syncPeriodSeconds: 15 })])
  const ticked: string[][] = []
  for (let s = 0; s <= 30; s++) {
    ticked.push((await controller.reconcileDue()).map((r) => r.group))
    clock.advance(1000)
  }
  const at = (name: string) => ticked.flatMap((groups, s) => (groups.includes(name) ? [s] : []))
  assert.deepEqual(at('fast'), [0, 5, 10, 15, 20, 25, 30])
  assert.deepEqual(at('slow'), [0, 15, 30])
  assert.equal(controller.nextDueMs(), T0 + 31_000 + 4000, 'the next due is fast\'s, at 35 s')
})

test('reconcileDue after a long stall ticks once and keeps the period\'s phase (never twice in a row)', async () => {
  const { controller, clock } = liveGroups([group({ group: 'g', syncPeriodSeconds: 10 })])
  await controller.reconcileDue()
  clock.advance(37_000) // three periods missed
  assert.equal((await controller.reconcileDue()).length, 1)
  assert.equal((await controller.reconcileDue()).length, 0, 'not due again at once')
  assert.equal(controller.nextDueMs(), T0 + 40_000)
})

test('applyGroups: an added group is reconciled from the next tick; routing follows each tick', async () => {
  const { controller, providerOf, events, tables, readyEvery, clock } = liveGroups([group({ group: 'a' })])
  await controller.reconcileOnce()
  const changes = controller.applyGroups([group({ group: 'a' }), group({ group: 'b', replicas: { min: 3, max: 5 } })])
  assert.deepEqual(changes, { added: ['b'], changed: [], removed: [] })
  assert.ok(events.list().some((e) => e.type === 'group-added' && e.group === 'b'))
  const results = await controller.reconcileOnce()
  assert.deepEqual(results.map((r) => r.group), ['a', 'b'])
  assert.equal(providerOf('b').instances.size, 3)
  readyEvery()
  clock.advance(15_000)
  await controller.reconcileOnce()
  assert.equal(tables.get('b')?.filter((t) => t.endsWith(':in-service')).length, 3, 'b\'s three instances are routed')
})

test('applyGroups: a changed group keeps its instances and takes the new settings on the next tick', async () => {
  const { controller, providerOf, events, readyEvery, clock } = liveGroups([group({ group: 'a' })])
  await controller.reconcileOnce()
  readyEvery()
  const before = [...providerOf('a').instances.keys()]
  const changes = controller.applyGroups([group({ group: 'a', replicas: { min: 4, max: 10 } })])
  assert.deepEqual(changes, { added: [], changed: ['a'], removed: [] })
  assert.match(events.list().find((e) => e.type === 'group-changed')?.message ?? '', /\(replicas\)/)
  clock.advance(15_000)
  const [r] = await controller.reconcileOnce()
  assert.equal(r?.decision.to, 4)
  assert.equal(providerOf('a').instances.size, 4)
  for (const id of before) assert.ok(providerOf('a').instances.has(id), `${id} kept`)
  assert.deepEqual(controller.applyGroups([group({ group: 'a', replicas: { min: 4, max: 10 } })]), { added: [], changed: [], removed: [] }, 'the same spec again changes nothing')
})

test('applyGroups: a removed group\'s instances are drained, then terminated, then the group is forgotten', async () => {
  const { controller, providerOf, events, store, drained, tables, removed, readyEvery, openGate, clock } = liveGroups([group({ group: 'a' }), group({ group: 'b' })])
  await controller.reconcileOnce()
  readyEvery()
  clock.advance(15_000)
  await controller.reconcileOnce()
  const bIds = [...providerOf('b').instances.keys()]
  assert.deepEqual(controller.applyGroups([group({ group: 'a' })]).removed, ['b'])
  assert.deepEqual(controller.groups().map((g) => g.group), ['a'])
  assert.deepEqual(controller.removingGroups().map((g) => g.group), ['b'])
  clock.advance(1000)
  const results = await controller.reconcileOnce()
  assert.deepEqual(results.map((r) => r.group), ['a'], 'b decides no more')
  assert.deepEqual([...drained].sort(), [...bIds].sort(), 'every instance of b is draining')
  assert.deepEqual(tables.get('b'), bIds.map((id) => `${id}:draining`), 'b\'s instances finish their requests and get no new ones')
  assert.equal(providerOf('b').instances.size, 2, 'not terminated while draining')
  assert.deepEqual(removed, [])
  openGate()
  await controller.settle()
  assert.equal(providerOf('b').instances.size, 0, 'terminated after the drain')
  await controller.reconcileOnce()
  assert.deepEqual(removed, ['b'], 'onGroupRemoved once the last instance is gone')
  assert.deepEqual(controller.removingGroups(), [])
  assert.equal(store.loadGroupState('b'), undefined, 'its stored state is forgotten')
  assert.equal(controller.status('b'), undefined)
  const bEvents = events.list().filter((e) => e.group === 'b' && e.type === 'group-removed').map((e) => e.message)
  assert.equal(bEvents.length, 2)
  assert.match(bEvents[1] ?? '', /is gone/)
  await controller.reconcileOnce()
  assert.deepEqual(removed, ['b'], 'called once')
  assert.equal(providerOf('a').instances.size, 2, 'a untouched')
})

test('applyGroups: a group removed and added back before its instances are gone keeps them', async () => {
  const { controller, providerOf, readyEvery, openGate, clock, drained } = liveGroups([group({ group: 'a' })])
  await controller.reconcileOnce()
  readyEvery()
  controller.applyGroups([])
  controller.applyGroups([group({ group: 'a' })])
  clock.advance(15_000)
  const [r] = await controller.reconcileOnce()
  assert.equal(r?.decision.to, 2)
  assert.deepEqual(drained, [])
  openGate()
  assert.equal(providerOf('a').instances.size, 2)
})

test('a paused group holds its count with the reason PausedByOperator, in status and events; resumed, it scales again', async () => {
  const { provider, controller, metrics, clock, events } = setup()
  await controller.reconcileOnce()
  readyAll(provider)
  assert.equal(controller.setPaused('shop-web', true), true)
  assert.equal(controller.setPaused('shop-web', true), false, 'already paused: nothing changes')
  assert.equal(controller.setPaused('no-such-group', true), false)
  assert.deepEqual(controller.status('shop-web')?.paused, { sinceMs: T0 }, 'status says so before the next tick')
  assert.equal(events.list().filter((e) => e.type === 'group-paused').length, 1)

  clock.advance(15_000)
  metrics.cpuRatio = 0.9 // unpaused: 2 × 90/60 = 3
  const [held] = await controller.reconcileOnce()
  assert.equal(held?.decision.kind, 'hold')
  assert.equal(held.decision.to, 2)
  assert.equal(held.decision.reason, 'PausedByOperator')
  assert.match(held.decision.explanation, /^held at 2: paused by the operator \(it would scale 2→3: /)
  assert.equal(held.launched.length, 0)
  assert.equal(provider.instances.size, 2)
  assert.equal(controller.status('shop-web')?.lastDecision?.reason, 'PausedByOperator')
  assert.ok(events.list().some((e) => e.type === 'decision' && e.decision?.reason === 'PausedByOperator'))

  assert.equal(controller.setPaused('shop-web', false), true)
  assert.equal(controller.status('shop-web')?.paused, undefined)
  assert.equal(events.list().filter((e) => e.type === 'group-resumed').length, 1)
  clock.advance(15_000)
  const [resumed] = await controller.reconcileOnce()
  assert.equal(resumed?.decision.to, 3)
  assert.equal(resumed.launched.length, 1)
})

test('protecting an instance is an event once per change', () => {
  const { controller, events } = setup()
  controller.setProtection('shop-web', 'i-1', true)
  controller.setProtection('shop-web', 'i-1', true)
  controller.setProtection('shop-web', 'i-1', false)
  assert.deepEqual(
    events.list().map((e) => [e.type, e.instanceId]),
    [
      ['instance-protected', 'i-1'],
      ['instance-unprotected', 'i-1'],
    ],
  )
})

test('the status carries the backend\'s traffic state and a provider back-off in force, as plain data', async () => {
  const clock = new ManualClock(T0)
  const provider = new FakeProvider(clock)
  let active = false
  const traffic: Traffic = {
    setTargets() {},
    async drain() {},
    state: () => ({ backup: { active, sinceMs: T0, targets: ['127.0.0.1:9999'] } }),
  }
  const controller = new Controller({ groups: [group()], backend: sameBackend({ provider, signals: new FixedCpu(), traffic }), clock })
  await controller.reconcileOnce()
  assert.deepEqual(controller.status('shop-web')?.routing, { backup: { active: false, sinceMs: T0, targets: ['127.0.0.1:9999'] } })
  active = true
  clock.advance(15_000)
  await controller.reconcileOnce()
  assert.equal(controller.status('shop-web')?.routing?.backup?.active, true)
  assert.equal(controller.status('shop-web')?.providerBackoff, undefined)
  const s = controller.status('shop-web')
  assert.deepEqual(JSON.parse(JSON.stringify(s)), s)
})

// ── Operator commands: manual scale, standby, and what survives a restart ────────────────────

/** A controller over `store` with a traffic that records its targets and detaches at once (or when `gate` opens). */
function withTraffic(store = new MemoryStateStore(), spec = group(), provider?: FakeProvider, clock = new ManualClock(T0)) {
  const p = provider ?? new FakeProvider(clock)
  const metrics = new FixedCpu()
  const events = new MemoryEventLog()
  const targets: string[][] = []
  const detached: string[] = []
  let release: () => void = () => undefined
  const gate = new Promise<void>((resolve) => (release = resolve))
  const traffic: Traffic = {
    setTargets(_spec, list) {
      targets.push(list.map((t) => `${t.id}:${t.state}`))
    },
    drain: () => Promise.resolve(),
    async detach(_spec, id) {
      detached.push(id)
      await gate
    },
  }
  const controller = new Controller({ groups: [spec], backend: sameBackend({ provider: p, signals: metrics, traffic }), clock, events, store })
  return { controller, provider: p, metrics, events, targets, detached, release, clock, store, spec }
}

test('manual scale: held at the count asked within max, said in status and events; it ends at its time and the engine decides again', async () => {
  const { controller, provider, clock, events, metrics } = withTraffic()
  await controller.reconcileOnce()
  readyAll(provider)
  assert.equal(controller.setManualScale('shop-web', 25, T0 + 60_000), true)
  assert.equal(controller.setManualScale('nope', 3, T0 + 60_000), false)
  assert.deepEqual(controller.status('shop-web')?.override, { desired: 25, untilMs: T0 + 60_000, reason: 'held at 10 until 2026-11-11T00:01:00.000Z (max 10; asked 25)' })
  assert.match(events.list().find((e) => e.type === 'manual-scale')?.message ?? '', /^shop-web held at 10 until 2026-11-11T00:01:00.000Z \(max 10; asked 25\)/)
  clock.advance(15_000)
  const [r] = await controller.reconcileOnce()
  assert.equal(r?.decision.reason, 'ManualScale')
  assert.equal(r.decision.to, 10)
  assert.equal(r.launched.length, 8, '2 → 10 at once: no rate limit on a hand on the wheel')
  assert.match(r.decision.explanation, /^scaled 2→10 by the operator's manual scale \(asked 25; capped at max 10\) \(the engine alone: held at 2/)
  readyAll(provider)
  // A held group still replaces an unhealthy instance.
  provider.markFailed('i-3')
  clock.advance(15_000)
  const [replaced] = await controller.reconcileOnce()
  assert.equal(replaced?.decision.to, 10)
  assert.deepEqual(replaced.terminated, ['i-3'])
  assert.equal(replaced.launched.length, 1)
  readyAll(provider)
  clock.advance(30_000) // past untilMs
  metrics.cpuRatio = 0.6
  const [after] = await controller.reconcileOnce()
  assert.notEqual(after?.decision.reason, 'ManualScale')
  assert.equal(controller.status('shop-web')?.override, undefined)
  assert.match(events.list().find((e) => e.type === 'manual-scale-ended')?.message ?? '', /manual scale of shop-web to 25 ended \(its hold ended at 2026-11-11T00:01:00.000Z\)/)
})

test('manual scale: cleared by the operator, it ends at once', async () => {
  const { controller, provider, clock, events } = withTraffic()
  await controller.reconcileOnce()
  readyAll(provider)
  controller.setManualScale('shop-web', 4, T0 + 3_600_000)
  assert.equal(controller.clearManualScale('shop-web'), true)
  assert.equal(controller.clearManualScale('shop-web'), false, 'nothing in force')
  clock.advance(15_000)
  const [r] = await controller.reconcileOnce()
  assert.equal(r?.decision.to, 2)
  assert.match(events.list().find((e) => e.type === 'manual-scale-ended')?.message ?? '', /cleared by the operator/)
})

test('standby (decrement): out of the targets once drained, not counted, not a scale-in candidate, desired one less; back in service it is a target again and desired one more', async () => {
  const { controller, provider, clock, events, targets, detached, release } = withTraffic(new MemoryStateStore(), group({ replicas: { min: 1, max: 10, initial: 2 } }))
  await controller.reconcileOnce()
  readyAll(provider)
  clock.advance(15_000)
  await controller.reconcileOnce()
  const refusedPending = controller.enterStandby('shop-web', 'i-9', true)
  assert.deepEqual(refusedPending, { done: false, refused: 'instance i-9 is not observed yet: only a serving instance (in-service or warming) can enter standby' })
  const r = controller.enterStandby('shop-web', 'i-1', true)
  assert.deepEqual(r.done && r.desiredReplicas, { from: 2, to: 1 })
  assert.deepEqual(detached, ['i-1'])
  assert.deepEqual(controller.enterStandby('shop-web', 'i-1', false), { done: false, refused: 'instance i-1 is already in standby' })
  clock.advance(15_000)
  await controller.reconcileOnce()
  assert.deepEqual(targets.at(-1), ['i-1:draining', 'i-2:in-service'], 'its requests finish before it leaves the targets')
  release()
  await controller.settle()
  clock.advance(15_000)
  const [held] = await controller.reconcileOnce()
  assert.deepEqual(targets.at(-1), ['i-2:in-service'], 'drained: out of the targets')
  assert.equal(controller.status('shop-web')?.instances.find((i) => i.id === 'i-1')?.phase, 'standby')
  assert.equal(provider.instances.get('i-1')?.status, 'running', 'it keeps running')
  assert.deepEqual(held?.launched, [], 'decremented: nothing replaces it')
  assert.deepEqual(events.list().filter((e) => e.type === 'instance-standby').map((e) => e.message), [
    "instance i-1 entering standby by the operator: drained, then out of the router's targets; it keeps running. Desired 2→1: nothing replaces it",
    "instance i-1 in standby: no request in flight, out of the router's targets",
  ])
  const back = controller.exitStandby('shop-web', 'i-1')
  assert.deepEqual(back.done && back.desiredReplicas, { from: 1, to: 2 })
  assert.deepEqual(controller.exitStandby('shop-web', 'i-1'), { done: false, refused: 'instance i-1 is not in standby' })
  clock.advance(15_000)
  await controller.reconcileOnce()
  assert.deepEqual(targets.at(-1), ['i-1:in-service', 'i-2:in-service'])
  assert.equal(events.list().filter((e) => e.type === 'instance-in-service').length, 1)
})

test('standby without decrement: a replacement is launched; below min with decrement is refused; a group tide does not route refuses standby', async () => {
  const { controller, provider, clock } = withTraffic()
  await controller.reconcileOnce()
  readyAll(provider)
  clock.advance(15_000)
  await controller.reconcileOnce()
  assert.deepEqual(controller.enterStandby('shop-web', 'i-1', true), {
    done: false,
    refused: "decrementing the desired count 2 would take it below min 2: keep it (decrementDesired false, 'tide standby --no-decrement') so a replacement is launched",
  })
  assert.equal(controller.enterStandby('shop-web', 'i-1', false).done, true)
  clock.advance(15_000)
  const [r] = await controller.reconcileOnce()
  assert.equal(r?.decision.to, 2)
  assert.deepEqual(r.launched, ['i-3'], 'the replacement keeps the desired 2 serving')
  assert.ok(!r.decision.scaleInCandidates.includes('i-1'))
  const bare = setup()
  await bare.controller.reconcileOnce()
  readyAll(bare.provider)
  await bare.controller.reconcileOnce()
  const refused = bare.controller.enterStandby('shop-web', 'i-1', false)
  assert.match(refused.done ? '' : refused.refused, /has no router tide controls: standby needs one/)
})

test('a restarted controller restores the pause, the manual scale and the standby instances from the store', async () => {
  const store = new MemoryStateStore()
  const clock = new ManualClock(T0)
  const first = withTraffic(store, group(), undefined, clock)
  await first.controller.reconcileOnce()
  readyAll(first.provider)
  clock.advance(15_000)
  await first.controller.reconcileOnce()
  first.controller.setPaused('shop-web', true)
  first.controller.setManualScale('shop-web', 5, T0 + 3_600_000)
  assert.equal(first.controller.enterStandby('shop-web', 'i-2', false).done, true)
  first.release()
  await first.controller.settle()

  const second = withTraffic(store, group(), first.provider, clock)
  assert.equal(second.controller.isPaused('shop-web'), true, 'paused before its first tick')
  assert.equal(second.controller.manualScale('shop-web')?.desired, 5)
  clock.advance(15_000)
  await second.controller.reconcileOnce()
  const status = second.controller.status('shop-web')
  assert.ok(status)
  assert.deepEqual(status.paused, { sinceMs: T0 + 15_000 })
  assert.equal(status.override?.desired, 5)
  assert.equal(status.instances.find((i) => i.id === 'i-2')?.phase, 'standby')
  assert.ok(!second.targets.at(-1)?.some((t) => t.startsWith('i-2:')), 'not routed after the restart')
  second.controller.setPaused('shop-web', false)
  second.controller.clearManualScale('shop-web')
  second.controller.exitStandby('shop-web', 'i-2')
  assert.equal(store.loadOperatorState('shop-web'), undefined, 'nothing set: nothing kept')
})
