/**
 * Active health checks: an HTTP GET of the group's health path on every instance,
 * every intervalSeconds, with a timeout. The verdict follows thresholds
 * (healthyThreshold consecutive successes, unhealthyThreshold consecutive
 * failures) and a grace period after launch, as Kubernetes probes and AWS target
 * groups do. Runs in the router's primary only.
 */
import type { InstanceHealth } from '../core/health.ts'
import { probeHttp } from '../core/http-probe.ts'
import type { HealthSpec } from '../spec/schema.ts'

/** One instance's health bookkeeping. */
export interface HealthRecord {
  readonly health: InstanceHealth
  readonly successes: number
  readonly failures: number
  /** When the router first saw the instance (or its launch time), epoch ms: the grace period counts from here. */
  readonly sinceMs: number
}

/** A new instance: unknown, no checks yet. */
export function initialHealth(sinceMs: number): HealthRecord {
  return { health: 'unknown', successes: 0, failures: 0, sinceMs }
}

/**
 * The record after one check. Pure.
 * - unknown → healthy on the first success (a new instance gets traffic as soon as
 *   it answers, like Kubernetes' successThreshold 1 for readiness), → unhealthy after
 *   unhealthyThreshold consecutive failures once graceSeconds have passed since sinceMs
 *   (failures inside the grace period still count, they just cannot condemn).
 * - healthy → unhealthy after unhealthyThreshold consecutive failures.
 * - unhealthy → healthy after healthyThreshold consecutive successes.
 */
export function nextHealth(record: HealthRecord, ok: boolean, spec: HealthSpec, nowMs: number): HealthRecord {
  const successes = ok ? record.successes + 1 : 0
  const failures = ok ? 0 : record.failures + 1
  let health = record.health
  if (ok) {
    if (health === 'unknown' || (health === 'unhealthy' && successes >= spec.healthyThreshold)) health = 'healthy'
  } else if (failures >= spec.unhealthyThreshold) {
    const inGrace = health === 'unknown' && nowMs - record.sinceMs < spec.graceSeconds * 1000
    if (!inGrace) health = 'unhealthy'
  }
  return { health, successes, failures, sinceMs: record.sinceMs }
}

/** The record after passive ejection: unhealthy until healthyThreshold consecutive checks pass. */
export function ejectedHealth(record: HealthRecord): HealthRecord {
  return { health: 'unhealthy', successes: 0, failures: record.failures, sinceMs: record.sinceMs }
}

/** The health-path statuses a check passes on: 2xx or 3xx, as Kubernetes' httpGet probe. */
const healthyStatuses = [200, 399] as const

/** Where to probe. */
export interface ProbeTarget {
  readonly host: string
  readonly port: number
}

/** A transition of one instance's health, as emitted by the router. */
export interface HealthTransition {
  readonly id: string
  readonly from: InstanceHealth
  readonly to: InstanceHealth
  /** 'check' for an active check, 'ejected' for passive ejection. */
  readonly cause: 'check' | 'ejected'
  readonly detail: string
}

/**
 * Runs the checks of a set of instances: the first at once when an instance is
 * added, then every intervalSeconds (not overlapping: the next is scheduled when
 * one ends). Calls `onChange` on every transition.
 */
export class HealthChecker {
  readonly #spec: HealthSpec
  readonly #now: () => number
  readonly #onChange: (t: HealthTransition) => void
  readonly #targets = new Map<string, { target: ProbeTarget; record: HealthRecord; timer: NodeJS.Timeout | undefined; running: boolean }>()
  #stopped = false

  constructor(spec: HealthSpec, onChange: (t: HealthTransition) => void, now: () => number = Date.now) {
    this.#spec = spec
    this.#onChange = onChange
    this.#now = now
  }

  /**
   * Starts checking an instance (no-op when it is already checked at the same address). `seed`
   * is its health until the first check says otherwise: 'unknown' for a new instance; a
   * re-attached data plane's routable instances start 'healthy' (data-plane.ts, router.ts), so
   * that they keep their traffic while the first check runs.
   */
  add(id: string, target: ProbeTarget, sinceMs: number = this.#now(), seed: InstanceHealth = 'unknown'): void {
    const existing = this.#targets.get(id)
    if (existing && existing.target.host === target.host && existing.target.port === target.port) return
    if (existing) this.remove(id)
    const entry = { target, record: { ...initialHealth(sinceMs), health: seed }, timer: undefined as NodeJS.Timeout | undefined, running: false }
    this.#targets.set(id, entry)
    void this.#check(id)
  }

  /** Stops checking an instance and forgets it. */
  remove(id: string): void {
    const entry = this.#targets.get(id)
    if (!entry) return
    clearTimeout(entry.timer)
    this.#targets.delete(id)
  }

  /** The instances' health. */
  health(id: string): InstanceHealth {
    return this.#targets.get(id)?.record.health ?? 'unknown'
  }

  /** The ids being checked. */
  ids(): string[] {
    return [...this.#targets.keys()]
  }

  /** Passive ejection: marks the instance unhealthy now; checks re-admit it. */
  eject(id: string, detail: string): void {
    const entry = this.#targets.get(id)
    if (!entry || entry.record.health === 'unhealthy') return
    const from = entry.record.health
    entry.record = ejectedHealth(entry.record)
    this.#onChange({ id, from, to: 'unhealthy', cause: 'ejected', detail })
  }

  /** Stops every check. */
  stop(): void {
    this.#stopped = true
    for (const entry of this.#targets.values()) clearTimeout(entry.timer)
    this.#targets.clear()
  }

  async #check(id: string): Promise<void> {
    const entry = this.#targets.get(id)
    if (!entry || entry.running || this.#stopped) return
    entry.running = true
    const ok = await probeHttp({
      ...entry.target,
      path: this.#spec.path,
      timeoutMs: this.#spec.timeoutSeconds * 1000,
      acceptStatus: healthyStatuses,
      userAgent: 'tide-health-check',
    })
    entry.running = false
    // stop() and remove() drop the entry, so a probe that outlived them ends here.
    if (this.#targets.get(id) !== entry) return
    const before = entry.record.health
    entry.record = nextHealth(entry.record, ok, this.#spec, this.#now())
    if (entry.record.health !== before) {
      const detail = ok ? `${this.#spec.path} answered` : `${entry.record.failures} consecutive failed checks of ${this.#spec.path}`
      this.#onChange({ id, from: before, to: entry.record.health, cause: 'check', detail })
    }
    entry.timer = setTimeout(() => void this.#check(id), this.#spec.intervalSeconds * 1000)
    entry.timer.unref()
  }
}
