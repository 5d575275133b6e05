/**
 * tide's HTTP router for `local` instances: the public API the controller uses.
 *
 * The Router is the primary: it owns the instance list, the health checks (active
 * and passive), draining and the per-second stats. The proxying itself happens in
 * proxy cores (core-set.ts: proxy-core.ts, or haproxy-core.ts): with routing.workers = 1
 * one core; otherwise one per node:cluster worker, all accepting on the same listen
 * socket, each sent the routing table and asked for its counters every second.
 * The cores run in this process, or, with the `dataPlane` option, in a data-plane
 * process of their own that outlives tide (data-plane.ts), reached over its control
 * socket (data-plane-client.ts) with the same messages. It never imports the controller.
 */
import { EventEmitter } from 'node:events'
import type { InstanceHealth } from '../core/health.ts'
import type { HealthSpec, RoutingSpec } from '../spec/schema.ts'
import { backupTargets, isBackupId, type BackupTarget } from './backup-pool.ts'
import { RouterError, isRouterError, listenError } from './errors.ts'
import { HealthChecker, type HealthTransition } from './health-checker.ts'
import { resolveClasses } from './priority-classes.ts'
import type { FromCore, TableEntry, WindowSample } from './protocol.ts'
import { CoreSet, type Cores, type CoreSetEvents } from './core-set.ts'
import { DataPlaneCores, type DataPlaneAttachment } from './data-plane-client.ts'
import { mergeWindows, type RouterStats } from './stats.ts'

/** An instance the router may send traffic to. Only healthy ones in state warming or in-service get requests. */
export interface RouterInstance {
  readonly id: string
  readonly host: string
  readonly port: number
  readonly state: 'warming' | 'in-service' | 'draining'
  /** Launch time (epoch ms): health.graceSeconds counts from here; defaults to when the router first saw it. */
  readonly launchedAtMs?: number
}

/** Options: the group's routing and health sections (GroupSpec), plus test hooks. */
export interface RouterOptions {
  readonly routing: RoutingSpec
  readonly health: HealthSpec
  /** How often stats windows are cut and the `stats` event fires; 1000 ms by default. */
  readonly statsIntervalMs?: number
  /** Uniform in [0, 1) for p2c picks; Math.random by default. Used only in-process (workers: 1). */
  readonly random?: () => number
  /**
   * Run the proxy cores in the group's data-plane process (routing.dataPlane: process), found
   * or started from its record in `stateDir`, so that the forwarding outlives this process.
   * Absent: the cores run in this process and stop with it.
   */
  readonly dataPlane?: { readonly stateDir: string; readonly group: string }
}

/** The outcome of drain(): completed when the instance had no request in flight before the timeout. */
export interface DrainResult {
  readonly completed: boolean
  /** Requests still in flight when the timeout struck (as of the last stats window); 0 when completed. */
  readonly inFlight: number
}

/**
 * What `backupState()` returns: whether the group has a backup pool (routing.backup), whether it
 * is the one getting traffic now, since when, and its targets.
 */
export interface BackupState {
  readonly configured: boolean
  /** True while no primary instance is routable: requests go to the backup targets (503 when none of them is healthy either). */
  readonly active: boolean
  /** Epoch ms when the current state (active or not) began: the router's start or the last transition; absent before start. */
  readonly sinceMs?: number
  /** The targets as configured (`host:port`, or the url), in order; `backup:N` in the stats is targets[N − 1]. */
  readonly targets: readonly string[]
}

/** A `backup` event: the backup pool started or stopped getting the traffic. */
export interface BackupTransition {
  /** True: failover (no primary is routable); false: failback (a primary is routable again). */
  readonly active: boolean
  /** One sentence: what the primaries and the backup targets look like now. */
  readonly reason: string
  /** Epoch ms of the transition. */
  readonly atMs: number
}

/** Events of the router. */
export interface RouterEvents {
  /** The last completed window, every statsIntervalMs. */
  stats: [RouterStats]
  /** An instance's health changed (active check or passive ejection). */
  health: [HealthTransition]
  /** A core died and is being replaced: a cluster worker, HAProxy, or (dataPlane) the data-plane process, whose connection was lost. */
  'worker-exit': [{ readonly index: number; readonly code: number | null; readonly signal: string | null }]
  /** The backup pool became active (no primary routable) or inactive again; only with routing.backup. */
  backup: [BackupTransition]
}

/** How long the primary waits for every core's window before merging what it has. */
const COLLECT_TIMEOUT_MS = 250

interface DrainWaiter {
  readonly waiting: Set<number>
  readonly resolve: (r: DrainResult) => void
  readonly timer: NodeJS.Timeout
}

/** The router. Construct, `start()`, `setInstances()` as the fleet changes, `drain()` before removal, `stop()`. */
export class Router extends EventEmitter<RouterEvents> {
  readonly #routing: RoutingSpec
  readonly #statsIntervalMs: number
  readonly #random: (() => number) | undefined
  readonly #health: HealthSpec
  readonly #dataPlane: RouterOptions['dataPlane']
  readonly #checker: HealthChecker
  /** Health checks of the backup targets, apart from the instances': they never raise `health` events. */
  readonly #backupChecker: HealthChecker
  readonly #backups: readonly BackupTarget[]
  #backupActive = false
  #backupSinceMs: number | undefined
  readonly #instances = new Map<string, RouterInstance>()
  readonly #draining = new Set<string>()
  readonly #drainWaiters = new Map<string, DrainWaiter[]>()
  #cores: Cores | undefined
  /** An adopted data plane's table, by id, until the first setInstances: its routable instances start healthy. */
  #inherited: Map<string, TableEntry> | undefined
  #coreCount = 1
  #stats: RouterStats
  #statsTimer: NodeJS.Timeout | undefined
  #seq = 0
  #pending: { seq: number; answered: Set<number>; timer: NodeJS.Timeout } | undefined
  /** Windows received since the last publication. */
  #late: WindowSample[] = []
  #state: 'new' | 'starting' | 'running' | 'stopping' | 'stopped' = 'new'
  #port = 0

  constructor(options: RouterOptions) {
    super()
    this.#routing = options.routing
    this.#statsIntervalMs = options.statsIntervalMs ?? 1000
    this.#random = options.random
    this.#health = options.health
    this.#dataPlane = options.dataPlane
    this.#checker = new HealthChecker(options.health, this.#onHealthChange)
    this.#backups = backupTargets(options.routing)
    // An upstream's health path lies under its prefix, as every request sent to it does.
    const backupHealth = { ...options.health, path: `${this.#backups[0]?.pathPrefix ?? ''}${options.health.path}` }
    this.#backupChecker = new HealthChecker(backupHealth, this.#onBackupHealthChange)
    this.#stats = mergeWindows([], resolveClasses(options.routing.classes), () => 'unknown')
  }

  /** The port the router listens on (routing.listen, or the one the OS chose for 0); 0 before start(). */
  get port(): number {
    return this.#port
  }

  /** The number of proxy cores: routing.workers, or one per core when 0. */
  get workers(): number {
    return this.#coreCount
  }

  /**
   * Starts listening on routing.host:routing.listen (with `dataPlane`: adopts the group's data
   * plane when one serves with the same config, else starts one). Rejects with
   * TIDE_ERR_ROUTER_LISTEN naming the address when it cannot listen there (in use, not allowed),
   * with TIDE_ERR_ROUTER_USAGE when a worker or data plane fails to start otherwise; calling it
   * twice is a TIDE_ERR_ROUTER_USAGE error. Whatever it started is stopped again on failure.
   */
  async start(): Promise<{ port: number }> {
    if (this.#state !== 'new') throw new RouterError('TIDE_ERR_ROUTER_USAGE', `Router.start() called when ${this.#state}`)
    this.#state = 'starting'
    const events: CoreSetEvents = {
      onMessage: (index, msg) => {
        this.#onCoreMessage(index, msg)
      },
      onExit: (e) => {
        if (this.#state === 'running') this.emit('worker-exit', e)
      },
      onReplaced: () => {
        this.#broadcastTable()
      },
    }
    const dp = this.#dataPlane
    const cores: Cores = dp
      ? new DataPlaneCores({ group: dp.group, stateDir: dp.stateDir, routing: this.#routing, health: this.#health }, events)
      : new CoreSet({ routing: this.#routing, ...(this.#random ? { random: this.#random } : {}) }, events)
    this.#cores = cores
    this.#coreCount = cores.count
    try {
      this.#port = await cores.start()
    } catch (err) {
      this.#state = 'stopped'
      throw this.#listenError(err)
    }
    const adopted = cores instanceof DataPlaneCores && cores.attachment?.kind === 'adopted' ? cores.attachment.entries : undefined
    // An adopted data plane keeps its table until this primary knows its instances (setInstances):
    // an empty table now would take every instance out of rotation.
    if (adopted !== undefined) this.#inherited = new Map(adopted.map((e) => [e.id, e]))
    this.#state = 'running'
    this.#backupSinceMs = Date.now()
    for (const b of this.#backups) this.#backupChecker.add(b.id, { host: b.host, port: b.port }, Date.now(), adopted?.find((e) => e.id === b.id)?.routable === true ? 'healthy' : 'unknown')
    this.#broadcastTable()
    this.#statsTimer = setInterval(this.#collect, this.#statsIntervalMs)
    return { port: this.#port }
  }

  /**
   * How this router came by its data plane (`dataPlane` option): started, adopted from a tide
   * before (with how long it had gone unattended) or replaced (and why); undefined in-process.
   */
  dataPlane(): DataPlaneAttachment | undefined {
    return this.#cores instanceof DataPlaneCores ? this.#cores.attachment : undefined
  }

  /**
   * Lets go of the data plane without stopping it (`tide up --keep-instances`): it serves on with
   * its last table and its own health checks until a tide adopts it. Stops this primary's checks
   * and stats. In-process (no data plane) it is stop().
   */
  async release(): Promise<void> {
    if (!(this.#cores instanceof DataPlaneCores)) {
      await this.stop()
      return
    }
    if (this.#state === 'stopped' || this.#state === 'stopping') return
    this.#state = 'stopping'
    this.#stopTimers()
    await this.#cores.release()
    this.#resolveDrainWaiters()
    this.#state = 'stopped'
  }

  /** An OS listen error (EADDRINUSE…) as TIDE_ERR_ROUTER_LISTEN naming the address; other errors unchanged. */
  #listenError(err: unknown): unknown {
    if (isRouterError(err)) return err
    const code = (err as NodeJS.ErrnoException | undefined)?.code
    if (typeof code !== 'string') return err
    return listenError(this.#routing.host, this.#routing.listen, code, err instanceof Error ? err.message : String(err), err)
  }

  /**
   * Replaces the instance list. Instances absent from it get no new requests
   * (their in-flight ones finish) and stop being health-checked; new ones are
   * checked at once and get traffic after their first passing check.
   */
  setInstances(list: readonly RouterInstance[]): void {
    const ids = new Set(list.map((i) => i.id))
    for (const id of this.#instances.keys()) {
      if (!ids.has(id)) {
        this.#instances.delete(id)
        this.#draining.delete(id)
        this.#checker.remove(id)
      }
    }
    const inherited = this.#inherited
    this.#inherited = undefined
    for (const inst of list) {
      this.#instances.set(inst.id, inst)
      // An instance the adopted data plane routes to stays routable while its first check runs.
      const was = inherited?.get(inst.id)
      const seed = was !== undefined && was.routable && was.host === inst.host && was.port === inst.port ? 'healthy' : 'unknown'
      this.#checker.add(inst.id, { host: inst.host, port: inst.port }, inst.launchedAtMs, seed)
    }
    this.#broadcastTable()
  }

  /**
   * Stops sending new requests to an instance and resolves once every core has no
   * request in flight to it ({ completed: true }), or after timeoutMs
   * ({ completed: false, inFlight }). The instance stays draining until it leaves
   * the list given to setInstances. An unknown id resolves completed at once.
   */
  drain(id: string, options: { readonly timeoutMs: number }): Promise<DrainResult> {
    if (!this.#instances.has(id) || this.#state !== 'running') return Promise.resolve({ completed: true, inFlight: 0 })
    return new Promise((resolve) => {
      const waiter: DrainWaiter = {
        waiting: new Set(Array.from({ length: this.#coreCount }, (_, i) => i)),
        resolve,
        timer: setTimeout(() => {
          this.#removeWaiter(id, waiter)
          const inFlight = this.#stats.instances.find((s) => s.id === id)?.inFlight ?? 0
          resolve({ completed: false, inFlight: Math.max(1, inFlight) })
        }, options.timeoutMs),
      }
      const list = this.#drainWaiters.get(id) ?? []
      list.push(waiter)
      this.#drainWaiters.set(id, list)
      this.#draining.add(id)
      this.#broadcastTable()
    })
  }

  #removeWaiter(id: string, waiter: DrainWaiter): void {
    const list = (this.#drainWaiters.get(id) ?? []).filter((w) => w !== waiter)
    if (list.length === 0) this.#drainWaiters.delete(id)
    else this.#drainWaiters.set(id, list)
  }

  /** The last completed stats window (all zero before the first). */
  stats(): RouterStats {
    return this.#stats
  }

  /**
   * The backup pool: whether there is one, whether it gets the traffic now (no primary
   * instance routable: none listed, or none healthy in state warming or in-service), since
   * when, and its targets. Not configured: `{ configured: false, active: false, targets: [] }`.
   */
  backupState(): BackupState {
    const targets = this.#backups.map((b) => b.label)
    if (targets.length === 0) return { configured: false, active: false, targets }
    return { configured: true, active: this.#backupActive, ...(this.#backupSinceMs === undefined ? {} : { sinceMs: this.#backupSinceMs }), targets }
  }

  /** Health of every listed instance: 'unknown' until its first check completes. Backup targets are not in it. */
  health(): Map<string, InstanceHealth> {
    return new Map([...this.#instances.keys()].map((id) => [id, this.#checker.health(id)]))
  }

  /**
   * Stops: no new connections, in-flight requests get up to graceMs (default
   * routing.drainSeconds) to finish, then everything is closed and cluster
   * workers exit. Pending drain() calls resolve. Safe to call twice.
   */
  async stop(options: { readonly graceMs?: number } = {}): Promise<void> {
    if (this.#state === 'stopped' || this.#state === 'stopping') return
    this.#state = 'stopping'
    this.#stopTimers()
    await this.#cores?.stop(options.graceMs ?? this.#routing.drainSeconds * 1000)
    this.#resolveDrainWaiters()
    this.#state = 'stopped'
  }

  #stopTimers(): void {
    clearInterval(this.#statsTimer)
    if (this.#pending) clearTimeout(this.#pending.timer)
    this.#checker.stop()
    this.#backupChecker.stop()
  }

  #resolveDrainWaiters(): void {
    for (const [id, list] of this.#drainWaiters) {
      for (const w of list) {
        clearTimeout(w.timer)
        w.resolve({ completed: true, inFlight: 0 })
      }
      this.#drainWaiters.delete(id)
    }
  }

  // ── messages from cores ────────────────────────────────────────────────────

  #onCoreMessage(index: number, msg: FromCore): void {
    switch (msg.t) {
      case 'listening':
      case 'listen-failed':
        break
      case 'window':
        this.#onWindow(index, msg.seq, msg.sample)
        break
      case 'eject':
        ;(isBackupId(msg.id) ? this.#backupChecker : this.#checker).eject(msg.id, `${msg.failures} consecutive failures (last: ${msg.reason})`)
        break
      case 'drained':
        this.#onDrained(index, msg.id)
        break
      case 'stopped':
        // The core set waits for it (core-set.ts, data-plane-client.ts).
        break
    }
  }

  #onDrained(index: number, id: string): void {
    if (!this.#draining.has(id) && this.#instances.has(id)) return
    for (const w of [...(this.#drainWaiters.get(id) ?? [])]) {
      w.waiting.delete(index)
      if (w.waiting.size === 0) {
        clearTimeout(w.timer)
        this.#removeWaiter(id, w)
        w.resolve({ completed: true, inFlight: 0 })
      }
    }
  }

  readonly #onHealthChange = (t: HealthTransition): void => {
    this.#broadcastTable()
    this.emit('health', t)
  }

  readonly #onBackupHealthChange = (): void => {
    this.#broadcastTable()
  }

  #broadcastTable(): void {
    if (this.#state !== 'running') return
    const entries: TableEntry[] = []
    for (const inst of this.#instances.values()) {
      const draining = inst.state === 'draining' || this.#draining.has(inst.id)
      const routable = !draining && this.#checker.health(inst.id) === 'healthy'
      entries.push({ id: inst.id, host: inst.host, port: inst.port, routable, draining })
    }
    const primaries = entries.filter((e) => e.routable)
    for (const b of this.#backups) {
      const routable = this.#backupChecker.health(b.id) === 'healthy'
      entries.push({ id: b.id, host: b.host, port: b.port, routable, draining: false, backup: true, ...(b.pathPrefix === '' ? {} : { pathPrefix: b.pathPrefix }) })
    }
    // Until setInstances, an adopted data plane's own table stays in force (start()).
    if (this.#inherited === undefined) for (let i = 0; i < this.#coreCount; i++) this.#cores?.send(i, { t: 'table', entries })
    if (this.#backups.length > 0) this.#updateBackup(primaries.map((e) => e.id))
  }

  /** Emits `backup` when the pool starts or stops getting the traffic: while no primary is routable. */
  #updateBackup(routablePrimaries: readonly string[]): void {
    const active = routablePrimaries.length === 0
    if (active === this.#backupActive) return
    const atMs = Date.now()
    this.#backupActive = active
    this.#backupSinceMs = atMs
    this.emit('backup', { active, reason: active ? this.#failoverReason() : failbackReason(routablePrimaries), atMs })
  }

  /** Why the backup pool took over, and whether it can serve. */
  #failoverReason(): string {
    const listed = this.#instances.size
    let draining = 0
    let unhealthy = 0
    let unchecked = 0
    for (const inst of this.#instances.values()) {
      const health = this.#checker.health(inst.id)
      if (inst.state === 'draining' || this.#draining.has(inst.id)) draining++
      else if (health === 'unknown') unchecked++
      else if (health !== 'healthy') unhealthy++
    }
    const why = [
      ...(unhealthy > 0 ? [`${unhealthy} unhealthy`] : []),
      ...(unchecked > 0 ? [`${unchecked} not checked healthy yet`] : []),
      ...(draining > 0 ? [`${draining} draining`] : []),
    ].join(', ')
    const primaries =
      listed === 0
        ? 'no primary instance is listed'
        : listed === 1
          ? `the only primary instance is not routable (${why})`
          : `none of the ${listed} primary instances is routable (${why})`
    const healthy = this.#backups.filter((b) => this.#backupChecker.health(b.id) === 'healthy').length
    const n = this.#backups.length
    const pool =
      healthy === 0
        ? `no backup target is healthy either (0 of ${n}, or not checked yet): requests get 503 until one is`
        : `the backup pool serves (${healthy} of ${n} target${n === 1 ? '' : 's'} healthy)`
    return `${primaries}; ${pool}`
  }

  // ── stats ──────────────────────────────────────────────────────────────────

  readonly #collect = (): void => {
    if (this.#pending) this.#publish()
    const seq = ++this.#seq
    this.#pending = { seq, answered: new Set(), timer: setTimeout(() => { this.#publish() }, COLLECT_TIMEOUT_MS) }
    for (let i = 0; i < this.#coreCount; i++) this.#cores?.send(i, { t: 'collect', seq })
  }

  /**
   * A core's window. Each window holds the counts since that core's previous cut,
   * so a late one (a busy worker missed the collect timeout) is not dropped but
   * merged into the next publication: no request is ever lost from the counts.
   */
  #onWindow(index: number, seq: number, sample: WindowSample): void {
    this.#late.push(sample)
    const pending = this.#pending
    if (pending?.seq !== seq) return
    pending.answered.add(index)
    if (pending.answered.size >= this.#coreCount) this.#publish()
  }

  #publish(): void {
    const pending = this.#pending
    if (!pending) return
    clearTimeout(pending.timer)
    this.#pending = undefined
    const samples = this.#late
    this.#late = []
    if (samples.length === 0) return
    this.#stats = mergeWindows(samples, resolveClasses(this.#routing.classes), (id) => (isBackupId(id) ? this.#backupChecker : this.#checker).health(id))
    this.emit('stats', this.#stats)
  }
}

/** Why the primaries took the traffic back: which instances are routable again. */
function failbackReason(routable: readonly string[]): string {
  const shown = routable.slice(0, 3).join(', ')
  const more = routable.length > 3 ? ` and ${routable.length - 3} more` : ''
  return `primary instance${routable.length === 1 ? '' : 's'} ${shown}${more} routable again: traffic returns to the primaries`
}
