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
import type { EventSink } from '../store/events.ts'
import { Controller, type GroupChanges, type ReconcileResult } from '../controller/reconciler.ts'
import { historyReadings } from '../controller/history-series.ts'
import { runLoop } from '../controller/run-loop.ts'
import type { FleetQuotas } from '../engine/types.ts'
import type { Series } from '../forecast/series.ts'
import { TideError } from '../errors.ts'
import type { Router } from '../router/router.ts'
import type { GlobalSpec, GroupSpec, TideConfig } from '../spec/schema.ts'
import { SqliteInstanceRegistry } from '../store/sqlite-instance-registry.ts'
import { SqliteStore } from '../store/sqlite-store.ts'
import { stopDataPlanesExcept } from '../router/data-plane-client.ts'
import { BackendRegistry, type GroupBackend } from './backends/index.ts'
import type { ResourceSampler } from './router-signals.ts'

export interface RuntimeOptions {
  readonly config: TideConfig
  /** Where instance logs go (state/logs/…). */
  readonly stateDir: string
  /** The SQLite store file; `:memory:` for throwaway runs. */
  readonly storePath: string
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
export function demandHistory(store: SqliteStore, group: string, nowMs: number): Series | undefined {
  const stepMs = 60_000
  const toMs = Math.floor(nowMs / stepMs) * stepMs
  const fromMs = toMs - 21 * 86_400_000
  const points = store.queryMetric(group, 'rps', fromMs, toMs, stepMs).points
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
  readonly store: SqliteStore
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

  private constructor(opts: RuntimeOptions, store: SqliteStore, registry: BackendRegistry, backends: Map<string, GroupBackend>, sinks: EventSink[]) {
    this.#opts = opts
    this.#config = opts.config
    this.#clock = opts.clock ?? systemClock
    this.store = store
    this.#registry = registry
    this.#backends = backends
    this.#sinks = sinks
    this.controller = new Controller({
      groups: opts.config.groups,
      backend: (spec) => this.#backendOf(spec),
      clock: this.#clock,
      quotas: fleetQuotas(opts.config.global),
      events: fanOutTo(this.#sinks),
      store,
      demandHistory: (spec) => demandHistory(store, spec.group, this.#clock.now()),
      onGroupRemoved: (spec) => {
        this.#stopBackend(spec.group)
      },
    })
  }

  /**
   * Opens the store (taking its lock), starts a backend per group (a local group's router
   * listens when this resolves), and returns. Nothing is launched until `run()` or `tick()`; on
   * any failure everything started so far is stopped again, except the data planes adopted from
   * an earlier tide, which are released still serving (docs/ha.md).
   */
  static async start(opts: RuntimeOptions): Promise<Runtime> {
    mkdirSync(opts.stateDir, { recursive: true })
    // The store may live elsewhere than the state directory (global.store.path): its folder too.
    if (opts.storePath !== ':memory:') mkdirSync(dirname(opts.storePath), { recursive: true })
    const store = SqliteStore.open(opts.storePath, { lock: true })
    const sinks: EventSink[] = opts.events ? [store, opts.events] : [store]
    const registry = new BackendRegistry({
      stateDir: opts.stateDir,
      registry: new SqliteInstanceRegistry(store),
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
      for (const g of opts.config.groups) backends.set(g.group, await registry.start(g))
      return new Runtime(opts, store, registry, backends, sinks)
    } catch (err) {
      // An adopted data plane is let go, not stopped: a tide that fails to start must not take the traffic of the groups it adopted.
      await Promise.allSettled([...backends.values()].map((b) => (b.release !== undefined && b.router?.dataPlane()?.kind === 'adopted' ? b.release() : b.stop())))
      store.close()
      throw err
    }
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

  /** One reconcile of every group, whatever its sync period (tests, the demo's first tick); the metric history follows it. */
  async tick(): Promise<readonly ReconcileResult[]> {
    return this.#afterTick(await this.controller.reconcileOnce())
  }

  /** The fast scale-out path between ticks (slo.fastScaleOut). */
  async fastTick(): Promise<readonly ReconcileResult[]> {
    if (!this.controller.fastScaleOutDue()) return []
    const results = await this.controller.fastScaleOut()
    if (results.length > 0) this.#opts.onTick?.(results)
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
          const results = await this.controller.reconcileDue()
          if (results.length > 0) this.#afterTick(results)
          await this.fastTick()
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
    // Alert deliveries are logged in the store: let them finish before it closes.
    await options.beforeClose?.()
    this.store.close()
  }

  /** Drains and terminates every instance of a group (tide stopping). */
  async #stopInstances(spec: GroupSpec): Promise<void> {
    const backend = this.#backends.get(spec.group)
    if (backend === undefined || backend.keepsInstancesOnStop === true) return
    const records = await backend.provider.list(spec)
    await Promise.all(
      records.map(async (r) => {
        if (r.status === 'running') await backend.traffic?.drain(spec, r)
        await backend.provider.terminate(spec, r.id)
        this.store.append({ atMs: this.#clock.now(), group: spec.group, type: 'terminate', message: `stopped instance ${r.id} (tide stopping)`, instanceId: r.id })
      }),
    )
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
    if (nowMs - this.#prunedAtMs >= 60_000) {
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

/** One sink over a list that may grow (addEventSink). */
function fanOutTo(sinks: readonly EventSink[]): EventSink {
  return {
    append: (e) => {
      for (const sink of sinks) sink.append(e)
    },
  }
}
