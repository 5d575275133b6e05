/**
 * Signals for a `local` group from its router's per-second stats windows (requests/s,
 * in-flight, latency percentiles, per instance and per priority class; network bytes/s
 * per instance) and from a process sampler (cpu, memory and disk bytes/s per instance,
 * from /proc). This is the freshest signal tide has: a load step shows within one window (1 s).
 *
 * Network bytes come from the router, not /proc: /proc/<pid>/net/dev counts a whole
 * network namespace, which every local instance shares, while every byte a local
 * instance serves passes its router, which counts them per instance.
 */
import type { MetricsSource, HealthView } from '../controller/metrics-source.ts'
import type { InstanceHealth } from '../core/health.ts'
import type { InstanceSample, InstanceView, LatencyPercentiles, Signals } from '../engine/types.ts'
import type { GroupSpec } from '../spec/schema.ts'
import type { ByteStats, RouterStats, TrafficStats } from '../router/stats.ts'
import type { ResourceReading } from '../metrics/process-stats.ts'

/**
 * Cpu and memory of one instance over the last sampling window; undefined when unknown. The
 * cpu comes with the end (cpuAtMs, epoch ms) and length (cpuWindowMs) of the span it averages,
 * passed on in the sample: the engine's cpu rule (the HPA's) leaves out a reading whose span
 * began before the instance was ready (start-up: compiling, warming caches).
 */
export interface ResourceSampler {
  read(instanceId: string): ResourceReading | undefined
}

/**
 * How many 1-second windows a reading averages: the sync period, within 1…15 s. A
 * group that decides every second wants the freshest window (a step shows at once);
 * one that decides every 15 s averages 15, as metrics-server's window does.
 */
export function windowCount(syncPeriodSeconds: number): number {
  return Math.max(1, Math.min(15, Math.round(syncPeriodSeconds)))
}

/**
 * How old a router's last stats window may be, ms, before its signals count as stale: the
 * router cuts a window every second, so five seconds without one means it stopped reporting
 * (a wedged core, a router process gone). Stale windows are no reading at all (read() and
 * freshDemand() give undefined: "no metrics", never a reason to scale in), rather than the
 * last seconds the router saw repeated as if they were now. A window that ends after `nowMs`
 * (the clock stepped back) counts as fresh.
 */
export const STALE_WINDOW_MS = 5000

/** The windows of `windows` that end no earlier than `spanMs` + STALE_WINDOW_MS before nowMs, in order. */
function recentWindows(windows: readonly RouterStats[], nowMs: number, spanMs: number): RouterStats[] {
  const fromMs = nowMs - spanMs - STALE_WINDOW_MS
  let i = windows.length
  while (i > 0 && (windows[i - 1]?.windowEndMs ?? 0) >= fromMs) i--
  return windows.slice(i)
}

interface Sums {
  requests: number
  bytesIn: number
  bytesOut: number
  seconds: number
  inFlight: number
  n: number
  p50: number
  p95: number
  p99: number
  latencyWeight: number
}

function emptySums(): Sums {
  return { requests: 0, bytesIn: 0, bytesOut: 0, seconds: 0, inFlight: 0, n: 0, p50: 0, p95: 0, p99: 0, latencyWeight: 0 }
}

/** Adds one window's traffic; percentiles are averaged weighted by the window's requests. */
function add(s: Sums, t: TrafficStats & Partial<ByteStats>, seconds: number): void {
  s.requests += t.requests
  s.bytesIn += t.bytesIn ?? 0
  s.bytesOut += t.bytesOut ?? 0
  s.seconds += seconds
  s.inFlight += t.inFlight
  s.n++
  if (t.requests > 0 && t.p95Ms !== undefined) {
    s.p50 += (t.p50Ms ?? t.p95Ms) * t.requests
    s.p95 += t.p95Ms * t.requests
    s.p99 += (t.p99Ms ?? t.p95Ms) * t.requests
    s.latencyWeight += t.requests
  }
}

/** Latency over the windows; 0 when nothing was requested (no latency pressure), undefined when unmeasured. */
function latencyOf(s: Sums): LatencyPercentiles | undefined {
  if (s.n > 0 && s.requests === 0) return { p50: 0, p95: 0, p99: 0 }
  if (s.latencyWeight === 0) return undefined
  return { p50: s.p50 / s.latencyWeight, p95: s.p95 / s.latencyWeight, p99: s.p99 / s.latencyWeight }
}

/**
 * Keeps the last 16 windows (15 to read, one before them for growth) of one router and turns them into Signals. Feed it every
 * `stats` event; the controller reads it each tick. Health comes from the same router.
 */
export class RouterSignals implements MetricsSource, HealthView {
  readonly #windows: RouterStats[] = []
  readonly #sampler: ResourceSampler | undefined
  #health = new Map<string, InstanceHealth>()

  constructor(sampler?: ResourceSampler) {
    this.#sampler = sampler
  }

  /** Records one stats window (the router's `stats` event). */
  push(stats: RouterStats): void {
    this.#windows.push(stats)
    if (this.#windows.length > 16) this.#windows.shift()
    this.#health = new Map(stats.instances.map((i) => [i.id, i.health]))
  }

  /** Replaces the health map (the router's `health()`), for transitions between windows. */
  setHealth(health: ReadonlyMap<string, InstanceHealth>): void {
    this.#health = new Map(health)
  }

  health(instanceId: string): InstanceHealth {
    return this.#health.get(instanceId) ?? 'unknown'
  }

  /**
   * Signals over the last windowCount(syncPeriod) windows; undefined before the first window.
   *
   * Per-instance `rps` is demand, not throughput: the router counts a request when it
   * is answered, so a saturated instance would report only what it manages to serve,
   * hiding the surge. Arrivals in a window are answered + shed + the growth of what is
   * in flight and queued; the router-level part (shed, queue growth) is spread evenly
   * over the instances, as the balancer spreads it.
   */
  read(spec: GroupSpec, instances: readonly InstanceView[], nowMs: number): Signals | undefined {
    const n = windowCount(spec.syncPeriodSeconds)
    const last = this.#windows[this.#windows.length - 1]
    // The router stopped reporting: no reading, rather than its last seconds taken for now.
    if (last === undefined || nowMs - last.windowEndMs > STALE_WINDOW_MS) return undefined
    // The last n windows, leaving out any from before a gap in the reports.
    const recent = recentWindows(this.#windows, nowMs, n * 1000)
    const windows = recent.slice(-n)
    const before = recent[recent.length - windows.length - 1]
    const total = emptySums()
    const perInstance = new Map<string, Sums>()
    const perClass = new Map<string, Sums>()
    for (const w of windows) {
      const seconds = Math.max(0.001, (w.windowEndMs - w.windowStartMs) / 1000)
      add(total, w.total, seconds)
      for (const i of w.instances) {
        let s = perInstance.get(i.id)
        if (!s) perInstance.set(i.id, (s = emptySums()))
        add(s, i, seconds)
      }
      for (const c of w.classes) {
        let s = perClass.get(c.name)
        if (!s) perClass.set(c.name, (s = emptySums()))
        add(s, c, seconds)
      }
    }
    const shed = windows.reduce((sum, w) => sum + w.total.shed, 0)
    const queueGrowth = last.total.queued - (before?.total.queued ?? 0)
    const routerExtraPerInstance = instances.length > 0 ? Math.max(0, shed + queueGrowth) / instances.length : 0
    const inFlightBefore = new Map((before?.instances ?? []).map((i) => [i.id, i.inFlight]))
    const inFlightLast = new Map(last.instances.map((i) => [i.id, i.inFlight]))
    const samples = new Map<string, InstanceSample>()
    for (const v of instances) {
      const s = perInstance.get(v.id)
      const res = this.#sampler?.read(v.id)
      const sample: { -readonly [K in keyof InstanceSample]: InstanceSample[K] } = {}
      if (s && s.n > 0) {
        const growth = (inFlightLast.get(v.id) ?? 0) - (inFlightBefore.get(v.id) ?? 0)
        sample.rps = Math.max(0, s.requests + growth + routerExtraPerInstance) / s.seconds
        sample.inFlight = s.inFlight / s.n
        sample.networkInBytesPerSecond = s.bytesIn / s.seconds
        sample.networkOutBytesPerSecond = s.bytesOut / s.seconds
        const lat = latencyOf(s)
        if (lat?.p95 !== undefined) sample.latencyP95Ms = lat.p95
      }
      if (res?.cpuRatio !== undefined) {
        sample.cpuRatio = res.cpuRatio
        if (res.cpuAtMs !== undefined) sample.cpuAtMs = res.cpuAtMs
        if (res.cpuWindowMs !== undefined) sample.cpuWindowMs = res.cpuWindowMs
      }
      if (res?.memoryMiB !== undefined) sample.memoryMiB = res.memoryMiB
      if (res?.diskReadBytesPerSecond !== undefined) sample.diskReadBytesPerSecond = res.diskReadBytesPerSecond
      if (res?.diskWriteBytesPerSecond !== undefined) sample.diskWriteBytesPerSecond = res.diskWriteBytesPerSecond
      if (Object.keys(sample).length > 0) samples.set(v.id, sample)
    }
    const classes: Record<string, { rps: number; latencyMs?: LatencyPercentiles }> = {}
    for (const [name, s] of perClass) {
      const lat = latencyOf(s)
      classes[name] = lat ? { rps: s.requests / s.seconds, latencyMs: lat } : { rps: s.requests / s.seconds }
    }
    const groupLatency = latencyOf(total)
    const demandSteps = { stepMs: 1000, values: windows.map((w, i) => windowDemand(w, i === 0 ? before : windows[i - 1])) }
    return {
      atMs: Math.min(nowMs, last.windowEndMs),
      instances: samples,
      group: { rps: Math.max(0, total.requests + shed + queueGrowth + (last.total.inFlight - (before?.total.inFlight ?? 0))) / total.seconds, ...(groupLatency ? { latencyMs: groupLatency } : {}), classes, demandSteps },
    }
  }

  /**
   * The mean demand of the last FRESH_WINDOWS windows (the fast scale-out path); undefined before
   * the first window, and when the last one ended more than STALE_WINDOW_MS before nowMs.
   */
  freshDemand(_spec: GroupSpec, nowMs: number): number | undefined {
    const last = this.#windows[this.#windows.length - 1]
    if (last === undefined || nowMs - last.windowEndMs > STALE_WINDOW_MS) return undefined
    const start = Math.max(0, this.#windows.length - FRESH_WINDOWS)
    let sum = 0
    let n = 0
    for (let i = start; i < this.#windows.length; i++) {
      const w = this.#windows[i]
      if (w === undefined) continue
      sum += windowDemand(w, this.#windows[i - 1])
      n++
    }
    return n === 0 ? undefined : sum / n
  }
}

/** Windows the fast scale-out path averages: a few seconds, so that one noisy second does not launch. */
const FRESH_WINDOWS = 3

/** One window's demand, requests/s: answered + shed + the growth of what is queued and in flight. */
function windowDemand(w: RouterStats, before: RouterStats | undefined): number {
  const seconds = Math.max(0.001, (w.windowEndMs - w.windowStartMs) / 1000)
  const growth = w.total.queued - (before?.total.queued ?? 0) + (w.total.inFlight - (before?.total.inFlight ?? 0))
  return Math.max(0, w.total.requests + w.total.shed + growth) / seconds
}

/**
 * One MetricsSource over every group's router: read() and freshDemand() go to the group's own
 * RouterSignals (undefined for a group without one), so the controller's fast scale-out path sees
 * each router's last seconds.
 */
export function routerMetricsSource(byGroup: ReadonlyMap<string, RouterSignals>): MetricsSource {
  return {
    read: (spec, instances, nowMs) => byGroup.get(spec.group)?.read(spec, instances, nowMs),
    freshDemand: (spec, nowMs) => byGroup.get(spec.group)?.freshDemand(spec, nowMs),
  }
}
