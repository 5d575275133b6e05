/**
 * The metric source fails or lies (issue 13): the real controller (ManualClock, 15 s sync periods,
 * the HPA's default behavior) over two groups, each scaled by one source:
 * - `routed` by requests/s from a real RouterSignals, fed the windows a router would cut (and
 *   then none: a router that stopped reporting), or replaced by a source that answers NaN or throws;
 * - `queue` by an external http-json metric, read through the real ExternalSignals from a fake
 *   HTTP server on 127.0.0.1 that answers what the scenario says: a value, 500, "NaN", nothing
 *   at all (a hung source, bounded by its timeoutSeconds), or a closed connection.
 * Checked on the controller's decisions: no scale-in on missing, stale or unreadable data (over
 * more than the 300 s down-stabilization window), a spike of 1e9 req/s bounded by the scale-up
 * policy (+100 % or +4 per 15 s, whichever is more), max and the fleet quota, a source that says
 * 0 scaling in no faster than stabilization and the scale-down policy allow and never below min,
 * a hung source delaying a tick by its timeout and no more, and recovery when the source is back.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createServer, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Controller, type ReconcileResult } from '../../src/controller/reconciler.ts'
import { withExternalSignals, type MetricsSource } from '../../src/controller/metrics-source.ts'
import { ManualClock } from '../../src/core/clock.ts'
import type { Decision, InstanceSample, Signals } from '../../src/engine/types.ts'
import { ExternalSignals } from '../../src/metrics/external/external-signals.ts'
import type { RouterStats } from '../../src/router/stats.ts'
import { RouterSignals } from '../../src/runtime/router-signals.ts'
import { GroupSchema, type GroupSpec } from '../../src/spec/schema.ts'
import { MemoryEventLog } from '../../src/store/events.ts'
import { MemoryStateStore } from '../../src/store/state-store.ts'
import { FakeProvider } from '../support/fake-provider.ts'
import { recordChaos } from './tally.ts'

const T0 = Date.parse('2026-11-11T00:00:00Z')
const PERIOD_MS = 15_000
const MIN = 2
const MAX = 12
const QUOTA = 20

type ExternalMode = { kind: 'value'; value: number } | { kind: 'status'; status: number } | { kind: 'text'; body: string } | { kind: 'hang' } | { kind: 'reset' }

/** The fake external source: answers GET /metrics as `mode` says. */
function externalServer(): { server: Server; mode: { current: ExternalMode }; hung: ServerResponse[]; url: () => string } {
  const mode: { current: ExternalMode } = { current: { kind: 'value', value: 400 } }
  const hung: ServerResponse[] = []
  const server = createServer((req, res) => {
    const m = mode.current
    if (m.kind === 'value') res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ depth: m.value }))
    else if (m.kind === 'status') res.writeHead(m.status).end('broken')
    else if (m.kind === 'text') res.writeHead(200, { 'content-type': 'application/json' }).end(m.body)
    else if (m.kind === 'hang') hung.push(res)
    else req.socket.destroy()
  })
  return { server, mode, hung, url: () => `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics` }
}

function spec(name: string, metric: Record<string, unknown>): GroupSpec {
  return GroupSchema.parse({ group: name, provider: 'sim', replicas: { min: MIN, max: MAX }, warmupSeconds: 0, startupSeconds: 5, syncPeriodSeconds: 15, metrics: [metric] })
}

/** One 1-second router window ending at endMs, `totalRps` answered, spread evenly over the instances. */
function window(endMs: number, ids: readonly string[], totalRps: number): RouterStats {
  const rpsEach = ids.length === 0 ? 0 : totalRps / ids.length
  const t = (requests: number) => ({ requests, rps: requests, errors: 0, inFlight: 0, p50Ms: 5, p95Ms: 8, p99Ms: 9, bytesIn: 0, bytesOut: 0 })
  return {
    windowStartMs: endMs - 1000,
    windowEndMs: endMs,
    total: { ...t(rpsEach * ids.length), shed: 0, queued: 0 },
    instances: ids.map((id) => ({ id, health: 'healthy' as const, ...t(rpsEach) })),
    classes: [],
  }
}

test('a metric source that is stale, zero, huge, NaN, failing or hung: no scale-in on missing data, spikes bounded, recovery', { timeout: 120_000 }, async () => {
  const ext = externalServer()
  await new Promise<void>((r) => ext.server.listen(0, '127.0.0.1', r))
  const clock = new ManualClock(T0)
  const provider = new FakeProvider(clock, 5000)
  const events = new MemoryEventLog()
  const router = new RouterSignals()
  // The routed group's source: the router's signals, or a lie told in its place.
  const lie: { mode: 'router' | 'nan' | 'throw' } = { mode: 'router' }
  const routedSource: MetricsSource = {
    read(s, views, nowMs): Signals | undefined {
      if (lie.mode === 'throw') throw new Error('the router stats socket is gone')
      if (lie.mode === 'nan') return { atMs: nowMs, instances: new Map<string, InstanceSample>(views.map((v) => [v.id, { rps: Number.NaN }])), group: { rps: Number.NaN } }
      return router.read(s, views, nowMs)
    },
    freshDemand: (s, nowMs) => router.freshDemand(s, nowMs),
  }
  const routed = spec('routed', { type: 'rps', target: { averageValue: 100 } })
  const queue = spec('queue', { type: 'external', query: '$.depth', source: { type: 'http-json', url: ext.url(), timeoutSeconds: 1 }, target: { averageValue: 100 } })
  const backends = new Map([
    ['routed', { provider, signals: withExternalSignals(routedSource, new ExternalSignals()) }],
    ['queue', { provider, signals: withExternalSignals({ read: () => undefined }, new ExternalSignals()) }],
  ])
  const controller = new Controller({ groups: [routed, queue], backend: (s) => backends.get(s.group)!, clock, events, store: new MemoryStateStore(), quotas: { maxInstances: QUOTA } })

  let routerRps: number | undefined = 400 // the group's demand; undefined: the router sends no window
  let faults = 0
  const decisions: { phase: string; group: string; d: Decision }[] = []
  const tickWallMs: number[] = []
  const running = (group: string): string[] => [...provider.instances.values()].filter((r) => r.group === group && r.status === 'running').map((r) => r.id)
  const desired = (group: string): number => controller.status(group)?.desiredReplicas ?? 0

  /** `n` sync periods: the router's windows of the period (unless silent), then one reconcile. */
  async function periods(phase: string, n: number): Promise<void> {
    for (let i = 0; i < n; i++) {
      const from = clock.now()
      clock.advance(PERIOD_MS)
      if (routerRps !== undefined) for (let s = 1; s <= 15; s++) router.push(window(from + s * 1000, running('routed'), routerRps))
      const t0 = performance.now()
      const results: ReconcileResult[] = await controller.reconcileOnce()
      tickWallMs.push(performance.now() - t0)
      for (const r of results) decisions.push({ phase, group: r.group, d: r.decision })
    }
  }
  const of = (phase: string, group: string) => decisions.filter((x) => x.phase === phase && x.group === group).map((x) => x.d)
  const noScaleIn = (phase: string, group: string): void => {
    const ds = of(phase, group)
    assert.ok(ds.length > 0 || group === 'routed', `${phase}: ${group} decided nothing`)
    for (const d of ds) assert.ok(d.to >= d.from, `${phase}: ${group} scaled in ${d.from}→${d.to} (${d.reason}): ${d.explanation}`)
  }

  try {
    // Steady: 400 req/s on either source, 100 per instance wanted → 4 each, held.
    await periods('warm-up', 26)
    assert.equal(desired('routed'), 4)
    assert.equal(desired('queue'), 4)

    // 1. Stale: the router sends no window and the source answers 500, for 25 periods (375 s > the 300 s window).
    routerRps = undefined
    ext.mode.current = { kind: 'status', status: 500 }
    faults += 2
    await periods('stale-or-failing', 25)
    noScaleIn('stale-or-failing', 'routed')
    noScaleIn('stale-or-failing', 'queue')
    assert.ok(of('stale-or-failing', 'routed').every((d) => d.reason === 'NoMetrics'), of('stale-or-failing', 'routed').map((d) => d.reason).join(','))
    assert.equal(desired('routed'), 4)
    assert.equal(desired('queue'), 4)

    // 2. NaN: the router's source says NaN, the external one "NaN".
    routerRps = 400
    lie.mode = 'nan'
    ext.mode.current = { kind: 'text', body: '{"depth":"NaN"}' }
    faults += 2
    await periods('nan', 25)
    noScaleIn('nan', 'routed')
    noScaleIn('nan', 'queue')

    // 3. Errors: reading the router throws (the tick fails, once an event); the source resets the connection.
    lie.mode = 'throw'
    ext.mode.current = { kind: 'reset' }
    faults += 2
    await periods('errors', 25)
    noScaleIn('errors', 'queue')
    assert.equal(of('errors', 'routed').length, 0, 'a failed read decides nothing')
    assert.equal(events.list().filter((e) => e.group === 'routed' && e.type === 'reconcile-failed').length, 1, 'one event per failure streak')
    assert.equal(desired('routed'), 4)

    // 4. Hung: the source never answers; its 1 s timeout bounds the tick.
    lie.mode = 'router'
    ext.mode.current = { kind: 'hang' }
    faults++
    const hungFrom = tickWallMs.length
    await periods('hung', 3)
    noScaleIn('hung', 'queue')
    for (const ms of tickWallMs.slice(hungFrom)) assert.ok(ms < 3000, `a tick took ${Math.round(ms)} ms with a hung source (timeoutSeconds 1)`)
    for (const res of ext.hung.splice(0)) res.destroy()

    // 5. Huge: 1e9 req/s on both: bounded by the scale-up policy, max and the fleet quota.
    routerRps = 4e9
    ext.mode.current = { kind: 'value', value: 1e9 * 4 }
    faults += 2
    await periods('huge', 6)
    for (const group of ['routed', 'queue']) {
      for (const d of of('huge', group)) {
        // +100 % or +4 per 15 s period, whichever is more (the HPA's defaults): from 4, at most 8.
        assert.ok(d.to <= Math.max(2 * d.from, d.from + 4), `${group} ${d.from}→${d.to} beyond the scale-up policy`)
        assert.ok(d.to <= MAX, `${group} above max: ${d.to}`)
      }
    }
    assert.ok(desired('routed') + desired('queue') <= QUOTA, `${desired('routed')} + ${desired('queue')} above the quota ${QUOTA}`)
    assert.ok(desired('routed') > 4 && desired('queue') > 4, 'a spike scales out')

    // 6. Zero: both sources say 0. Not a lie tide can tell from a quiet shop: scale-in waits the
    // 300 s down window, then goes to min, never below.
    routerRps = 0
    ext.mode.current = { kind: 'value', value: 0 }
    faults += 2
    const before = { routed: desired('routed'), queue: desired('queue') }
    await periods('zero', 26)
    for (const group of ['routed', 'queue'] as const) {
      const ds = of('zero', group)
      // The first 19 periods (285 s) are inside the down-stabilization window: held.
      for (const d of ds.slice(0, 19)) assert.ok(d.to >= before[group], `${group} scaled in within the stabilization window: ${d.explanation}`)
      for (const d of ds) assert.ok(d.to >= MIN)
      assert.equal(desired(group), MIN)
    }

    // 7. Recovery: 400 req/s again, read from both.
    routerRps = 400
    ext.mode.current = { kind: 'value', value: 400 }
    await periods('recovered', 4)
    for (const group of ['routed', 'queue']) {
      assert.equal(desired(group), 4, `${group} back at 4 (400 req/s, 100 per instance)`)
      for (const d of of('recovered', group)) assert.notEqual(d.reason, 'NoMetrics')
    }

    recordChaos({
      scenario: 'metrics: stale, NaN, errors, hung, 1e9, zero',
      faults,
      requestsSent: 0,
      requestsFailed: 0,
      note: `${decisions.length} decisions over ${tickWallMs.length} sync periods; no scale-in on missing data; spike ≤ policy, max ${MAX}, quota ${QUOTA}`,
      found: ['router signals repeated a silent router\'s last windows as current (now stale after 5 s: no metrics)'],
    })
  } finally {
    for (const res of ext.hung.splice(0)) res.destroy()
    ext.server.closeAllConnections()
    await new Promise((r) => ext.server.close(r))
  }
})
