/**
 * tide's own metrics in the Prometheus text format (prom-client), for `GET /metrics`. Counters
 * follow the event log as it is written (TideService.subscribe); gauges are read from the
 * controller when scraped. Each API app has its own Registry: nothing is registered in
 * prom-client's global default registry, so two apps in one process (tests) do not collide.
 */
import { Counter, Gauge, Registry } from 'prom-client'
import type { TideService } from '../app/tide-service.ts'
import type { Router } from '../router/router.ts'
import type { RouterStats } from '../router/stats.ts'
import type { TideEventType } from '../store/events.ts'

/** The event types counted as actions on instances (tide_actions_total). */
const ACTIONS: ReadonlySet<TideEventType> = new Set<TideEventType>(['launch', 'launch-failed', 'drain-start', 'terminate', 'terminate-failed', 'instance-replaced', 'resize'])

/** The event types that are a provider's errors (tide_provider_errors_total), by kind. */
const PROVIDER_ERRORS: ReadonlySet<TideEventType> = new Set<TideEventType>(['launch-failed', 'terminate-failed', 'provider-throttled', 'capacity-unavailable'])

/** The metrics of one app, and the function that stops following the events. */
export interface TideMetrics {
  readonly registry: Registry
  /** Stops counting events (the app is closed). */
  close(): void
}

/**
 * Builds the registry over `service`:
 * - `tide_decisions_total{group,kind,reason}`: decisions recorded in the event log (a decision is
 *   logged when it scales or its reason changes, so holds that repeat count once);
 * - `tide_actions_total{group,action}`: launches, drains, terminations, replacements, resizes and their failures;
 * - `tide_events_total{group,type}`: every event by type;
 * - `tide_instances{group,phase}`: instances by lifecycle phase, as last observed;
 * - `tide_desired_replicas{group}`: the count in force;
 * - `tide_group_paused{group}`: 1 while an operator has paused the group's scaling;
 * - `tide_tick_step_seconds{step}`: how long each step (observe, decide, act) of the last tick took;
 * - `tide_provider_errors_total{group,kind}`: launch-failed, terminate-failed, provider-throttled and
 *   capacity-unavailable events (throttling and no-capacity are logged once per streak);
 * - `tide_router_requests_total`, `_shed_total`, `_errors_total`, `_bytes_in_total`, `_bytes_out_total`
 *   `{group}`: tide's router traffic of each local group, summed over its stats windows (every
 *   second) since the app was made; groups tide does not route have none;
 * - `tide_forecast_wape_percent{group}`: the predictive forecaster's live WAPE, once scored;
 * - `tide_slo_headroom_percent{group}`: the headroom the slo policy applies now (with slo.instanceRps);
 * - `tide_risk_eta_seconds{group,kind}`: the risk radar's ETA to the group's max, a quota or its violation budget, while it sees one.
 */
export function tideMetrics(service: TideService): TideMetrics {
  const registry = new Registry()
  const decisions = new Counter({ name: 'tide_decisions_total', help: 'Scaling decisions recorded in the event log, by kind (scale, hold, skip) and reason.', labelNames: ['group', 'kind', 'reason'], registers: [registry] })
  const actions = new Counter({ name: 'tide_actions_total', help: 'Actions on instances: launch, drain-start, terminate, instance-replaced, resize, and failed launches and terminations.', labelNames: ['group', 'action'], registers: [registry] })
  const events = new Counter({ name: 'tide_events_total', help: 'Events recorded, by type (docs/api.md lists the types).', labelNames: ['group', 'type'], registers: [registry] })
  const providerErrors = new Counter({ name: 'tide_provider_errors_total', help: 'Provider errors by kind: launch-failed, terminate-failed, provider-throttled, capacity-unavailable (the last two once per streak).', labelNames: ['group', 'kind'], registers: [registry] })
  const stop = service.subscribe((e) => {
    events.inc({ group: e.group, type: e.type })
    if (e.type === 'decision' && e.decision !== undefined) decisions.inc({ group: e.group, kind: e.decision.kind, reason: e.decision.reason })
    if (ACTIONS.has(e.type)) actions.inc({ group: e.group, action: e.type })
    if (PROVIDER_ERRORS.has(e.type)) providerErrors.inc({ group: e.group, kind: e.type })
  })
  const controller = service.runtime.controller
  const routerFollow = followRouters(service, registry)
  new Gauge({
    name: 'tide_instances',
    help: 'Instances by lifecycle phase (pending, warming, in-service, draining, unhealthy, standby), as of the last tick.',
    labelNames: ['group', 'phase'],
    registers: [registry],
    collect() {
      this.reset()
      for (const g of [...controller.groups(), ...controller.removingGroups()]) {
        const counts = new Map<string, number>()
        for (const i of controller.status(g.group)?.instances ?? []) counts.set(i.phase, (counts.get(i.phase) ?? 0) + 1)
        for (const [phase, n] of counts) this.set({ group: g.group, phase }, n)
      }
    },
  })
  new Gauge({
    name: 'tide_desired_replicas',
    help: 'The replica count in force per group, as of the last tick.',
    labelNames: ['group'],
    registers: [registry],
    collect() {
      this.reset()
      for (const g of controller.groups()) {
        const s = controller.status(g.group)
        if (s !== undefined) this.set({ group: g.group }, s.desiredReplicas)
      }
    },
  })
  new Gauge({
    name: 'tide_group_paused',
    help: '1 while an operator has paused the group\'s scaling, else 0.',
    labelNames: ['group'],
    registers: [registry],
    collect() {
      this.reset()
      for (const g of controller.groups()) this.set({ group: g.group }, controller.isPaused(g.group) ? 1 : 0)
    },
  })
  new Gauge({
    name: 'tide_tick_step_seconds',
    help: 'Wall-clock seconds each step of the last tick took: observe (list instances, read metrics), decide, act.',
    labelNames: ['step'],
    registers: [registry],
    collect() {
      this.reset()
      const t = controller.lastTickTimings()
      if (t === undefined) return
      this.set({ step: 'observe' }, t.observeMs / 1000)
      this.set({ step: 'decide' }, t.decideMs / 1000)
      this.set({ step: 'act' }, t.actMs / 1000)
    },
  })
  new Gauge({
    name: 'tide_forecast_wape_percent',
    help: 'The predictive forecaster\'s live WAPE (weighted absolute percentage error), percent; absent until enough buckets were scored.',
    labelNames: ['group'],
    registers: [registry],
    collect() {
      this.reset()
      for (const g of controller.groups()) {
        const wape = controller.status(g.group)?.forecast?.liveWapePercent
        if (wape !== undefined) this.set({ group: g.group }, wape)
      }
    },
  })
  new Gauge({
    name: 'tide_slo_headroom_percent',
    help: 'The headroom the slo policy keeps above demand now, percent (groups with slo.instanceRps).',
    labelNames: ['group'],
    registers: [registry],
    collect() {
      this.reset()
      for (const g of controller.groups()) {
        const headroom = controller.status(g.group)?.slo?.headroom?.percent
        if (headroom !== undefined) this.set({ group: g.group }, headroom)
      }
    },
  })
  new Gauge({
    name: 'tide_risk_eta_seconds',
    help: 'Seconds until the risk radar expects the group to reach its max, a quota or its SLO violation budget (kind), 0 when it already has; absent while it sees no such risk.',
    labelNames: ['group', 'kind'],
    registers: [registry],
    collect() {
      this.reset()
      for (const g of controller.groups()) {
        for (const r of controller.status(g.group)?.risks ?? []) this.set({ group: g.group, kind: r.kind }, r.etaSeconds)
      }
    },
  })
  return {
    registry,
    close: () => {
      stop()
      routerFollow.close()
    },
  }
}

/**
 * Counters of router traffic, fed by each router's `stats` event (one window a second). The
 * routers are looked up again at every scrape, so a group added by a reload is followed from
 * then on; a router no longer listed is let go.
 */
function followRouters(service: TideService, registry: Registry): { close(): void } {
  const counter = (name: string, help: string): Counter => new Counter({ name, help, labelNames: ['group'], registers: [registry] })
  const requests = counter('tide_router_requests_total', 'Requests tide\'s router answered through an instance (any status), by group.')
  const shed = counter('tide_router_shed_total', 'Requests tide\'s router shed (answered 503 itself: over the queue or its wait), by group.')
  const errors = counter('tide_router_errors_total', 'Requests answered with a 5xx, the router\'s own 502/504 included, by group.')
  const bytesIn = counter('tide_router_bytes_in_total', 'Body bytes tide\'s router sent to instances (requests), by group.')
  const bytesOut = counter('tide_router_bytes_out_total', 'Body bytes tide\'s router received from instances (responses), by group.')
  const followed = new Map<Router, () => void>()
  const sync = (): void => {
    const routers = service.runtime.routers
    const now = new Set(routers.values())
    for (const [router, off] of followed) {
      if (!now.has(router)) {
        off()
        followed.delete(router)
      }
    }
    for (const [group, router] of routers) {
      if (followed.has(router)) continue
      const onStats = (s: RouterStats): void => {
        requests.inc({ group }, s.total.requests)
        shed.inc({ group }, s.total.shed)
        errors.inc({ group }, s.total.errors)
        bytesIn.inc({ group }, s.total.bytesIn)
        bytesOut.inc({ group }, s.total.bytesOut)
      }
      router.on('stats', onStats)
      followed.set(router, () => router.off('stats', onStats))
      // Present (0) from the first scrape, before any traffic.
      for (const c of [requests, shed, errors, bytesIn, bytesOut]) c.inc({ group }, 0)
    }
  }
  sync()
  // Before each scrape: follow routers added since (a reload). Registered last, collected with the rest.
  new Gauge({
    name: 'tide_routers_followed',
    help: 'Routers whose traffic the tide_router_* counters follow (one per local group tide routes).',
    registers: [registry],
    collect() {
      sync()
      this.set(followed.size)
    },
  })
  return {
    close: () => {
      for (const off of followed.values()) off()
      followed.clear()
    },
  }
}
