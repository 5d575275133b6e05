/**
 * The composition root of a running tide (`tide up`, `tide demo`): the store, the
 * providers, one router per local group, the signals they feed, the drainer, the
 * controller and its run loop. Everything else in tide is built to be tested alone;
 * this file wires it together with real I/O and the wall clock.
 */
import { mkdirSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { systemClock, type Clock } from '../core/clock.ts'
import type { EventSink } from '../store/events.ts'
import { withExternalSignals, type HealthView } from '../controller/metrics-source.ts'
import { ExternalSignals } from '../metrics/external/external-signals.ts'
import { Controller, type ReconcileResult } from '../controller/reconciler.ts'
import { runLoop } from '../controller/run-loop.ts'
import type { FleetQuotas } from '../engine/types.ts'
import type { Series } from '../forecast/series.ts'
import { TideError } from '../errors.ts'
import { LocalProvider } from '../providers/local/local-provider.ts'
import type { Provider } from '../providers/provider.ts'
import { isRouterError, RouterError } from '../router/errors.ts'
import { Router, type RouterInstance } from '../router/router.ts'
import type { GroupSpec, TideConfig } from '../spec/schema.ts'
import { SqliteInstanceRegistry } from '../store/sqlite-instance-registry.ts'
import { SqliteStore } from '../store/sqlite-store.ts'
import { watchFailover } from './failover-events.ts'
import { LocalDrainer } from './local-drainer.ts'
import { RouterSignals, routerMetricsSource, type ResourceSampler } from './router-signals.ts'

export interface RuntimeOptions {
  readonly config: TideConfig
  /** Where instance logs go (state/logs/…). */
  readonly stateDir: string
  /** The SQLite store file; `:memory:` for throwaway runs. */
  readonly storePath: string
  /** Extra event sinks (the terminal, webhooks). */
  readonly events?: EventSink
  /** Cpu and memory per instance (the /proc sampler). */
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

/** The providers this build of tide can run. */
const SUPPORTED_PROVIDERS = new Set<GroupSpec['provider']>(['local'])

/** A running tide. Create with `Runtime.start`, end with `stop`. */
export class Runtime {
  readonly controller: Controller
  readonly store: SqliteStore
  readonly routers: ReadonlyMap<string, Router>
  readonly #signals: ReadonlyMap<string, RouterSignals>
  readonly #opts: RuntimeOptions
  readonly #clock: Clock
  readonly #provider: LocalProvider
  readonly #abort = new AbortController()
  readonly #sinks: EventSink[]
  #prunedAtMs = 0
  #loop: Promise<void> | undefined

  private constructor(opts: RuntimeOptions, store: SqliteStore, provider: LocalProvider, routers: Map<string, Router>, signals: Map<string, RouterSignals>) {
    this.#opts = opts
    this.#clock = opts.clock ?? systemClock
    this.store = store
    this.#provider = provider
    this.routers = routers
    this.#signals = signals
    this.#sinks = opts.events ? [store, opts.events] : [store]
    const events: EventSink = {
      append: (e) => {
        for (const sink of this.#sinks) sink.append(e)
      },
    }
    const metrics = withExternalSignals(routerMetricsSource(signals), new ExternalSignals())
    const health: HealthView = {
      health: (id) => {
        for (const s of signals.values()) {
          const h = s.health(id)
          if (h !== 'unknown') return h
        }
        return 'unknown'
      },
    }
    const { perProvider, ...fleet } = opts.config.global.quotas
    const quotas: FleetQuotas = { ...fleet, perProvider }
    this.controller = new Controller({
      groups: opts.config.groups,
      provider: (): Provider => provider,
      metrics,
      health,
      clock: this.#clock,
      quotas,
      events,
      store,
      drainer: new LocalDrainer({ routers, events, clock: this.#clock }),
      demandHistory: (spec) => demandHistory(store, spec.group, this.#clock.now()),
    })
  }

  /**
   * Opens the store (taking its lock), starts a router per group, and returns once
   * every router listens. Nothing is launched until `run()`; on any failure
   * everything started so far is stopped again.
   */
  static async start(opts: RuntimeOptions): Promise<Runtime> {
    for (const g of opts.config.groups) {
      if (!SUPPORTED_PROVIDERS.has(g.provider)) {
        throw new TideError('TIDE_ERR_CONFIG', `group ${g.group}: provider ${g.provider} cannot run here; this build of tide runs groups with provider local (use tide simulate for any group)`)
      }
    }
    mkdirSync(opts.stateDir, { recursive: true })
    // The store may live elsewhere than the state directory (global.store.path): its folder too.
    if (opts.storePath !== ':memory:') mkdirSync(dirname(opts.storePath), { recursive: true })
    const store = SqliteStore.open(opts.storePath, { lock: true })
    const routers = new Map<string, Router>()
    const signals = new Map<string, RouterSignals>()
    try {
      const provider = new LocalProvider({ registry: new SqliteInstanceRegistry(store), stateDir: join(opts.stateDir), ...(opts.clock ? { clock: opts.clock } : {}) })
      for (const g of opts.config.groups) {
        const router = new Router({ routing: g.routing, health: g.health })
        const sig = new RouterSignals(opts.sampler)
        router.on('stats', (s) => {
          sig.push(s)
        })
        router.on('health', () => {
          sig.setHealth(router.health())
        })
        watchFailover(router, g.group, [store, opts.events], opts.clock)
        routers.set(g.group, router)
        signals.set(g.group, sig)
        await router.start().catch((err: unknown) => {
          // The router names the address; say whose it is.
          throw isRouterError(err, 'TIDE_ERR_ROUTER_LISTEN') ? new RouterError(err.code, `group ${g.group}: routing.listen: ${err.message}`, { cause: err }) : err
        })
      }
      return new Runtime(opts, store, provider, routers, signals)
    } catch (err) {
      await Promise.allSettled([...routers.values()].map((r) => r.stop()))
      store.close()
      throw err
    }
  }

  /** Adds a sink (webhook alerts) that sees every event from now on. */
  addEventSink(sink: EventSink): void {
    this.#sinks.push(sink)
  }

  /** The process of a local instance (pid, start time, cpu size), from its last observed record. */
  processOf(instanceId: string): { readonly pid: number; readonly startTime: string; readonly cpu: number } | undefined {
    for (const g of this.#opts.config.groups) {
      const i = this.controller.status(g.group)?.instances.find((x) => x.id === instanceId)
      const pid = Number(i?.meta?.pid)
      const startTime = i?.meta?.startTime
      if (i && Number.isInteger(pid) && pid > 0 && startTime) return { pid, startTime, cpu: i.size.cpu }
    }
    return undefined
  }

  /** Where each group's router listens. */
  endpoints(): { group: string; url: string; proxy: GroupSpec['routing']['proxy'] }[] {
    return this.#opts.config.groups.map((g) => ({ group: g.group, url: `http://${g.routing.host}:${this.routers.get(g.group)?.port ?? g.routing.listen}`, proxy: g.routing.proxy }))
  }

  /** One reconcile, then the routing tables and metric history follow it. */
  async tick(): Promise<readonly ReconcileResult[]> {
    const results = await this.controller.reconcileOnce()
    this.#syncRouters()
    this.#recordMetrics(results)
    const nowMs = this.#clock.now()
    if (nowMs - this.#prunedAtMs >= 60_000) {
      this.#prunedAtMs = nowMs
      this.store.prune(nowMs) // events and alert deliveries past their retention
    }
    this.#opts.onTick?.(results)
    return results
  }

  /** The fast scale-out path between ticks (slo.fastScaleOut); the routing tables follow what it launched. */
  async fastTick(): Promise<readonly ReconcileResult[]> {
    if (!this.controller.fastScaleOutDue()) return []
    const results = await this.controller.fastScaleOut()
    if (results.length > 0) {
      this.#syncRouters()
      this.#opts.onTick?.(results)
    }
    return results
  }

  /** Starts the run loop at the shortest sync period of the groups, with the fast path every second between ticks. */
  run(): void {
    if (this.#loop) return
    const intervalMs = Math.min(...this.#opts.config.groups.map((g) => g.syncPeriodSeconds)) * 1000
    this.#loop = runLoop({
      controller: { reconcileOnce: () => this.tick() },
      clock: this.#clock,
      intervalMs,
      signal: this.#abort.signal,
      between: { everyMs: 1000, run: () => this.fastTick() },
      // One group's failure is the controller's to isolate (its own 'reconcile-failed' event); what
      // reaches here failed the tick for every group (deciding, the routers, the store).
      onError: (err) => {
        for (const g of this.#opts.config.groups) {
          this.store.append({ atMs: this.#clock.now(), group: g.group, type: 'reconcile-failed', message: `reconcile failed for every group: ${err instanceof Error ? err.message : String(err)}` })
        }
      },
    })
  }

  /**
   * Stops the loop. Unless `keepInstances`, drains every instance through its router
   * and terminates it (a clean Ctrl-C); with it, instances keep running for the next
   * `tide up` to adopt. Then stops the routers and closes the store.
   */
  async stop(options: { readonly keepInstances?: boolean; readonly beforeClose?: () => Promise<void> } = {}): Promise<void> {
    this.#abort.abort()
    await this.#loop
    await this.controller.settle()
    if (!options.keepInstances) {
      const drainer = new LocalDrainer({ routers: this.routers, events: this.store, clock: this.#clock })
      await Promise.all(
        this.#opts.config.groups.map(async (spec) => {
          const records = await this.#provider.list(spec)
          await Promise.all(
            records.map(async (r) => {
              if (r.status === 'running') await drainer.drain(spec, r)
              await this.#provider.terminate(spec, r.id)
              this.store.append({ atMs: this.#clock.now(), group: spec.group, type: 'terminate', message: `stopped instance ${r.id} (tide stopping)`, instanceId: r.id })
            }),
          )
        }),
      )
    }
    await Promise.allSettled([...this.routers.values()].map((r) => r.stop({ graceMs: 5000 })))
    // Alert deliveries are logged in the store: let them finish before it closes.
    await options.beforeClose?.()
    this.store.close()
  }

  /** Routes to the group's warming and in-service instances; draining ones finish what they have. */
  #syncRouters(): void {
    for (const g of this.#opts.config.groups) {
      const router = this.routers.get(g.group)
      const status = this.controller.status(g.group)
      if (!router || !status) continue
      const list: RouterInstance[] = []
      for (const i of status.instances) {
        if (!i.address) continue
        if (i.phase === 'warming' || i.phase === 'in-service' || i.phase === 'draining') {
          list.push({ id: i.id, host: i.address.host, port: i.address.port, state: i.phase, launchedAtMs: i.launchedAtMs })
        }
      }
      router.setInstances(list)
    }
  }

  /** Keeps the per-second history the dashboard and `tide status` draw from. */
  #recordMetrics(results: readonly ReconcileResult[]): void {
    const nowMs = this.#clock.now()
    for (const r of results) {
      const status = this.controller.status(r.group)
      const sig = this.#signals.get(r.group)
      const spec = this.#opts.config.groups.find((g) => g.group === r.group)
      if (!status || !sig || !spec) continue
      const s = sig.read(spec, [], nowMs)
      this.store.recordMetric(r.group, 'desired', nowMs, r.decision.to)
      this.store.recordMetric(r.group, 'instances', nowMs, status.instances.filter((i) => i.phase === 'in-service' || i.phase === 'warming').length)
      if (s?.group.rps !== undefined) this.store.recordMetric(r.group, 'rps', nowMs, s.group.rps)
      if (s?.group.latencyMs?.p95 !== undefined) this.store.recordMetric(r.group, 'p95', nowMs, s.group.latencyMs.p95)
      // The forecast beside the demand it forecast, and its error: what a dashboard draws.
      if (status.forecast?.expectedRps !== undefined) this.store.recordMetric(r.group, 'forecast_rps', nowMs, status.forecast.expectedRps)
      if (status.forecast?.accuracyWapePercent !== undefined) this.store.recordMetric(r.group, 'forecast_wape', nowMs, status.forecast.accuracyWapePercent)
    }
  }
}
