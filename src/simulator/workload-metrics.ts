/**
 * The simulator's MetricsSource: what the controller would read from the router
 * and the instances, computed from the workload model. Each `read()` summarises
 * the window since the previous read (the sync period, as metrics-server's window
 * does for the HPA), by differencing the model's cumulative counters.
 */
import type { MetricsSource } from '../controller/metrics-source.ts'
import type { InstanceSample, InstanceView, LatencyPercentiles, Signals } from '../engine/types.ts'
import type { GroupSpec } from '../spec/schema.ts'
import type { Workload } from './workload.ts'

/** Steps the fast scale-out path averages (at 1 s steps, the router's last 3 seconds). */
const FRESH_STEPS = 3

/** Counter readings at the start of the current window. */
interface Mark {
  offered: number
  served: number
  utilizationSeconds: number
  capacitySeconds: number
  inFlightSeconds: number
  p50: number
  p90: number
  p95: number
  p99: number
  elapsedSeconds: number
}

/**
 * Signals from one group's workload. Per instance (warming and in-service ones,
 * which serve): cpuRatio = the window's mean utilisation ρ (equal on every instance,
 * since the router balances by service rate), with cpuAtMs = the read's time and
 * cpuWindowMs = the window since the previous read (so the engine's cpu rule leaves out
 * an instance's reading until a whole window has passed since it became ready); rps = the requests/s routed to that
 * instance (its share, by cpu, of the arriving load, whether served at once or
 * queued) — what a load balancer counts, as AWS's ALBRequestCountPerTarget does, and
 * unlike completions it keeps growing with demand when the instances saturate;
 * inFlight by Little's law; latencyP95Ms. Pending instances get no sample. Group: rps = the offered (arriving) rate, and the
 * request-weighted mean of each step's percentiles. Nothing is returned for a
 * window without time in it.
 */
export class WorkloadMetrics implements MetricsSource {
  readonly #workload: Workload
  readonly #defaultCpu: number
  #mark: Mark
  #elapsedSeconds = 0
  /** The offered rate of each step since the last read (Signals.group.demandSteps). */
  #steps: number[] = []
  #stepSeconds = 1
  #offeredBefore = 0
  /** The last FRESH_STEPS offered rates, a ring (freshDemand). */
  readonly #fresh = new Float64Array(FRESH_STEPS)
  #freshCount = 0

  constructor(workload: Workload, defaultCpu: number) {
    this.#workload = workload
    this.#defaultCpu = defaultCpu
    this.#mark = this.#snapshot()
  }

  /** Called by the simulator after each step of `seconds`. */
  advance(seconds: number): void {
    this.#elapsedSeconds += seconds
    const offered = this.#workload.totalOffered
    const rate = seconds > 0 ? (offered - this.#offeredBefore) / seconds : 0
    this.#offeredBefore = offered
    this.#stepSeconds = seconds
    this.#steps.push(rate)
    this.#fresh[this.#freshCount % FRESH_STEPS] = rate
    this.#freshCount++
  }

  /** The mean offered rate of the last few steps (as the router's last seconds), without consuming the read window. */
  freshDemand(): number | undefined {
    const n = Math.min(this.#freshCount, FRESH_STEPS)
    if (n === 0) return undefined
    let sum = 0
    for (let i = 0; i < n; i++) sum += this.#fresh[i] ?? 0
    return sum / n
  }

  read(_spec: GroupSpec, instances: readonly InstanceView[], nowMs: number): Signals | undefined {
    const now = this.#snapshot()
    const was = this.#mark
    this.#mark = now
    const demandSteps = { stepMs: this.#stepSeconds * 1000, values: this.#steps }
    this.#steps = []
    const elapsed = now.elapsedSeconds - was.elapsedSeconds
    if (elapsed <= 0) return undefined
    const served = now.served - was.served
    const capacitySeconds = now.capacitySeconds - was.capacitySeconds
    const latencyMs: LatencyPercentiles =
      served > 0
        ? { p50: (now.p50 - was.p50) / served, p90: (now.p90 - was.p90) / served, p95: (now.p95 - was.p95) / served, p99: (now.p99 - was.p99) / served }
        : {}
    const samples = new Map<string, InstanceSample>()
    if (capacitySeconds > 0) {
      const cpuRatio = (now.utilizationSeconds - was.utilizationSeconds) / capacitySeconds
      // The cpu reading covers the whole window since the last read, for every instance.
      const cpuAtMs = nowMs
      const cpuWindowMs = elapsed * 1000
      const inFlight = (now.inFlightSeconds - was.inFlightSeconds) / capacitySeconds
      // Arriving requests/s per cpu of the default size, over the window.
      let servingCpu = 0
      for (const v of instances) if (v.phase === 'warming' || v.phase === 'in-service') servingCpu += v.size.cpu / this.#defaultCpu
      const rpsPerUnit = servingCpu > 0 ? (now.offered - was.offered) / elapsed / servingCpu : 0
      // Instances of one size have identical samples: build one per size, not one per instance.
      let lastCpu = Number.NaN
      let lastSample: InstanceSample | undefined
      for (const v of instances) {
        if (v.phase !== 'warming' && v.phase !== 'in-service') continue
        if (lastSample === undefined || v.size.cpu !== lastCpu) {
          lastCpu = v.size.cpu
          const rps = rpsPerUnit * (v.size.cpu / this.#defaultCpu)
          lastSample = latencyMs.p95 === undefined ? { cpuRatio, cpuAtMs, cpuWindowMs, rps, inFlight } : { cpuRatio, cpuAtMs, cpuWindowMs, rps, inFlight, latencyP95Ms: latencyMs.p95 }
        }
        samples.set(v.id, lastSample)
      }
    }
    return { atMs: nowMs, instances: samples, group: { rps: (now.offered - was.offered) / elapsed, latencyMs, demandSteps } }
  }

  #snapshot(): Mark {
    const w = this.#workload
    return {
      offered: w.totalOffered,
      served: w.totalServed,
      utilizationSeconds: w.totalUtilizationSeconds,
      capacitySeconds: w.totalCapacitySeconds,
      inFlightSeconds: w.totalInFlightSeconds,
      p50: w.totalServedP50Ms,
      p90: w.totalServedP90Ms,
      p95: w.totalServedP95Ms,
      p99: w.totalServedP99Ms,
      elapsedSeconds: this.#elapsedSeconds,
    }
  }
}
