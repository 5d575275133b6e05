/**
 * The composition root of a running tide (`tide up`, `tide demo`): the store, a backend per
 * group from the backend registry (backends/: for a local group, its router, signals, health
 * and drain), the controller and its run loop, and the reload that changes groups while it
 * runs. Everything else in tide is built to be tested alone; this file wires it together with
 * real I/O and the wall clock.
 */
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import { systemClock, type Clock } from '../core/clock.ts'
import type { EventSink, TideEvent } from '../store/events.ts'
import type { Backend } from '../controller/backend.ts'
import { fenceBackend } from '../controller/fenced-backend.ts'
import type { FencedActionError } from '../providers/errors.ts'
import type { LeadershipView } from '../store/leadership.ts'
import { Controller, type GroupChanges, type ReconcileResult } from '../controller/reconciler.ts'
import { historyReadings } from '../controller/history-series.ts'
import { runLoop } from '../controller/run-loop.ts'
import type { FleetQuotas } from '../engine/types.ts'
import type { Series } from '../forecast/series.ts'
import { TideError } from '../errors.ts'
import type { Router } from '../router/router.ts'
import type { GlobalSpec, GroupSpec, TideConfig } from '../spec/schema.ts'
import { isStoreError, type Fence } from '../store/errors.ts'
import { PostgresStore } from '../store/postgres/postgres-store.ts'
import { SqliteStore } from '../store/sqlite-store.ts'
import { stopDataPlanesExcept } from '../router/data-plane-client.ts'
import type { StoreReader, TideStore } from '../store/tide-store.ts'
import { BackendRegistry, type GroupBackend } from './backends/index.ts'
import type { ResourceSampler } from './router-signals.ts'

export interface RuntimeOptions {
  readonly config: TideConfig
  /** Where instance logs go (state/logs/…). */
  readonly stateDir: string
  /** The SQLite store file; `:memory:` for throwaway runs. Unused when storeUrl is given. */
  readonly storePath: string
  /** A PostgreSQL store's URL (global.store.url): overrides storePath. */
  readonly storeUrl?: string
  /**
   * Where the store says what happens to it (a PostgreSQL flush failing and recovering, a lost
   * connection); lines hold no password. Default: standard error.
   */
  readonly storeLog?: (line: string) => void
  /**
   * The fence of every flush (a leader's lease: the batch is written only while it holds), asked
   * at each flush; undefined: unfenced. Only a PostgreSQL store can check one.
   */
  readonly fence?: () => Fence | undefined
  /** Called when a fenced flush was refused (FencedError): this tide no longer leads; what it wrote since the last flush is dropped. */
  readonly onFenced?: (err: Error) => void
  /**
   * The leadership lease this tide acts under (docs/ha.md): every provider action and drain is
   * fenced on it (src/controller/fenced-backend.ts), refused when it is not known held.
   * Undefined: one tide, no election, nothing fenced.
   */
  readonly leadership?: LeadershipView
  /** Told of each action the lease refused (tide up stops at once); must not throw. */
  readonly onActionRefused?: (err: FencedActionError) => void
  /** Extra event sinks (the terminal, webhooks). */
  readonly events?: EventSink
  /** Cpu, memory and disk bytes per instance (the /proc sampler). */
  readonly sampler?: ResourceSampler
  readonly clock?: Clock
  /** Called after every reconcile, with its results (the demo's live view). */
  readonly onTick?: (results: readonly ReconcileResult[]) => void
}

/**
 * The group's recorded demand (the 'rps' series of the metric history, 1-minute means, up to
 * 21 days) as a forecaster's series, so that a restarted tide forecasts at once instead of
 * learning for two days again. Minutes without a sample are gaps.
 */
export async function demandHistory(store: Pick<StoreReader, 'readMetric'>, group: string, nowMs: number): Promise<Series | undefined> {
  const stepMs = 60_000
  const toMs = Math.floor(nowMs / stepMs) * stepMs
  const fromMs = toMs - 21 * 86_400_000
  const points = (await store.readMetric(group, 'rps', fromMs, toMs, stepMs)).points
  const first = points[0]
  if (first === undefined) return undefined
  const values: (number | null)[] = new Array<number | null>(Math.round((toMs - first.atMs) / stepMs)).fill(null)
  for (const p of points) {
    const i = Math.round((p.atMs - first.atMs) / stepMs)
    if (i >= 0 && i < values.length) values[i] = p.avg
  }
  return { startSec: first.atMs / 1000, stepSeconds: 60, values }
}

/** The fleet quotas of a config's global section, as the engine takes them. */
function fleetQuotas(global: GlobalSpec): FleetQuotas {
  const { perProvider, ...fleet } = global.quotas
  return { ...fleet, perProvider }
}

/** What a reload did: the groups added, changed and removed (removed ones drain and stop over the next ticks). */
export type ReloadResult = GroupChanges

/** A running tide. Create with `Runtime.start`, end with `stop`. */
export class Runtime {
  readonly controller: Controller
  /** The store (SQLite or PostgreSQL): the controller's state, the event log, the metric history. */
  readonly store: TideStore
  readonly #backends: Map<string, GroupBackend>
  readonly #registry: BackendRegistry
  readonly #opts: RuntimeOptions
  #config: TideConfig
  readonly #clock: Clock
  readonly #abort = new AbortController()
  readonly #sinks: EventSink[]
  /** Backends of removed groups, stopped once the controller says their instances are gone. */
  readonly #stopping = new Set<Promise<void>>()
  #prunedAtMs = 0
  #loop: Promise<void> | undefined
  /** Each predictive group's recorded demand, read before its first tick (the controller asks synchronously). */
  readonly #demand: Map<string, Series | undefined>
  /** Waiters for the next flush to end (nextFlush). */
  #flushWaiters: (() => void)[] = []

  private constructor(opts: RuntimeOptions, store: TideStore, registry: BackendRegistry, backends: Map<string, GroupBackend>, sinks: EventSink[], demand: Map<string, Series | undefined>) {
    this.#opts = opts
    this.#config = opts.config
    this.#clock = opts.clock ?? systemClock
    this.store = store
    this.#registry = registry
    this.#backends = backends
    this.#sinks = sinks
    this.#demand = demand
    this.controller = new Controller({
      groups: opts.config.groups,
      backend: (spec) => this.#fencedBackendOf(spec),
      clock: this.#clock,
      quotas: fleetQuotas(opts.config.global),
      events: fanOutTo(this.#sinks),
      store,
      demandHistory: (spec) => this.#demand.get(spec.group),
      // The learners are checkpointed every 5 minutes, on a new start-up sample, and on stop (below).
      checkpointSeconds: 300,
      // A launch or terminate intent is in PostgreSQL before the provider is called (SQLite writes at once).
      ...(store.kind === 'sqlite' ? {} : { persist: () => store.flush(opts.fence?.()) }),
      onGroupRemoved: (spec) => {
        this.#stopBackend(spec.group)
      },
    })
  }

  /**
   * Opens the store (a SQLite file, taking its lock; or the PostgreSQL database of storeUrl,
   * migrated and mirrored), starts a backend per group (a local group's router listens when
   * this resolves), and returns. Nothing is launched until `run()` or `tick()`; on any failure
   * everything started so far is stopped again, except the data planes adopted from an earlier
   * tide, which are released still serving (docs/ha.md).
   */
  static async start(opts: RuntimeOptions): Promise<Runtime> {
    mkdirSync(opts.stateDir, { recursive: true })
    const store = await openStore(opts)
    const sinks: EventSink[] = opts.events ? [store, opts.events] : [store]
    const registry = new BackendRegistry({
      stateDir: opts.stateDir,
      registry: store.instanceRegistry(),
      backupRuns: store,
      ...(store.kind === 'sqlite' ? {} : { persist: () => store.flush(opts.fence?.()) }),
      events: fanOutTo(sinks),
      clock: opts.clock ?? systemClock,
      ...(opts.sampler === undefined ? {} : { sampler: opts.sampler }),
      // The API token is tide's secret, not the instances': withheld under its default name and the configured one.
      withholdEnv: [...new Set(['TIDE_API_TOKEN', opts.config.global.api.tokenEnv])],
    })
    const backends = new Map<string, GroupBackend>()
    try {
      for (const g of opts.config.groups) {
        const why = registry.refuses(g)
        if (why !== undefined) throw new TideError('TIDE_ERR_CONFIG', why)
      }
      // Data planes left by an earlier tide for groups this config has not (or runs in-process) stop first: they may hold the port.
      const keep = new Set(opts.config.groups.filter((g) => g.provider === 'local' && g.routing.dataPlane === 'process').map((g) => g.group))
      for (const { group, message } of await stopDataPlanesExcept(opts.stateDir, keep, 5000)) {
        fanOutTo(sinks).append({ atMs: (opts.clock ?? systemClock).now(), group, type: 'data-plane', message })
      }
      const demand = await demandOf(store, opts.config.groups, (opts.clock ?? systemClock).now())
      for (const g of opts.config.groups) backends.set(g.group, await registry.start(g))
      return new Runtime(opts, store, registry, backends, sinks, demand)
    } catch (err) {
      // An adopted data plane is let go, not stopped: a tide that fails to start must not take the traffic of the groups it adopted.
      await Promise.allSettled([...backends.values()].map((b) => (b.release !== undefined && b.router?.dataPlane()?.kind === 'adopted' ? b.release() : b.stop())))
      await store.close()
      throw err
    }
  }

  /**
   * Makes the store's writes so far durable (a PostgreSQL store: one round trip; SQLite: nothing
   * to do), fenced by the fence option. A failure is not thrown: the store keeps the batch for
   * the next flush and says so on storeLog; a fenced flush calls onFenced. Resolves once done.
   */
  async flush(): Promise<void> {
    try {
      await this.store.flush(this.#opts.fence?.())
    } catch (err) {
      if (isStoreError(err, 'TIDE_ERR_STORE_FENCED')) this.#opts.onFenced?.(err)
      else if (!isStoreError(err, 'TIDE_ERR_STORE_IO')) throw err
    } finally {
      const waiters = this.#flushWaiters
      this.#flushWaiters = []
      for (const w of waiters) w()
    }
  }

  /**
   * Resolves when what was written so far is in the store, as far as a reader can tell: at once
   * for SQLite; after the next flush ends (or `timeoutMs`) for PostgreSQL. For the live event
   * stream, which reads an event back from the store to give it its id.
   */
  written(timeoutMs = 5000): Promise<void> {
    if (this.store.kind === 'sqlite') return Promise.resolve()
    return new Promise((resolve) => {
      const timer = setTimeout(done, timeoutMs)
      timer.unref()
      function done(): void {
        clearTimeout(timer)
        resolve()
      }
      this.#flushWaiters.push(done)
    })
  }

  /** Records an event of tide itself (leadership taken or handed back) in every sink: the store, the terminal, the API's listeners. */
  emit(event: TideEvent): void {
    fanOutTo(this.#sinks).append(event)
  }

  /** Adds a sink (webhook alerts) that sees every event from now on. */
  addEventSink(sink: EventSink): void {
    this.#sinks.push(sink)
  }

  /** The config in force (the last one loaded or reloaded). */
  get config(): TideConfig {
    return this.#config
  }

  /** tide's router of each local group (including removed groups still draining), by group. */
  get routers(): ReadonlyMap<string, Router> {
    const out = new Map<string, Router>()
    for (const [group, b] of this.#backends) if (b.router !== undefined) out.set(group, b.router)
    return out
  }

  /** The process of a local instance (pid, start time, cpu size), from its last observed record. */
  processOf(instanceId: string): { readonly pid: number; readonly startTime: string; readonly cpu: number } | undefined {
    for (const g of [...this.controller.groups(), ...this.controller.removingGroups()]) {
      const i = this.controller.status(g.group)?.instances.find((x) => x.id === instanceId)
      const pid = Number(i?.meta?.pid)
      const startTime = i?.meta?.startTime
      if (i && Number.isInteger(pid) && pid > 0 && startTime) return { pid, startTime, cpu: i.size.cpu }
    }
    return undefined
  }

  /** Where each group's requests enter (its router), for groups tide routes. */
  endpoints(): { group: string; url: string; proxy: GroupSpec['routing']['proxy'] }[] {
    const out: { group: string; url: string; proxy: GroupSpec['routing']['proxy'] }[] = []
    for (const g of this.controller.groups()) {
      const e = this.#backends.get(g.group)?.endpoint
      if (e !== undefined) out.push({ group: g.group, ...e })
    }
    return out
  }

  /** One reconcile of every group, whatever its sync period (tests, the demo's first tick); the metric history follows it, then the flush. */
  async tick(): Promise<readonly ReconcileResult[]> {
    const results = this.#afterTick(await this.controller.reconcileOnce())
    await this.flush()
    return results
  }

  /** The fast scale-out path between ticks (slo.fastScaleOut); flushes when it acted. */
  async fastTick(): Promise<readonly ReconcileResult[]> {
    if (!this.controller.fastScaleOutDue()) return []
    const results = await this.controller.fastScaleOut()
    if (results.length > 0) {
      this.#opts.onTick?.(results)
      await this.flush()
    }
    return results
  }

  /**
   * Starts the run loop: every second (or the shortest sync period, if shorter) the groups whose
   * own sync period is due are reconciled (Controller.reconcileDue), then the fast scale-out path
   * runs for the others.
   */
  run(): void {
    if (this.#loop) return
    this.#loop = runLoop({
      controller: {
        reconcileOnce: async () => {
          try {
            const results = await this.controller.reconcileDue()
            if (results.length > 0) this.#afterTick(results)
            await this.fastTick()
          } finally {
            // One round trip per tick (PostgreSQL), whatever the tick did, failed ticks included.
            await this.flush()
          }
        },
      },
      clock: this.#clock,
      intervalMs: () => Math.min(1000, ...this.controller.groups().map((g) => g.syncPeriodSeconds * 1000)),
      signal: this.#abort.signal,
      // One group's failure is the controller's to isolate (its own 'reconcile-failed' event); what
      // reaches here failed the tick for every group (deciding, the store).
      onError: (err) => {
        for (const g of this.controller.groups()) {
          this.store.append({ atMs: this.#clock.now(), group: g.group, type: 'reconcile-failed', message: `reconcile failed for every group: ${err instanceof Error ? err.message : String(err)}` })
        }
      },
    })
  }

  /**
   * Applies a new config while running (SIGHUP). Validated whole first: anything this running
   * tide cannot apply (another store, a group whose provider cannot run here, a change that takes
   * a new router) refuses the whole reload with a TideError saying why, and nothing changes.
   * Then added groups' backends start (a router that cannot listen undoes the others and
   * refuses), and the controller takes the new groups and quotas: added groups are reconciled
   * from the next tick, removed ones are drained and stopped, then their backends stop.
   */
  reload(next: TideConfig): Promise<ReloadResult> {
    // One reload at a time (SIGHUP and the API may ask at once): each sees the backends the one before left.
    const run = this.#reloading.then(
      () => this.#reload(next),
      () => this.#reload(next),
    )
    this.#reloading = run.catch(() => undefined)
    return run
  }

  #reloading: Promise<unknown> = Promise.resolve()

  /**
   * Why this running tide cannot take `spec` without a restart (a running group's new provider,
   * router port, health or routing; a provider that cannot run here), or undefined when a reload
   * can apply it. Reads only: what reload checks first, for a caller that validates a change.
   */
  refuses(spec: GroupSpec): string | undefined {
    const running = this.#backends.get(spec.group)
    return running === undefined ? this.#registry.refuses(spec) : running.refuses(spec)
  }

  async #reload(next: TideConfig): Promise<ReloadResult> {
    const before = this.#config
    if (next.global.store.path !== before.global.store.path) throw new TideError('TIDE_ERR_CONFIG', `global.store.path changed (${before.global.store.path} → ${next.global.store.path}); another store takes a restart of tide up`)
    if (next.global.store.url !== before.global.store.url) throw new TideError('TIDE_ERR_CONFIG', 'global.store.url changed; another store takes a restart of tide up')
    const added: GroupSpec[] = []
    for (const g of next.groups) {
      const why = this.refuses(g)
      if (why !== undefined) throw new TideError('TIDE_ERR_CONFIG', why)
      if (!this.#backends.has(g.group)) added.push(g)
    }
    const started: [string, GroupBackend][] = []
    try {
      for (const g of added) started.push([g.group, await this.#registry.start(g)])
    } catch (err) {
      await Promise.allSettled(started.map(([, b]) => b.stop()))
      throw err
    }
    for (const [group, b] of started) this.#backends.set(group, b)
    const fresh = next.groups.filter((g) => !this.#demand.has(g.group))
    for (const [group, series] of await demandOf(this.store, fresh, this.#clock.now()).catch(() => new Map<string, Series | undefined>())) this.#demand.set(group, series)
    this.#config = next
    return this.controller.applyGroups(next.groups, fleetQuotas(next.global))
  }

  /**
   * Stops the loop (no new scaling action), then stops taking requests (each backend's
   * stopTraffic: tide's routers close their listeners and let the requests they accepted
   * finish, up to routing.drainSeconds), so that the instances stop only once no request needs
   * them. Unless `keepInstances`, drains every instance (through its backend's traffic) and
   * terminates it (a clean Ctrl-C), except a backend's whose instances outlive tide (aws: the
   * Auto Scaling group keeps its capacity); with it, instances keep running for the next
   * `tide up` to adopt, and so do the data planes that outlive tide (routing.dataPlane: process:
   * released, still serving, rather than stopped). Then stops the backends and closes the store.
   */
  async stop(options: { readonly keepInstances?: boolean; readonly beforeClose?: () => Promise<void> } = {}): Promise<void> {
    this.#abort.abort()
    await this.#loop
    await this.controller.settle()
    const released = new Set(options.keepInstances ? [...this.#backends.values()].filter((b) => b.release !== undefined) : [])
    await Promise.allSettled([...this.#backends.values()].map((b) => (released.has(b) ? b.release?.() : b.stopTraffic?.()) ?? Promise.resolve()))
    if (!options.keepInstances) {
      const specs = [...this.controller.groups(), ...this.controller.removingGroups()]
      await Promise.all(specs.map((spec) => this.#stopInstances(spec)))
    }
    await Promise.allSettled([...this.#stopping])
    await Promise.allSettled([...this.#backends.values()].filter((b) => !released.has(b)).map((b) => b.stop()))
    // What the learners know, for the next tide up (a kill between checkpoints loses at most 5 minutes of it).
    this.controller.checkpoint()
    // Alert deliveries are logged in the store: let them finish before it closes (which flushes).
    await options.beforeClose?.()
    // Fenced as every flush: a tide that lost the lease writes nothing, even its last events.
    await this.store.close(this.#opts.fence?.())
  }

  /** Drains and terminates every instance of a group (tide stopping). */
  async #stopInstances(spec: GroupSpec): Promise<void> {
    const backend = this.#backends.get(spec.group)
    if (backend === undefined || backend.keepsInstancesOnStop === true) return
    // Fenced too: a tide that lost the lease while stopping leaves the instances to the new leader.
    const acting = this.#fencedBackendOf(spec)
    const records = await acting.provider.list(spec)
    await Promise.all(
      records.map(async (r) => {
        if (r.status === 'running') await acting.traffic?.drain(spec, r)
        await acting.provider.terminate(spec, r.id)
        this.store.append({ atMs: this.#clock.now(), group: spec.group, type: 'terminate', message: `stopped instance ${r.id} (tide stopping)`, instanceId: r.id })
      }),
    )
  }

  /** Each backend fenced on the lease (one wrapper per backend, made once), or the backend itself without an election. */
  readonly #fenced = new WeakMap<GroupBackend, Backend>()

  #fencedBackendOf(spec: GroupSpec): Backend {
    const b = this.#backendOf(spec)
    const leadership = this.#opts.leadership
    if (leadership === undefined) return b
    let f = this.#fenced.get(b)
    if (f === undefined) {
      const onRefused = this.#opts.onActionRefused
      f = fenceBackend(b, { leadership, ...(onRefused === undefined ? {} : { onRefused }) })
      this.#fenced.set(b, f)
    }
    return f
  }

  #backendOf(spec: GroupSpec): GroupBackend {
    const b = this.#backends.get(spec.group)
    if (b === undefined) throw new TideError('TIDE_ERR_CONFIG', `group ${spec.group} has no backend (not started)`)
    return b
  }

  /** A removed group's instances are gone: its backend (router) stops. */
  #stopBackend(group: string): void {
    const b = this.#backends.get(group)
    if (b === undefined) return
    this.#backends.delete(group)
    const p = b.stop().finally(() => this.#stopping.delete(p))
    this.#stopping.add(p)
  }

  #afterTick(results: readonly ReconcileResult[]): readonly ReconcileResult[] {
    this.#recordMetrics(results)
    const nowMs = this.#clock.now()
    // Once a minute, and at once after a step back of the clock (not an hour later).
    if (nowMs - this.#prunedAtMs >= 60_000 || nowMs < this.#prunedAtMs) {
      this.#prunedAtMs = nowMs
      this.store.prune(nowMs) // events and alert deliveries past their retention
    }
    this.#opts.onTick?.(results)
    return results
  }

  /** Keeps the per-second history the dashboard and `tide status` draw from (controller/history-series.ts says which series). */
  #recordMetrics(results: readonly ReconcileResult[]): void {
    const nowMs = this.#clock.now()
    for (const r of results) {
      const status = this.controller.status(r.group)
      const spec = this.controller.groups().find((g) => g.group === r.group)
      const backend = this.#backends.get(r.group)
      if (!status || !spec || !backend) continue
      const s = backend.signals.read(spec, [], nowMs)
      // The count this tick decided (the status carries the last successful tick's on a failed one).
      const readings = historyReadings(spec, { ...status, desiredReplicas: r.decision.to }, { rps: s?.group.rps, p95Ms: s?.group.latencyMs?.p95 })
      for (const { series, value } of readings) this.store.recordMetric(r.group, series, nowMs, value)
    }
  }
}

/** The store RuntimeOptions name: PostgreSQL when storeUrl is given, else the SQLite file (its folder made, its lock taken). */
async function openStore(opts: RuntimeOptions): Promise<TideStore> {
  const log = opts.storeLog ?? ((line: string) => process.stderr.write(`${line}\n`))
  if (opts.storeUrl !== undefined) return PostgresStore.open(opts.storeUrl, { log })
  // The store may live elsewhere than the state directory (global.store.path): its folder too.
  if (opts.storePath !== ':memory:') mkdirSync(dirname(opts.storePath), { recursive: true })
  return SqliteStore.open(opts.storePath, { lock: true })
}

/**
 * The recorded demand of each predictive group (demandHistory), read before the controller needs
 * it: the controller asks synchronously at a group's first tick, and a PostgreSQL store answers
 * only asynchronously. A group whose history cannot be read starts learning afresh.
 */
async function demandOf(store: StoreReader, groups: readonly GroupSpec[], nowMs: number): Promise<Map<string, Series | undefined>> {
  const out = new Map<string, Series | undefined>()
  for (const g of groups) {
    if (g.predictive.mode === 'off') continue
    out.set(g.group, await demandHistory(store, g.group, nowMs).catch(() => undefined))
  }
  return out
}

/** One sink over a list that may grow (addEventSink). */
function fanOutTo(sinks: readonly EventSink[]): EventSink {
  return {
    append: (e) => {
      for (const sink of sinks) sink.append(e)
    },
  }
}
