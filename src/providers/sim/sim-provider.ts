/**
 * The `sim` provider: virtual instances for the simulator and for tests. An
 * instance exists from `launch()` until `terminate()`; it reports status
 * 'starting' until `launchedAtMs + startupSeconds` and 'running' (with `readyAtMs`)
 * from then on. Time comes only from the injected Clock, so a ManualClock moves
 * instances through their start-up exactly.
 *
 * It also keeps the bill: every instance is billed from its launch until its
 * termination, to the millisecond, in O(1) per call (the simulator asks after every
 * step of a month-long replay). Instances seeded before the simulation starts are
 * billed from their launch time too; callers that score a window take the
 * difference of two `billedInstanceMs` readings.
 *
 * The platform can be given limits (SimCloudOptions), to rehearse what a real cloud does
 * to tide: `maxInstances` (no room beyond it: InsufficientCapacityError) and `apiRateLimit`
 * (calls beyond it within a window: ThrottledError with retryAfterMs).
 */
import type { Clock } from '../../core/clock.ts'
import type { GroupSpec, Size } from '../../spec/schema.ts'
import { InsufficientCapacityError, ThrottledError } from '../errors.ts'
import type { InstanceRecord, Provider, ProviderCapabilities } from '../provider.ts'

/** One virtual instance as the sim provider keeps it. Read-only to callers. */
export interface SimInstance {
  readonly id: string
  readonly group: string
  readonly size: Size
  readonly launchedAtMs: number
  /** launchedAtMs + startup: the instance serves from this moment on. */
  readonly readyAtMs: number
}

/** The limits of a simulated platform; none when absent. */
export interface SimCloudOptions {
  /**
   * Most live instances on the platform, all groups and sizes together (a whole number ≥ 0):
   * a launch gets only the room left (a partial launch, as EC2's RunInstances with MinCount 1)
   * and fails with InsufficientCapacityError when there is none.
   */
  readonly maxInstances?: number
  /**
   * The API's rate limit, for the whole account: at most `maxCalls` calls (list, launch,
   * terminate) per fixed window of `perSeconds`; a call beyond it fails with ThrottledError,
   * its retryAfterMs the time left in the window. maxCalls a whole number ≥ 1, perSeconds > 0.
   */
  readonly apiRateLimit?: { readonly maxCalls: number; readonly perSeconds: number }
}

/**
 * The simulated platform the instances live on, apart from any provider object:
 * like a cloud account, it outlives a tide restart, so a new SimProvider over the
 * same SimCloud adopts the instances an earlier one launched. Its limits, when given,
 * bind every provider over it.
 */
export class SimCloud {
  /** Book-keeping per group name. */
  readonly books = new Map<string, GroupBook>()
  /** The next instance number; ids are unique across groups. */
  nextId = 1
  /** The platform's limits (validated). */
  readonly limits: SimCloudOptions
  /** The API rate limit's current window: its start, ms, and the calls made in it. */
  readonly apiWindow = { startMs: Number.NEGATIVE_INFINITY, calls: 0 }

  constructor(limits: SimCloudOptions = {}) {
    const { maxInstances, apiRateLimit } = limits
    if (maxInstances !== undefined && !(Number.isInteger(maxInstances) && maxInstances >= 0)) {
      throw new RangeError(`sim cloud: maxInstances must be a whole number ≥ 0, got ${maxInstances}`)
    }
    if (apiRateLimit !== undefined && !(Number.isInteger(apiRateLimit.maxCalls) && apiRateLimit.maxCalls >= 1 && apiRateLimit.perSeconds > 0)) {
      throw new RangeError(`sim cloud: apiRateLimit needs maxCalls a whole number ≥ 1 and perSeconds > 0, got ${JSON.stringify(apiRateLimit)}`)
    }
    this.limits = limits
  }

  /** Live instances of every group. O(groups). */
  liveTotal(): number {
    let n = 0
    for (const book of this.books.values()) n += book.live.size
    return n
  }
}

export interface SimProviderOptions {
  readonly clock: Clock
  /** The platform to run on; a fresh, empty one when absent. */
  readonly cloud?: SimCloud
  /**
   * Seconds from launch to ready for every group. When absent, each group's own
   * `startupSeconds` (tide.yaml) is used. Must be ≥ 0.
   */
  readonly startupSeconds?: number
}

/**
 * A live instance with its two possible provider records, built once: list() is
 * called every sync period for a simulated month, and rebuilding the records each
 * time was most of its cost.
 */
interface LiveInstance extends SimInstance {
  readonly starting: InstanceRecord
  readonly running: InstanceRecord
}

/** Per-group book-keeping: the live instances and the running bill. */
interface GroupBook {
  readonly live: Map<string, LiveInstance>
  /** Billed milliseconds of instances already terminated. */
  closedMs: number
  /** Σ launchedAtMs over live instances, so that the live bill is count × now − this sum. */
  liveLaunchSumMs: number
  /** Bumped on every launch and termination, so the simulator can cache what it derives from the set. */
  version: number
}

/** Virtual instances over an injected clock. See the module comment. */
export class SimProvider implements Provider {
  readonly name = 'sim'
  readonly capabilities: ProviderCapabilities = { resize: 'none', adopts: true }
  readonly #clock: Clock
  readonly #startupSeconds: number | undefined
  readonly #books: Map<string, GroupBook>
  readonly #cloud: SimCloud

  constructor(opts: SimProviderOptions) {
    if (opts.startupSeconds !== undefined && !(opts.startupSeconds >= 0)) {
      throw new RangeError(`sim provider: startupSeconds must be ≥ 0, got ${opts.startupSeconds}`)
    }
    this.#clock = opts.clock
    this.#startupSeconds = opts.startupSeconds
    this.#cloud = opts.cloud ?? new SimCloud()
    this.#books = this.#cloud.books
  }

  /** Every live instance of the group, 'starting' or 'running' as of the clock's now. ThrottledError beyond the API rate limit. */
  list(group: GroupSpec): Promise<InstanceRecord[]> {
    const nowMs = this.#clock.now()
    const refused = this.#admit('list', nowMs)
    if (refused) return Promise.reject(refused)
    const book = this.#books.get(group.group)
    const out: InstanceRecord[] = []
    if (book) for (const inst of book.live.values()) out.push(recordOf(inst, nowMs))
    return Promise.resolve(out)
  }

  /**
   * Starts `count` instances now; they are ready `startupSeconds` later. count 0 launches
   * nothing. With the cloud's maxInstances, only the room left is launched, and none left is an
   * InsufficientCapacityError; beyond the API rate limit, a ThrottledError.
   */
  launch(group: GroupSpec, size: Size, count: number): Promise<InstanceRecord[]> {
    const nowMs = this.#clock.now()
    const refused = this.#admit('launch', nowMs)
    if (refused) return Promise.reject(refused)
    const max = this.#cloud.limits.maxInstances
    let fits = count
    if (max !== undefined && count > 0) {
      const live = this.#cloud.liveTotal()
      fits = Math.min(count, Math.max(0, max - live))
      if (fits === 0) {
        return Promise.reject(new InsufficientCapacityError('sim', `group ${group.group}: the platform is full (${live} of its ${max} instances live)`))
      }
    }
    return Promise.resolve(this.#add(group, size, fits, nowMs).map((i) => recordOf(i, nowMs)))
  }

  /**
   * Instances that already exist when a simulation starts (a warm start): launched
   * `startup` before `readyAtMs`, so that they serve from `readyAtMs` on. Synchronous.
   */
  seed(group: GroupSpec, size: Size, count: number, readyAtMs: number): readonly SimInstance[] {
    return this.#add(group, size, count, readyAtMs - this.#startupMs(group))
  }

  /**
   * Removes the instance and closes its bill. Terminating an unknown or gone instance succeeds
   * (idempotent). ThrottledError beyond the API rate limit.
   */
  terminate(group: GroupSpec, instanceId: string): Promise<void> {
    const refused = this.#admit('terminate', this.#clock.now())
    if (refused) return Promise.reject(refused)
    const book = this.#books.get(group.group)
    const inst = book?.live.get(instanceId)
    if (book && inst) {
      const nowMs = this.#clock.now()
      book.live.delete(instanceId)
      book.closedMs += nowMs - inst.launchedAtMs
      book.liveLaunchSumMs -= inst.launchedAtMs
      book.version++
    }
    return Promise.resolve()
  }

  /**
   * Billed instance-milliseconds of the group from the first launch up to `nowMs`
   * (default: the clock's now): Σ over terminated instances of (terminated − launched)
   * plus Σ over live ones of (nowMs − launched). O(1).
   */
  billedInstanceMs(groupName: string, nowMs: number = this.#clock.now()): number {
    const book = this.#books.get(groupName)
    if (!book) return 0
    return book.closedMs + book.live.size * nowMs - book.liveLaunchSumMs
  }

  /** Live instances (starting or running) of the group: the ones being billed. O(1). */
  liveCount(groupName: string): number {
    return this.#books.get(groupName)?.live.size ?? 0
  }

  /** The live instances of the group, in launch order, without copying. Do not hold across launches. */
  instances(groupName: string): Iterable<SimInstance> {
    return this.#books.get(groupName)?.live.values() ?? []
  }

  /** A number that changes whenever the group's instance set changes (launch or terminate). */
  version(groupName: string): number {
    return this.#books.get(groupName)?.version ?? 0
  }

  /**
   * Counts one API call at nowMs against the cloud's rate limit (a fixed window of perSeconds
   * from the first call after the last window ended); the ThrottledError to reject with when
   * the window's calls are spent, undefined when the call may go ahead.
   */
  #admit(call: string, nowMs: number): ThrottledError | undefined {
    const limit = this.#cloud.limits.apiRateLimit
    if (limit === undefined) return undefined
    const w = this.#cloud.apiWindow
    const windowMs = limit.perSeconds * 1000
    if (nowMs >= w.startMs + windowMs) {
      w.startMs = nowMs
      w.calls = 0
    }
    if (w.calls < limit.maxCalls) {
      w.calls++
      return undefined
    }
    const retryAfterMs = w.startMs + windowMs - nowMs
    return new ThrottledError('sim', `${call}: the platform's API allows ${limit.maxCalls} call(s) per ${limit.perSeconds} s; retry in ${retryAfterMs} ms`, { retryAfterMs })
  }

  #startupMs(group: GroupSpec): number {
    return (this.#startupSeconds ?? group.startupSeconds) * 1000
  }

  #add(group: GroupSpec, size: Size, count: number, launchedAtMs: number): LiveInstance[] {
    if (!Number.isInteger(count) || count < 0) throw new RangeError(`sim provider: launch count must be a whole number ≥ 0, got ${count}`)
    let book = this.#books.get(group.group)
    if (!book) {
      book = { live: new Map(), closedMs: 0, liveLaunchSumMs: 0, version: 0 }
      this.#books.set(group.group, book)
    }
    const readyAtMs = launchedAtMs + this.#startupMs(group)
    const added: LiveInstance[] = []
    for (let i = 0; i < count; i++) {
      const id = `sim-${group.group}-${this.#cloud.nextId++}`
      const starting: InstanceRecord = { id, group: group.group, status: 'starting', size, launchedAtMs }
      const running: InstanceRecord = { id, group: group.group, status: 'running', size, launchedAtMs, readyAtMs }
      const inst: LiveInstance = { id, group: group.group, size, launchedAtMs, readyAtMs, starting, running }
      book.live.set(inst.id, inst)
      book.liveLaunchSumMs += launchedAtMs
      added.push(inst)
    }
    if (count > 0) book.version++
    return added
  }
}

/** The provider record of an instance at `nowMs`: starting before readyAtMs, running from it. Shared, frozen-by-contract objects. */
function recordOf(inst: LiveInstance, nowMs: number): InstanceRecord {
  return nowMs < inst.readyAtMs ? inst.starting : inst.running
}
