/**
 * The simulator's workload model: what a fleet of instances does with an offered
 * request rate, one simulation step at a time.
 *
 * Calibration. An operator measures `instanceRps` (N) in a load test: the rate one
 * default-size instance sustains with its p95 response time exactly at the SLO.
 * Each serving instance is modelled as an M/M/1 queue with service rate μ. In an
 * M/M/1 queue the response time is exponential with rate μ − λ, so its q-quantile is
 * −ln(1 − q) / (μ − λ); the p95 is ln(20) / (μ − λ). Setting p95 = SLO at λ = N gives
 *
 *     μ = N + ln(20) / SLO_s                                   (serviceRateRps)
 *
 * so p95 stays under the SLO while the load per instance is at most N, and rises
 * steeply (hyperbolically) as it approaches μ. Example: N = 100 req/s, SLO 200 ms →
 * μ = 100 + 2.9957 / 0.2 ≈ 115 req/s; at 110 req/s the p95 is 600 ms.
 *
 * Sizes. μ scales with the instance's cpu relative to the default size:
 * μ(s) = μ · s.cpu / default.cpu. The rate such an instance serves within the SLO is
 * then μ(s) − ln(20)/SLO_s (bigger instances are relatively better, as in any queue).
 *
 * Load balancing. The router spreads arrivals over serving instances in proportion
 * to their service rates, so every instance runs at the same utilisation
 * ρ = λ / Σμ, which is also its cpuRatio.
 *
 * Overload. Load beyond the fleet's total service rate Σμ waits in a FIFO backlog in
 * front of the instances, kept as one bucket per step of arrival (a ring buffer, no
 * allocation per step). Each step the fleet serves Σμ · dt requests: the oldest
 * backlog first, then the step's own arrivals; the rest waits. A request that has
 * waited longer than `requestTimeoutSeconds` fails (it is dropped at the start of the
 * step in which its wait would exceed the timeout).
 *
 * Latency of a step (over the requests served in it). A request's response time is
 * its wait in the backlog (age in whole steps × dt) plus the M/M/1 time of the
 * instance. The q-quantile of the step is taken as the backlog wait of the request
 * at that quantile when requests are ordered by wait (oldest first), plus the M/M/1
 * q-quantile at the step's utilisation. While the fleet is saturated ρ → 1 and the
 * M/M/1 time would be infinite; it is capped so that it never exceeds the request
 * timeout, and so is the total. A step that serves nothing but still has requests
 * waiting reports the timeout; a step with no requests at all reports 0.
 *
 * Everything is deterministic: the same inputs give the same outputs, bit for bit.
 */

/** ln(1 / (1 − q)) for the percentiles tide reports: the M/M/1 quantile factors. */
const LN_2 = Math.log(2)
const LN_10 = Math.log(10)
const LN_20 = Math.log(20)
const LN_100 = Math.log(100)

/** The parameters of the model. */
export interface WorkloadParams {
  /** N: requests/s one default-size instance serves with p95 exactly at the SLO. > 0. */
  readonly instanceRps: number
  /** The p95 response-time objective in milliseconds. > 0. */
  readonly sloP95Ms: number
  /** A request waiting longer than this fails. > 0. */
  readonly requestTimeoutSeconds: number
  /** The length of one simulation step in seconds. > 0. */
  readonly tickSeconds: number
}

/**
 * μ, the M/M/1 service rate (requests/s) of a default-size instance calibrated so
 * that its p95 equals the SLO at `instanceRps`: μ = N + ln(20) / SLO_s.
 */
export function serviceRateRps(instanceRps: number, sloP95Ms: number): number {
  return instanceRps + LN_20 / (sloP95Ms / 1000)
}

/**
 * The service rate of an instance of `cpu` cores when the default size has
 * `defaultCpu`: μ scales linearly with cpu.
 */
export function sizedServiceRateRps(params: Pick<WorkloadParams, 'instanceRps' | 'sloP95Ms'>, cpu: number, defaultCpu: number): number {
  return serviceRateRps(params.instanceRps, params.sloP95Ms) * (cpu / defaultCpu)
}

/**
 * The rate (requests/s) an instance with service rate `muRps` serves with its p95
 * at the SLO: μ − ln(20)/SLO_s, never below 0. For a default-size instance this is N.
 */
export function sloCapacityRps(muRps: number, sloP95Ms: number): number {
  return Math.max(0, muRps - LN_20 / (sloP95Ms / 1000))
}

/**
 * The model, stepped by the simulator. After each `step()` the public fields hold
 * that step's results; the cumulative counters (`total…`) only grow, so a metrics
 * reader can difference two readings to get any window. Allocation-free per step.
 */
export class Workload {
  readonly params: WorkloadParams
  readonly #dt: number
  readonly #timeoutMs: number
  /** Backlog buckets by arrival step, ring-indexed by step mod length; length = max age in steps + 1. */
  readonly #ring: Float64Array
  /** Scratch: requests served from each backlog age in the current step (index = age in steps). */
  readonly #servedByAge: Float64Array
  #oldestServedAge = 0
  #newestVisitedAge = 0
  #step = 0
  #backlog = 0
  #fleetRateRps = 0
  #fleetCount = 0

  // Results of the last step.
  /** Requests that arrived in the last step. */
  offeredRequests = 0
  /** Requests completed in the last step (backlog and new arrivals). */
  servedRequests = 0
  /** Requests that timed out in the last step. */
  failedRequests = 0
  /** Requests still waiting after the last step. */
  backlogRequests = 0
  /** Utilisation ρ of every serving instance in the last step, 0–1 (0 without capacity). */
  utilization = 0
  /** Response-time percentiles of the requests served in the last step, milliseconds. */
  p50Ms = 0
  p90Ms = 0
  p95Ms = 0
  p99Ms = 0
  /** Mean requests in the system per serving instance (Little's law: in service plus the backlog share). */
  inFlightPerInstance = 0

  // Cumulative counters since construction, for windowed metrics.
  totalOffered = 0
  totalServed = 0
  totalFailed = 0
  /** Σ over steps with capacity of ρ · dt (utilisation-seconds). */
  totalUtilizationSeconds = 0
  /** Σ over steps with capacity of dt. */
  totalCapacitySeconds = 0
  /** Σ of served · percentile, to average percentiles weighted by requests. */
  totalServedP50Ms = 0
  totalServedP90Ms = 0
  totalServedP95Ms = 0
  totalServedP99Ms = 0
  /** Σ over steps with capacity of inFlightPerInstance · dt. */
  totalInFlightSeconds = 0

  constructor(params: WorkloadParams) {
    for (const key of ['instanceRps', 'sloP95Ms', 'requestTimeoutSeconds', 'tickSeconds'] as const) {
      const v = params[key]
      if (!(v > 0) || !Number.isFinite(v)) throw new RangeError(`workload: ${key} must be a finite number > 0, got ${v}`)
    }
    this.params = params
    this.#dt = params.tickSeconds
    this.#timeoutMs = params.requestTimeoutSeconds * 1000
    // A request of age a steps has waited a·dt; it may still be served while a·dt ≤ timeout.
    const maxAgeSteps = Math.floor(params.requestTimeoutSeconds / params.tickSeconds + 1e-9)
    this.#ring = new Float64Array(maxAgeSteps + 1)
    this.#servedByAge = new Float64Array(maxAgeSteps + 1)
  }

  /** The serving fleet from now on: the sum of its service rates (requests/s) and its instance count. */
  setFleet(serviceRateRps: number, servingInstances: number): void {
    this.#fleetRateRps = servingInstances > 0 ? serviceRateRps : 0
    this.#fleetCount = servingInstances
  }

  /** The total service rate Σμ of the serving fleet, requests/s. */
  get fleetRateRps(): number {
    return this.#fleetRateRps
  }

  /** Advances one step with `offeredRps` arriving during it. */
  step(offeredRps: number): void {
    const dt = this.#dt
    const ring = this.#ring
    const len = ring.length
    const slot = this.#step % len
    const arrivals = offeredRps * dt
    let capacity = this.#fleetRateRps * dt
    let served = 0
    let failed = 0

    // Requests whose wait would now exceed the timeout sit in this step's slot (arrived `len` steps ago).
    const expired = ring[slot] ?? 0
    if (expired > 0) {
      failed = expired
      this.#backlog -= expired
      ring[slot] = 0
    }

    // Serve the backlog oldest first, noting how many of each age, to place the percentiles.
    this.#oldestServedAge = 0
    this.#newestVisitedAge = len
    if (this.#backlog > 0 && capacity > 0) {
      const byAge = this.#servedByAge
      for (let age = len - 1; age >= 1 && capacity > 0; age--) {
        const i = (slot - age + len) % len
        const waiting = ring[i] ?? 0
        const take = waiting < capacity ? waiting : capacity
        byAge[age] = take
        this.#newestVisitedAge = age
        if (take <= 0) continue
        ring[i] = waiting - take
        capacity -= take
        served += take
        this.#backlog -= take
        if (this.#oldestServedAge === 0) this.#oldestServedAge = age
      }
      // Float residue must not linger in the ring and later "fail" as a fraction of a request.
      if (this.#backlog < 1e-9) {
        this.#backlog = 0
        ring.fill(0)
      }
    }
    const fromBacklog = served

    // Then this step's arrivals; what does not fit waits.
    const now = arrivals < capacity ? arrivals : capacity
    served += now
    const waiting = arrivals - now
    if (waiting > 0) {
      ring[slot] = waiting
      this.#backlog += waiting
    }

    this.#step++
    this.offeredRequests = arrivals
    this.servedRequests = served
    this.failedRequests = failed
    this.backlogRequests = this.#backlog
    this.totalOffered += arrivals
    this.totalServed += served
    this.totalFailed += failed
    this.#latency(served, fromBacklog)
  }

  /** Sets utilisation, percentiles and in-flight for the step just served. */
  #latency(served: number, fromBacklog: number): void {
    const dt = this.#dt
    const n = this.#fleetCount
    const rate = this.#fleetRateRps
    if (n === 0 || rate === 0) {
      this.utilization = 0
      this.inFlightPerInstance = 0
      const stuck = this.#backlog > 0 ? this.#timeoutMs : 0
      this.p50Ms = this.p90Ms = this.p95Ms = this.p99Ms = stuck
      return
    }
    const meanMu = rate / n
    // Cap ρ so that the M/M/1 p99 never exceeds the timeout: μ̄(1 − ρ) ≥ ln(100)/timeout.
    const minSlack = LN_100 / this.params.requestTimeoutSeconds
    let rho = served / dt / rate
    if (meanMu * (1 - rho) < minSlack) rho = 1 - minSlack / meanMu
    if (rho < 0) rho = 0
    const slackMs = meanMu * (1 - rho) / 1000 // the M/M/1 rate μ − λ, per millisecond
    this.utilization = served / dt / rate
    this.inFlightPerInstance = rho / (1 - rho) + this.#backlog / n
    this.totalUtilizationSeconds += this.utilization * dt
    this.totalCapacitySeconds += dt
    this.totalInFlightSeconds += this.inFlightPerInstance * dt
    if (served <= 0) {
      const stuck = this.#backlog > 0 ? this.#timeoutMs : 0
      this.p50Ms = this.p90Ms = this.p95Ms = this.p99Ms = stuck
      return
    }
    this.p50Ms = this.#queueWaitMs(served, fromBacklog, 0.5) + LN_2 / slackMs
    this.p90Ms = this.#queueWaitMs(served, fromBacklog, 0.1) + LN_10 / slackMs
    this.p95Ms = this.#queueWaitMs(served, fromBacklog, 0.05) + LN_20 / slackMs
    this.p99Ms = this.#queueWaitMs(served, fromBacklog, 0.01) + LN_100 / slackMs
    if (this.p50Ms > this.#timeoutMs) this.p50Ms = this.#timeoutMs
    if (this.p90Ms > this.#timeoutMs) this.p90Ms = this.#timeoutMs
    if (this.p95Ms > this.#timeoutMs) this.p95Ms = this.#timeoutMs
    if (this.p99Ms > this.#timeoutMs) this.p99Ms = this.#timeoutMs
    this.totalServedP50Ms += this.p50Ms * served
    this.totalServedP90Ms += this.p90Ms * served
    this.totalServedP95Ms += this.p95Ms * served
    this.totalServedP99Ms += this.p99Ms * served
  }

  /**
   * The backlog wait (ms) of the request at the top `tail` fraction of this step's
   * served requests ordered by wait, longest first: walk the ages served this step
   * from the oldest, and return the age (× dt) at which the count reaches the tail.
   * 0 when the tail falls among requests that did not wait in the backlog.
   */
  #queueWaitMs(served: number, fromBacklog: number, tail: number): number {
    const threshold = tail * served
    if (fromBacklog <= threshold) return 0
    const byAge = this.#servedByAge
    let seen = 0
    for (let age = this.#oldestServedAge; age >= this.#newestVisitedAge; age--) {
      seen += byAge[age] ?? 0
      if (seen > threshold) return age * this.#dt * 1000
    }
    return this.#newestVisitedAge * this.#dt * 1000
  }
}
