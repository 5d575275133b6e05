import { test } from 'node:test'
import assert from 'node:assert/strict'
import { RouterSignals, routerMetricsSource, STALE_WINDOW_MS, windowCount } from '../../src/runtime/router-signals.ts'
import type { RouterStats } from '../../src/router/stats.ts'
import type { InstanceView } from '../../src/engine/types.ts'
import { GroupSchema } from '../../src/spec/schema.ts'

const spec = GroupSchema.parse({ group: 'g', provider: 'sim', syncPeriodSeconds: 2 })
const views: InstanceView[] = ['a', 'b'].map((id) => ({ id, phase: 'in-service', size: { cpu: 1, memoryMiB: 512 }, launchedAtMs: 0, readyAtMs: 0, protectedFromScaleIn: false }))

function traffic(requests: number, inFlight: number, p95?: number, bytes: [number, number] = [0, 0]) {
  return { requests, rps: requests, errors: 0, inFlight, p50Ms: p95, p95Ms: p95, p99Ms: p95, bytesIn: bytes[0], bytesOut: bytes[1] }
}

/** One 1-second window ending at `endS`, with per-instance [answered, inFlight] and router shed/queued. */
function win(endS: number, a: [number, number], b: [number, number], shed = 0, queued = 0, p95 = 20): RouterStats {
  return {
    windowStartMs: (endS - 1) * 1000,
    windowEndMs: endS * 1000,
    total: { ...traffic(a[0] + b[0], a[1] + b[1], p95), shed, queued },
    instances: [
      { id: 'a', health: 'healthy', ...traffic(a[0], a[1], p95) },
      { id: 'b', health: 'healthy', ...traffic(b[0], b[1], p95) },
    ],
    classes: [],
  }
}

test('no windows yet means no signals (never a reason to scale in)', () => {
  assert.equal(new RouterSignals().read(spec, views, 1000), undefined)
})

test('steady load: rps per instance is what each answered', () => {
  const s = new RouterSignals()
  s.push(win(1, [10, 1], [10, 1]))
  s.push(win(2, [10, 1], [10, 1]))
  s.push(win(3, [10, 1], [10, 1]))
  const sig = s.read(spec, views, 3000)
  assert.ok(sig)
  assert.equal(sig.instances.get('a')?.rps, 10) // (10 + 10 answered + 0 growth) / 2 s
  assert.equal(sig.group.rps, 20)
  assert.equal(sig.group.latencyMs?.p95, 20)
})

test('saturation: arrivals include the growth of in-flight and of the router queue', () => {
  const s = new RouterSignals()
  s.push(win(1, [10, 2], [10, 2]))
  // The next two seconds each instance still answers 10/s, but 20 more pile up in flight at
  // each instance and the router queue grows by 40: demand is far above throughput.
  s.push(win(2, [10, 12], [10, 12], 0, 20))
  s.push(win(3, [10, 22], [10, 22], 0, 40))
  const sig = s.read(spec, views, 3000)
  assert.ok(sig)
  // instance a: (20 answered + 20 in-flight growth + 40 queue growth / 2 instances) / 2 s = 30/s
  assert.equal(sig.instances.get('a')?.rps, 30)
  // group: (40 answered + 40 in-flight growth + 40 queue growth) / 2 s = 60/s
  assert.equal(sig.group.rps, 60)
})

test('shed requests count as demand', () => {
  const s = new RouterSignals()
  s.push(win(1, [10, 0], [10, 0]))
  s.push(win(2, [10, 0], [10, 0], 6))
  s.push(win(3, [10, 0], [10, 0], 6))
  const sig = s.read(spec, views, 3000)
  assert.ok(sig)
  assert.equal(sig.instances.get('a')?.rps, 13) // (20 + 12 shed / 2) / 2 s
})

test('no requests at all is zero latency, not missing latency', () => {
  const s = new RouterSignals()
  s.push(win(1, [0, 0], [0, 0]))
  s.push(win(2, [0, 0], [0, 0]))
  assert.equal(s.read(spec, views, 2000)?.group.latencyMs?.p95, 0)
})

test('health follows the last window', () => {
  const s = new RouterSignals()
  const w = win(1, [1, 0], [1, 0])
  s.push({ ...w, instances: w.instances.map((i) => (i.id === 'b' ? { ...i, health: 'unhealthy' as const } : i)) })
  assert.equal(s.health('a'), 'healthy')
  assert.equal(s.health('b'), 'unhealthy')
  assert.equal(s.health('zzz'), 'unknown')
})

test('cpu passes on with the span it covers, start-up or not: the engine applies the HPA cpu rule', () => {
  const sampler = { read: (id: string) => (id === 'a' ? { cpuRatio: 0.9, cpuAtMs: 6000, cpuWindowMs: 3000, memoryMiB: 100 } : { cpuRatio: 0.7, memoryMiB: 100 }) }
  const s = new RouterSignals(sampler)
  s.push(win(1, [1, 0], [1, 0]))
  const fresh: InstanceView[] = [{ ...views[0]!, readyAtMs: 500 }, { ...views[1]!, readyAtMs: 5000 }]
  const sig = s.read(spec, fresh, 6000)
  assert.ok(sig)
  const a = sig.instances.get('a')
  assert.deepEqual([a?.cpuRatio, a?.cpuAtMs, a?.cpuWindowMs], [0.9, 6000, 3000])
  // Ready 1 s ago: the reading is passed on all the same (no second rule here); a sampler that
  // gives no span gives none, which the engine leaves out within the cpu initialization period.
  const b = sig.instances.get('b')
  assert.deepEqual([b?.cpuRatio, b?.cpuAtMs, b?.cpuWindowMs, b?.memoryMiB], [0.7, undefined, undefined, 100])
})

test('network bytes/s per instance: the bytes of the windows read over their seconds; an idle instance is a real 0', () => {
  const s = new RouterSignals()
  const withBytes = (endS: number, aBytes: [number, number], bBytes: [number, number]): RouterStats => {
    const w = win(endS, [5, 0], [5, 0])
    return { ...w, instances: [{ ...w.instances[0]!, ...traffic(5, 0, 20, aBytes) }, { ...w.instances[1]!, ...traffic(5, 0, 20, bBytes) }] }
  }
  s.push(withBytes(1, [999_999, 999_999], [0, 0])) // outside the 2-window read
  s.push(withBytes(2, [1000, 300_000], [0, 0]))
  s.push(withBytes(3, [3000, 100_000], [0, 0]))
  const sig = s.read(spec, views, 3000)
  assert.ok(sig)
  // instance a over the last 2 s (syncPeriodSeconds 2): (1000 + 3000) / 2 in, (300 000 + 100 000) / 2 out
  assert.equal(sig.instances.get('a')?.networkInBytesPerSecond, 2000)
  assert.equal(sig.instances.get('a')?.networkOutBytesPerSecond, 200_000)
  assert.equal(sig.instances.get('b')?.networkInBytesPerSecond, 0, 'counted by the router: nothing passed')
  assert.equal(sig.instances.get('b')?.networkOutBytesPerSecond, 0)
})

test('disk bytes/s come from the process sampler, and are absent (not 0) where it has none', () => {
  const sampler = { read: (id: string) => (id === 'a' ? { memoryMiB: 100, diskReadBytesPerSecond: 4096, diskWriteBytesPerSecond: 1 << 20 } : { memoryMiB: 100 }) }
  const s = new RouterSignals(sampler)
  s.push(win(1, [1, 0], [1, 0]))
  const sig = s.read(spec, views, 6000)
  assert.ok(sig)
  assert.equal(sig.instances.get('a')?.diskReadBytesPerSecond, 4096)
  assert.equal(sig.instances.get('a')?.diskWriteBytesPerSecond, 1 << 20)
  assert.ok(!('diskWriteBytesPerSecond' in sig.instances.get('b')!), 'unknown stays absent')
  assert.ok(!('diskReadBytesPerSecond' in sig.instances.get('b')!))
})

test('window count follows the sync period within 1…15', () => {
  assert.deepEqual([0.5, 1, 5, 15, 60].map(windowCount), [1, 1, 5, 15, 15])
})

test('demand steps and the fresh demand: each second is answered + shed + the growth of what waits', () => {
  const s = new RouterSignals()
  s.push(win(1, [10, 1], [10, 1]))
  s.push(win(2, [10, 1], [10, 1]))
  s.push(win(3, [30, 3], [30, 3], 5, 4)) // 60 answered + 5 shed + 4 more in flight + 4 queued
  const sig = s.read(spec, views, 3000)
  assert.deepEqual(sig?.group.demandSteps, { stepMs: 1000, values: [20, 73] })
  // The last 3 windows: (20 + 20 + 73) / 3; the first one's growth is counted from nothing before it.
  assert.ok(Math.abs((s.freshDemand(spec, 3000) ?? 0) - (22 + 20 + 73) / 3) < 1e-9, `${s.freshDemand(spec, 3000)}`)
})

test('routerMetricsSource: every group reads its own router, fresh demand included', () => {
  const busy = new RouterSignals()
  busy.push(win(1, [50, 0], [50, 0]))
  const source = routerMetricsSource(new Map([['g', busy]]))
  const fresh = source.freshDemand?.bind(source)
  assert.ok(fresh, 'the fast path needs freshDemand')
  assert.equal(source.read(spec, views, 1000)?.group.rps, 100)
  assert.equal(fresh(spec, 1000), 100)
  const other = GroupSchema.parse({ group: 'other', provider: 'sim' })
  assert.equal(source.read(other, views, 1000), undefined)
  assert.equal(fresh(other, 1000), undefined)
})

test('a router that stopped reporting gives no signals, not its last seconds again (stale windows)', () => {
  const s = new RouterSignals()
  s.push(win(1, [10, 0], [10, 0]))
  s.push(win(2, [0, 0], [0, 0])) // the last window before the router went quiet: zero demand
  const cases = [
    { name: 'just after the last window', nowMs: 2500, fresh: true },
    { name: 'at the staleness bound', nowMs: 2000 + STALE_WINDOW_MS, fresh: true },
    { name: 'one ms past it', nowMs: 2001 + STALE_WINDOW_MS, fresh: false },
    { name: 'an hour later', nowMs: 2000 + 3_600_000, fresh: false },
    { name: 'before the window ended (the clock stepped back)', nowMs: 2000 - 3_600_000, fresh: true },
  ] as const
  for (const c of cases) {
    assert.equal(s.read(spec, views, c.nowMs) !== undefined, c.fresh, c.name)
    assert.equal(s.freshDemand(spec, c.nowMs) !== undefined, c.fresh, c.name)
  }
})

test('windows from before a gap in the reports are left out of the reading', () => {
  const s = new RouterSignals()
  s.push(win(1, [50, 0], [50, 0])) // 100 req/s, then 20 s without a report
  s.push(win(22, [5, 0], [5, 0])) // 10 req/s
  // syncPeriodSeconds 2 reads two windows; the first is 21 s older than the second: only the fresh one counts.
  assert.equal(s.read(spec, views, 22_000)?.group.rps, 10)
})
