/**
 * What a standby `tide up` (one that does not hold the leadership lease, docs/ha.md) answers:
 * the read-only queries of the API, from the shared PostgreSQL store, with no Runtime (no
 * controller, no router, no provider): the groups of its config file with the statuses the
 * leader saved, the event log, a group's metric history, and who leads. Every command is
 * refused with TIDE_ERR_API_NOT_LEADER (503), naming the leader, so an operator's change goes
 * to the one tide that acts.
 *
 * The store's reads are asynchronous (the database), so every query here is.
 */
import { systemClock, type Clock } from '../core/clock.ts'
import type { GroupSpec } from '../spec/schema.ts'
import { redactLaunchEnv } from '../spec/redact.ts'
import { eventsPage, metricHistory, type HistoryReads } from './history-reads.ts'
import type { StoredGroupStatus } from '../store/state-store.ts'
import { ApiError } from './errors.ts'
import type { EventsPage, EventsQuery, GroupDetail, GroupSummary, MetricsAnswer, MetricsQuery } from './tide-service.ts'
import type { GroupStatus } from '../controller/group-status.ts'

/** The store's asynchronous reads a standby needs (the PostgreSQL store's StoreReader). */
export interface StandbyStoreReads extends HistoryReads {
  readGroupStatuses(): Promise<StoredGroupStatus[]>
}

/** Who leads, as `GET /status` says it. */
export interface LeadershipStatus {
  /** 'leader': this tide holds the lease and acts; 'standby': another does (or none yet); 'single': no election (one tide). */
  readonly role: 'leader' | 'standby' | 'single'
  /** This tide's identity in the election (host and pid, or the pod's name); absent for 'single'. */
  readonly identity?: string
  /** The lease's holder as last seen; absent when nobody holds it. */
  readonly leader?: string
  /** The lease's epoch (the fencing token) as last seen; absent before the lease was ever read. */
  readonly epoch?: number
  /** The lease's name (tide_lease.name), or NAMESPACE/NAME of a Kubernetes Lease. */
  readonly lease?: string
}

/** Options of a standby read model. */
export interface StandbyReadModelOptions {
  readonly reads: StandbyStoreReads
  /** The groups of this tide's config file (a standby runs the same file as the leader). */
  readonly groups: readonly GroupSpec[]
  /** Who leads now (the election's last reading). */
  readonly leadership: () => LeadershipStatus
  /** The default end of a metrics range; the wall clock when absent. */
  readonly clock?: Clock
}

/** The read-only API model of a standby. */
export class StandbyReadModel {
  readonly #o: StandbyReadModelOptions
  readonly #clock: Clock

  constructor(options: StandbyReadModelOptions) {
    this.#o = options
    this.#clock = options.clock ?? systemClock
  }

  /** Who leads (GET /status). */
  status(): LeadershipStatus {
    return this.#o.leadership()
  }

  /** The error every command gets: 503 TIDE_ERR_API_NOT_LEADER, naming the leader. */
  notLeader(what: string): ApiError {
    const s = this.#o.leadership()
    const leader = s.leader === undefined ? 'no tide holds the leadership lease right now (a failover is under way)' : `the leader is ${s.leader}${s.epoch === undefined ? '' : ` (epoch ${s.epoch})`}`
    return new ApiError('TIDE_ERR_API_NOT_LEADER', `${what}: this tide (${s.identity ?? 'standby'}) is a standby and serves reads only; ${leader}: send changes to its API`)
  }

  /** The config's groups, each with the status the leader last saved (null before its first tick). */
  async listGroups(): Promise<GroupSummary[]> {
    const statuses = await this.#statuses()
    return this.#o.groups.map((g) => this.#summary(g, statuses.get(g.group)))
  }

  /** One group with its spec (launch.env redacted unless `revealEnv`); NOT_FOUND for a group not in the config. */
  async getGroup(name: string, options: { readonly revealEnv?: boolean } = {}): Promise<GroupDetail> {
    const spec = this.#find(name)
    const status = (await this.#statuses()).get(name)
    return { ...this.#summary(spec, status), spec: options.revealEnv === true ? spec : redactLaunchEnv(spec) }
  }

  /** A page of the event log, newest first (as TideService.events; the cursor is the last id of the page before). */
  async events(q: EventsQuery = {}): Promise<EventsPage> {
    return eventsPage(this.#o.reads, q)
  }

  /** A group's metric history (as TideService.metrics): NOT_FOUND for a group not in the config. */
  async metrics(group: string, q: MetricsQuery = {}): Promise<MetricsAnswer> {
    this.#find(group)
    return metricHistory(this.#o.reads, group, q, this.#clock.now())
  }

  async #statuses(): Promise<Map<string, StoredGroupStatus>> {
    return new Map((await this.#o.reads.readGroupStatuses()).map((s) => [s.group, s]))
  }

  #find(name: string): GroupSpec {
    const spec = this.#o.groups.find((g) => g.group === name)
    if (spec === undefined) throw new ApiError('TIDE_ERR_API_NOT_FOUND', `no group ${JSON.stringify(name)} (groups: ${this.#o.groups.map((g) => g.group).join(', ') || 'none'})`)
    return spec
  }

  #summary(spec: GroupSpec, status: StoredGroupStatus | undefined): GroupSummary {
    // A stored status is the controller's GroupStatus (state-store.ts); it says whether the group was paused when the leader wrote it.
    const s = status as GroupStatus | undefined
    return { group: spec.group, provider: spec.provider, state: 'active', paused: s?.paused !== undefined, status: s ?? null }
  }
}

