// withExternalSignals end to end: the real Controller (ManualClock, FakeProvider) scaling on
// external metrics read over HTTP: a real Prometheus (skipped without the binary), a source that
// fails into its fallback, and a source that never answers, which costs its timeout and no more.
import { test, describe, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Controller } from '../../src/controller/reconciler.ts'
import { sameBackend } from '../../src/controller/backend.ts'
import { withExternalSignals, type MetricsSource } from '../../src/controller/metrics-source.ts'
import { ManualClock } from '../../src/core/clock.ts'
import { ExternalSignals } from '../../src/metrics/external/external-signals.ts'
import type { InstanceSample } from '../../src/engine/types.ts'
import { GroupSchema, type GroupSpec } from '../../src/spec/schema.ts'
import { MemoryStateStore } from '../../src/store/state-store.ts'
import { FakeProvider } from '../support/fake-provider.ts'
import { missingBinary } from '../support/system-binaries.ts'
import { startPrometheus, type TestPrometheus } from '../support/prometheus.ts'

const T0 = Date.parse('2026-11-11T00:00:00Z')
const SYNC_MS = 15_000

/** The router's part: every instance at `cpuRatio` (an instantaneous reading at the read's time), no group totals. */
function cpuSource(cpuRatio: number): MetricsSource {
  return {
    read: (_spec, instances, nowMs) => ({ atMs: nowMs, instances: new Map<string, InstanceSample>(instances.map((i) => [i.id, { cpuRatio, cpuAtMs: nowMs, cpuWindowMs: 0 }])), group: {} }),
  }
}

function setup(groups: GroupSpec[]) {
  const clock = new ManualClock(T0)
  const provider = new FakeProvider(clock, 0)
  const external = new ExternalSignals()
  const controller = new Controller({ groups, backend: sameBackend({ provider, signals: withExternalSignals(cpuSource(0.3), external) }), clock, store: new MemoryStateStore() })
  return { clock, provider, external, controller }
}

/** The one result of a one-group tick. */
function only<T>(results: readonly T[]): T {
  assert.equal(results.length, 1)
  const [r] = results
  assert.ok(r !== undefined)
  return r
}

const running = (provider: FakeProvider, group: string): number => [...provider.instances.values()].filter((r) => r.group === group).length

describe('a Prometheus-backed external metric', { skip: missingBinary('prometheus') }, () => {
  let prom: TestPrometheus
  before(async () => {
    prom = await startPrometheus()
  }, { timeout: 60_000 })
  after(async () => {
    await prom.stop()
  })

  test('drives a scale-out when its gauge is raised, and the decision says why', { timeout: 90_000 }, async () => {
    prom.setGauge('orders_queue_depth', 10)
    await prom.waitFor('sum(orders_queue_depth)', 10)
    const spec = GroupSchema.parse({
      group: 'worker',
      provider: 'sim',
      replicas: { min: 1, max: 10 },
      metrics: [{ type: 'external', query: 'sum(orders_queue_depth)', source: { type: 'prometheus', url: prom.url }, target: { averageValue: 10 } }],
    })
    const { clock, provider, controller } = setup([spec])
    const first = only(await controller.reconcileOnce())
    assert.equal(first.decision.to, 1)
    assert.match(first.decision.explanation, /external sum\(orders_queue_depth\) 10 \(10 per instance\)/)

    prom.setGauge('orders_queue_depth', 45)
    await prom.waitFor('sum(orders_queue_depth)', 45)
    clock.advance(SYNC_MS)
    const second = only(await controller.reconcileOnce())
    // ceil(45 / 10) = 5 instances: 4 more.
    assert.equal(second.decision.to, 5)
    assert.equal(second.launched.length, 4)
    assert.equal(running(provider, 'worker'), 5)
    assert.match(second.decision.explanation, /external sum\(orders_queue_depth\) 45 \(45 per instance\) > target 10 per instance/)
  })
})

describe('sources that fail', () => {
  let silent: Server
  let silentUrl = ''
  let refusedUrl = ''
  before(async () => {
    silent = createServer(() => {
      // never answers
    })
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
    silentUrl = `http://127.0.0.1:${(silent.address() as AddressInfo).port}/stats`
    const closed = createServer()
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve))
    refusedUrl = `http://127.0.0.1:${(closed.address() as AddressInfo).port}/stats`
    await new Promise<void>((resolve) => closed.close(() => { resolve(); }))
  })
  after(() => {
    silent.closeAllConnections()
    silent.close()
  })

  test('hold, then the fallback count after failureThreshold failures, in the explanation', async () => {
    const spec = GroupSchema.parse({
      group: 'worker',
      provider: 'sim',
      replicas: { min: 1, max: 10 },
      metrics: [{ type: 'external', query: '$.queue.depth', source: { type: 'http-json', url: refusedUrl }, fallback: { failureThreshold: 2, replicas: 4 }, target: { value: 100 } }],
    })
    const { clock, provider, controller, external } = setup([spec])
    const first = only(await controller.reconcileOnce())
    assert.equal(first.decision.to, 1) // replicas.min: no metric, no scale-out
    assert.match(first.decision.explanation, /external \$\.queue\.depth: no value: source failed 1 time \(ECONNREFUSED\)/)
    clock.advance(SYNC_MS)
    const second = only(await controller.reconcileOnce())
    assert.equal(second.decision.to, 4)
    assert.equal(running(provider, 'worker'), 4)
    assert.match(second.decision.explanation, /external \$\.queue\.depth: source failed 2 times \(ECONNREFUSED\), fallback 4 instances/)
    assert.equal(external.failures('worker').get('$.queue.depth')?.failures, 2)
  })

  test('a source that never answers costs its timeout, and the other group still scales on cpu', { timeout: 10_000 }, async () => {
    const slow = GroupSchema.parse({
      group: 'slow',
      provider: 'sim',
      replicas: { min: 2, max: 10 },
      metrics: [{ type: 'external', query: 'depth', source: { type: 'http-json', url: silentUrl, timeoutSeconds: 0.5 }, target: { value: 100 } }],
    })
    const web = GroupSchema.parse({ group: 'web', provider: 'sim', replicas: { min: 2, max: 10 }, warmupSeconds: 0, metrics: [{ type: 'cpu', target: { averageUtilization: 10 } }] })
    const { clock, provider, controller } = setup([slow, web])
    await controller.reconcileOnce()
    for (const r of provider.instances.values()) provider.markRunning(r.id)
    clock.advance(SYNC_MS)
    const started = performance.now()
    const results = await controller.reconcileOnce()
    const took = performance.now() - started
    assert.ok(took >= 400 && took < 5000, `the tick took ${Math.round(took)} ms`)
    const bySlow = results.find((r) => r.group === 'slow')
    const byWeb = results.find((r) => r.group === 'web')
    assert.ok(bySlow && byWeb)
    assert.match(bySlow.decision.explanation, /external depth: no value: source failed 2 times \(timeout after 0\.5 s\)/)
    assert.equal(bySlow.decision.to, 2)
    // cpu 30 % vs 10 %: 2 → 6.
    assert.equal(byWeb.decision.to, 6)
  })
})
