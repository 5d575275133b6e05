/**
 * The risk radar in the controller (src/controller/risk-recorder.ts and its use in
 * reconciler.ts): the recorder's window and budget burn, episodes announced once and cleared
 * once, and a real Controller on a ManualClock whose demand ramps towards its max (then a quota),
 * then flattens: the status carries the risk with an ETA within ±20 % of the truth, one `risk`
 * event for the episode, one `risk-cleared` when it is gone, and nothing on flat traffic; the
 * same two reach a webhook subscribed to `risk` over real HTTP on 127.0.0.1.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Controller } from '../../src/controller/reconciler.ts'
import { sameBackend } from '../../src/controller/backend.ts'
import type { MetricsSource } from '../../src/controller/metrics-source.ts'
import { RISK_CLEAR_AFTER_MS, RiskRecorder } from '../../src/controller/risk-recorder.ts'
import { ManualClock } from '../../src/core/clock.ts'
import type { FleetQuotas } from '../../src/engine/types.ts'
import { GroupSchema, type GroupSpec } from '../../src/spec/schema.ts'
import { fanOut, MemoryEventLog } from '../../src/store/events.ts'
import { WebhookAlerts } from '../../src/alerts/webhook.ts'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { FakeProvider } from '../support/fake-provider.ts'

const T0 = Date.parse('2026-11-11T08:00:00Z')
const MIN = 60_000

test('RiskRecorder keeps the window of demand and reads the budget burn over it', () => {
  const r = new RiskRecorder()
  for (let k = 0; k <= 60; k++) {
    const atMs = T0 + k * 15_000
    // Violating one window in three from minute 10 on: 5 s of each 15 s.
    const violated = k <= 40 ? 0 : (k - 40) * 5
    r.observe(atMs, 100 + k, { budgetPercent: 0.5, todayMeasuredSeconds: 3600 + k * 15, todayViolatedPercent: (violated / (3600 + k * 15)) * 100, weekViolatedPercent: 0, weekMeasuredSeconds: 0 })
  }
  // 15 minutes recorded; the last 10 kept: readings 20…60.
  assert.equal(r.demand.length, 41)
  assert.equal(r.demand[0]?.rps, 120)
  const b = r.budget(0.5)
  assert.ok(b !== undefined)
  // Over the window (k = 20 … 60): 600 s measured, 100 s violated.
  assert.ok(Math.abs(b.recentMeasuredSeconds - 600) < 1e-6)
  assert.ok(Math.abs(b.recentViolatedSeconds - 100) < 1e-6)
  assert.ok(Math.abs(b.todayViolatedSeconds - 100) < 1e-6)
})

test('RiskRecorder episodes: raised once, cleared once after the kind has been absent a while', () => {
  const r = new RiskRecorder()
  const risk = { kind: 'max' as const, etaSeconds: 600, message: 'm', basis: 'trend' as const }
  assert.deepEqual(r.episodes(T0, [risk]), { raised: [risk], cleared: [] })
  assert.deepEqual(r.episodes(T0 + 15_000, [{ ...risk, etaSeconds: 585 }]), { raised: [], cleared: [] })
  assert.deepEqual(r.episodes(T0 + 30_000, []), { raised: [], cleared: [] }, 'one tick without it: not yet gone')
  assert.deepEqual(r.episodes(T0 + 15_000 + RISK_CLEAR_AFTER_MS, []), { raised: [], cleared: ['max'] })
  assert.deepEqual(r.episodes(T0 + 16_000 + RISK_CLEAR_AFTER_MS, []), { raised: [], cleared: [] })
})

/** Group demand set by the test, read once per sync period. */
class Demand implements MetricsSource {
  rps = 0
  read(_spec: GroupSpec, _instances: readonly unknown[], nowMs: number) {
    return { atMs: nowMs, instances: new Map(), group: { rps: this.rps } }
  }
}

function setup(quotas?: FleetQuotas, alerts?: { webhook: string; on: string[] }[]) {
  const clock = new ManualClock(T0)
  const provider = new FakeProvider(clock)
  const demand = new Demand()
  const events = new MemoryEventLog()
  // 50 req/s per instance, max 10: 500 req/s is the most it can carry.
  const spec = GroupSchema.parse({ group: 'shop-web', provider: 'sim', replicas: { min: 1, max: 10 }, warmupSeconds: 0, metrics: [{ type: 'rps', target: { averageValue: 50 } }], ...(alerts === undefined ? {} : { alerts }) })
  const webhooks = alerts === undefined ? undefined : new WebhookAlerts({ groups: [spec], clock, baseDelayMs: 10 })
  const sink = webhooks === undefined ? events : fanOut(events, webhooks)
  const controller = new Controller({ groups: [spec], backend: sameBackend({ provider, signals: demand }), clock, events: sink, ...(quotas === undefined ? {} : { quotas }) })
  /** Runs sync periods of 15 s for `minutes`, demand `rps(t)` (t: minutes from T0), all instances ready. */
  const run = async (minutes: number, rps: (t: number) => number): Promise<void> => {
    for (let k = 0; k < minutes * 4; k++) {
      demand.rps = rps((clock.now() - T0) / MIN)
      await controller.reconcileOnce()
      for (const r of provider.instances.values()) if (r.status === 'starting') provider.markRunning(r.id)
      clock.advance(15_000)
    }
  }
  const riskEvents = () => events.list().filter((e) => e.type === 'risk' || e.type === 'risk-cleared').map((e) => e.type)
  return { clock, controller, events, run, riskEvents, webhooks }
}

test('flat traffic raises no risk, however close to max', async () => {
  const { controller, run, riskEvents } = setup()
  await run(20, (t) => 450 + 20 * Math.sin(t * 3))
  assert.equal(controller.status('shop-web')?.risks, undefined)
  assert.deepEqual(riskEvents(), [])
})

test('a steady ramp towards max: one risk event, an ETA within ±20 % of the truth, cleared once flat', async () => {
  const { controller, run, riskEvents, clock } = setup()
  // 200 req/s + 10 req/s a minute: 500 req/s (the max's capacity) at minute 30.
  await run(12, (t) => 200 + 10 * t)
  const atMin = (clock.now() - 15_000 - T0) / MIN
  const risks = controller.status('shop-web')?.risks ?? []
  assert.equal(risks.length, 1, JSON.stringify(risks))
  const [r] = risks
  assert.equal(r?.kind, 'max')
  assert.equal(r.basis, 'trend')
  const truth = (30 - atMin) * 60
  assert.ok(Math.abs(r.etaSeconds - truth) <= 0.2 * truth, `eta ${r.etaSeconds} s, truth ${truth} s`)
  assert.match(r.message, /^at this trend \(\+10 req\/s a minute\) shop-web reaches max 10 in ~\d+ min/)
  assert.deepEqual(riskEvents(), ['risk'], 'announced once, not every tick')
  // Demand levels off at 320 req/s: after the trend window the slope is gone, then the episode ends.
  await run(14, () => 320)
  assert.equal(controller.status('shop-web')?.risks, undefined)
  assert.deepEqual(riskEvents(), ['risk', 'risk-cleared'])
})

test('a quota below the max binds first: the quota risk', async () => {
  // 6 instances fleet-wide: 300 req/s; the ramp 200 + 10/min reaches it at minute 10.
  const { controller, run, riskEvents } = setup({ maxInstances: 6 })
  await run(7, (t) => 200 + 10 * t)
  const [r] = controller.status('shop-web')?.risks ?? []
  assert.equal(r?.kind, 'quota')
  assert.match(r.message, /reaches the quotas' ceiling of 6 instances \(max 10\)/)
  assert.deepEqual(riskEvents(), ['risk'])
})

test('through the alerts path: a webhook subscribed to risk gets the episode and its end, once each', async () => {
  const got: { type: string; eventType: string; message: string }[] = []
  const server = createServer((req, res) => {
    let body = ''
    req.on('data', (c: Buffer) => (body += c.toString()))
    req.on('end', () => {
      got.push(JSON.parse(body) as { type: string; eventType: string; message: string })
      res.writeHead(204).end()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  try {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`
    const { run, webhooks } = setup(undefined, [{ webhook: url, on: ['risk'] }])
    await run(12, (t) => 200 + 10 * t)
    await run(14, () => 320)
    const report = await webhooks?.close(10_000)
    assert.equal(report?.failed, 0)
    assert.deepEqual(got.map((a) => `${a.type}/${a.eventType}`), ['risk/risk', 'risk/risk-cleared'])
    assert.match(got[0]?.message ?? '', /reaches max 10 in ~\d+ min/)
  } finally {
    await new Promise((resolve) => server.close(resolve))
  }
})
