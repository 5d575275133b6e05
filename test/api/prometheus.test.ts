/**
 * `tide_risk_eta_seconds{group,kind}` (src/api/prometheus.ts) read from a real Controller on a
 * ManualClock whose demand ramps towards its max: the gauge carries the radar's ETA while it sees
 * the risk, and no series when it sees none. The rest of /metrics is covered over real HTTP with a
 * running tide in test/api/event-stream.test.ts; a radar risk needs minutes of a demand trend,
 * which a virtual clock gives at once.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { tideMetrics } from '../../src/api/prometheus.ts'
import type { TideService } from '../../src/app/tide-service.ts'
import { sameBackend } from '../../src/controller/backend.ts'
import type { MetricsSource } from '../../src/controller/metrics-source.ts'
import { Controller } from '../../src/controller/reconciler.ts'
import { ManualClock } from '../../src/core/clock.ts'
import { GroupSchema, type GroupSpec } from '../../src/spec/schema.ts'
import { FakeProvider } from '../support/fake-provider.ts'

class Demand implements MetricsSource {
  rps = 0
  read(_spec: GroupSpec, _instances: readonly unknown[], nowMs: number) {
    return { atMs: nowMs, instances: new Map(), group: { rps: this.rps } }
  }
}

test('tide_risk_eta_seconds: the ETA while the radar sees the max ahead, nothing before', async () => {
  const clock = new ManualClock(Date.parse('2026-11-11T08:00:00Z'))
  const provider = new FakeProvider(clock)
  const demand = new Demand()
  const spec = GroupSchema.parse({ group: 'shop-web', provider: 'sim', replicas: { min: 1, max: 10 }, warmupSeconds: 0, metrics: [{ type: 'rps', target: { averageValue: 50 } }] })
  const controller = new Controller({ groups: [spec], backend: sameBackend({ provider, signals: demand }), clock })
  // The part of the service tideMetrics reads: events to count (none here), the controller, no routers.
  const service = { subscribe: () => () => undefined, runtime: { controller, routers: new Map() } } as unknown as TideService
  const metrics = tideMetrics(service)
  try {
    const scrape = async (): Promise<string> => metrics.registry.metrics()
    await controller.reconcileOnce()
    assert.doesNotMatch(await scrape(), /^tide_risk_eta_seconds\{/m)
    // 200 req/s + 10 req/s a minute for 12 minutes, a reading every 15 s: max 10 × 50 req/s is reached at minute 30.
    for (let k = 0; k < 48; k++) {
      clock.advance(15_000)
      demand.rps = 200 + (10 * (k + 1)) / 4
      await controller.reconcileOnce()
    }
    const eta = controller.status('shop-web')?.risks?.[0]?.etaSeconds
    assert.ok(eta !== undefined && eta > 900 && eta < 1300, `${eta}`)
    const text = await scrape()
    assert.match(text, /^# TYPE tide_risk_eta_seconds gauge$/m)
    assert.match(text, new RegExp(`^tide_risk_eta_seconds\\{group="shop-web",kind="max"\\} ${eta}$`, 'm'))
  } finally {
    metrics.close()
  }
})
