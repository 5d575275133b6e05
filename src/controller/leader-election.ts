/**
 * Leader election through a coordination.k8s.io Lease, as client-go's leaderelection does, so that
 * two tide replicas in a cluster never both act: only the holder of the lease runs the controller.
 *
 * - A candidate reads the lease every `retryEveryMs`. It takes it when there is none (create), when
 *   its holder is empty (released), or when the lease has not changed for `leaseDurationMs` of the
 *   candidate's own clock (the holder died): an update naming the lease's resourceVersion, so of
 *   two candidates racing only one wins (the other gets 409 Conflict and stays a follower).
 * - The leader renews every `renewEveryMs`. If it cannot renew for `renewDeadlineMs` (shorter than
 *   the lease duration), or it finds another holder, it has lost: `onLost` fires, and tide stops
 *   acting before any follower may take over.
 * - Expiry is judged by when the candidate itself saw the lease change (client-go's observed
 *   time), not by the holder's renewTime, so clocks that disagree between nodes do not matter;
 *   and measured on a monotonic counter (`elapsed`, performance.now), not the wall clock, so a
 *   step of this node's clock neither hands a renewed lease to a follower nor keeps a dead
 *   holder's lease from being taken. The wall clock only stamps renewTime and acquireTime.
 *   A follower takes over between leaseDurationMs − renewEveryMs and leaseDurationMs + retryEveryMs
 *   after the holder's last renewal (10 s to 13 s with the defaults: a follower leads within 15 s
 *   of a crash, as issue 12 asks; client-go's 15 s default would take up to 16 s).
 * - release() on a clean stop empties the holder, so a follower takes over at its next read.
 *
 * The Lease calls are behind LeaseApi (src/runtime/lease-api.ts over client-node).
 */
import type { Clock } from '../core/clock.ts'

/** The fields of a Lease the election reads and writes (coordination.k8s.io/v1 spec, plus the version). */
export interface LeaseRecord {
  readonly holderIdentity?: string | undefined
  readonly leaseDurationSeconds?: number | undefined
  /** RFC 3339 with microseconds, as the API's MicroTime. */
  readonly acquireTime?: string | undefined
  readonly renewTime?: string | undefined
  readonly leaseTransitions?: number | undefined
  /** The object's resourceVersion; an update must name the current one. */
  readonly resourceVersion?: string | undefined
}

/** The three Lease calls; a create or update that lost a race answers 'conflict' (HTTP 409). */
export interface LeaseApi {
  read(): Promise<LeaseRecord | undefined>
  create(lease: LeaseRecord): Promise<LeaseRecord | 'conflict'>
  replace(lease: LeaseRecord): Promise<LeaseRecord | 'conflict'>
}

/** Options of an election. Durations in ms. */
export interface LeaseElectorOptions {
  readonly api: LeaseApi
  /** Who this candidate is (the pod's name; hostname and pid outside a cluster). Never empty. */
  readonly identity: string
  /** Wall time, written into the lease (renewTime, acquireTime) for humans and other tools; never used to measure a duration. */
  readonly clock: Clock
  /**
   * A monotonic ms counter that measures this candidate's durations (a lease not renewed for its
   * duration, the renew deadline): performance.now by default. Not the wall clock: a step of it
   * (NTP, an operator's `date -s`) of +1 h would make a follower take a lease its holder renews,
   * and of −1 h would keep a follower from taking a dead holder's lease for an hour.
   */
  readonly elapsed?: () => number
  /** How long a lease lasts without renewal. Default 12 000 (takeover within 15 s of a crash). */
  readonly leaseDurationMs?: number
  /** How often the leader renews. Default 2000. */
  readonly renewEveryMs?: number
  /** How long the leader goes on without a successful renewal before it gives up. Default 10 000 (< leaseDurationMs). */
  readonly renewDeadlineMs?: number
  /** How often a follower reads the lease. Default 1000. */
  readonly retryEveryMs?: number
  /** Told of each attempt's failure (the API unreachable): for a log line; the election goes on. */
  readonly onError?: (err: unknown) => void
}

/** One candidate in the election. */
export class LeaseElector {
  readonly #o: Required<Omit<LeaseElectorOptions, 'onError' | 'elapsed'>> & Pick<LeaseElectorOptions, 'onError'>
  readonly #elapsed: () => number
  #leader = false
  #stopped = false
  #timer: NodeJS.Timeout | undefined
  #lastRenewMs = 0
  #observed: { key: string; atMs: number } | undefined
  #holder: string | undefined
  #lease: LeaseRecord | undefined
  readonly #lost = new Set<(why: string) => void>()

  constructor(options: LeaseElectorOptions) {
    if (options.identity === '') throw new Error('a leader election candidate needs an identity')
    this.#o = {
      leaseDurationMs: 12_000,
      renewEveryMs: 2000,
      renewDeadlineMs: 10_000,
      retryEveryMs: 1000,
      ...options,
    }
    this.#elapsed = options.elapsed ?? (() => performance.now())
  }

  /** Whether this candidate holds the lease now. */
  get isLeader(): boolean {
    return this.#leader
  }

  /** The holder last seen ('' when released, undefined before the first read). */
  get holder(): string | undefined {
    return this.#holder
  }

  /** Calls `cb` (once) when this candidate, having led, loses the lease. */
  onLost(cb: (why: string) => void): void {
    this.#lost.add(cb)
  }

  /**
   * Resolves once this candidate leads (then keeps renewing in the background); rejects when
   * `signal` aborts first. Calls `waiting(holder)` each time it finds the lease held by another.
   */
  async acquire(signal?: AbortSignal, waiting?: (holder: string) => void): Promise<void> {
    let told: string | undefined
    while (!this.#stopped) {
      signal?.throwIfAborted()
      if (await this.#tryAcquireOrRenew()) {
        this.#leader = true
        this.#lastRenewMs = this.#elapsed()
        this.#scheduleRenew()
        return
      }
      if (this.#holder !== undefined && this.#holder !== told) {
        told = this.#holder
        waiting?.(this.#holder)
      }
      await sleep(this.#o.retryEveryMs, signal)
    }
    throw new Error('leader election stopped')
  }

  /** Stops renewing and hands the lease back (holder emptied), so a follower takes over at once. */
  async release(): Promise<void> {
    const wasLeader = this.#leader
    this.stop()
    const lease = this.#lease
    if (!wasLeader || lease === undefined) return
    const now = microTime(this.#o.clock.now())
    try {
      await this.#o.api.replace({ ...lease, holderIdentity: '', leaseDurationSeconds: 1, renewTime: now })
    } catch (err) {
      this.#o.onError?.(err)
    }
  }

  /** Stops renewing without a word (as a killed process would); the lease runs out by itself. */
  stop(): void {
    this.#stopped = true
    this.#leader = false
    if (this.#timer) clearTimeout(this.#timer)
    this.#timer = undefined
  }

  #isStopped(): boolean {
    return this.#stopped
  }

  #scheduleRenew(): void {
    if (this.#stopped) return
    this.#timer = setTimeout(() => {
      void this.#renew()
    }, this.#o.renewEveryMs)
  }

  async #renew(): Promise<void> {
    if (this.#stopped) return
    const ok = await this.#tryAcquireOrRenew()
    // stop() may have come while the call was in flight.
    if (this.#isStopped()) return
    const now = this.#elapsed()
    if (ok) {
      this.#lastRenewMs = now
      this.#scheduleRenew()
      return
    }
    const other = this.#holder !== undefined && this.#holder !== '' && this.#holder !== this.#o.identity
    if (other || now - this.#lastRenewMs >= this.#o.renewDeadlineMs) {
      this.stop()
      const why = other ? `the lease is held by ${this.#holder ?? ''}` : `no renewal for ${String(Math.round((now - this.#lastRenewMs) / 1000))} s`
      for (const cb of this.#lost) cb(why)
      return
    }
    this.#scheduleRenew()
  }

  /** One read and, when it may, one write. True when this candidate holds the lease after it. */
  async #tryAcquireOrRenew(): Promise<boolean> {
    const o = this.#o
    try {
      const now = o.clock.now()
      const lease = await o.api.read()
      const elapsedMs = this.#elapsed()
      const mine: LeaseRecord = { holderIdentity: o.identity, leaseDurationSeconds: Math.ceil(o.leaseDurationMs / 1000), renewTime: microTime(now) }
      if (lease === undefined) {
        const created = await o.api.create({ ...mine, acquireTime: microTime(now), leaseTransitions: 0 })
        return this.#took(created)
      }
      this.#holder = lease.holderIdentity ?? ''
      const key = `${lease.holderIdentity ?? ''}|${lease.renewTime ?? ''}|${lease.resourceVersion ?? ''}`
      if (this.#observed?.key !== key) this.#observed = { key, atMs: elapsedMs }
      const held = this.#holder !== ''
      const isMine = this.#holder === o.identity
      const durationMs = (lease.leaseDurationSeconds ?? Math.ceil(o.leaseDurationMs / 1000)) * 1000
      if (held && !isMine && elapsedMs < this.#observed.atMs + durationMs) return false
      const next: LeaseRecord = {
        ...lease,
        ...mine,
        acquireTime: isMine ? lease.acquireTime : microTime(now),
        leaseTransitions: (lease.leaseTransitions ?? 0) + (isMine ? 0 : 1),
      }
      return this.#took(await o.api.replace(next))
    } catch (err) {
      o.onError?.(err)
      return false
    }
  }

  #took(result: LeaseRecord | 'conflict'): boolean {
    if (result === 'conflict') return false
    this.#lease = result
    this.#holder = result.holderIdentity ?? ''
    return this.#holder === this.#o.identity
  }
}

/** An epoch-ms time as the API's MicroTime: RFC 3339 with six fractional digits. */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z')
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(resolve, ms)
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(t)
        reject(signal.reason as Error)
      },
      { once: true },
    )
  })
}
