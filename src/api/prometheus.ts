/**
 * tide's own metrics in the Prometheus text format (prom-client), for `GET /metrics`. Counters
 * follow the event log as it is written (TideService.subscribe); gauges are read from the
 * controller when scraped. Each API app has its own Registry: nothing is registered in
 * prom-client's global default registry, so two apps in one process (tests) do not collide.
 */
import { Counter, Gauge, Registry } from 'prom-client'
import type { TideService } from '../app/tide-service.ts'
import type { TideEventType } from '../store/events.ts'

/** The event types counted as actions on instances (tide_actions_total). */
const ACTIONS: ReadonlySet<TideEventType> = new Set<TideEventType>(['launch', 'launch-failed', 'drain-start', 'terminate', 'terminate-failed', 'instance-replaced', 'resize'])

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
 * - `tide_tick_step_seconds{step}`: how long each step (observe, decide, act) of the last tick took.
 */
export function tideMetrics(service: TideService): TideMetrics {
  const registry = new Registry()
  const decisions = new Counter({ name: 'tide_decisions_total', help: 'Scaling decisions recorded in the event log, by kind (scale, hold, skip) and reason.', labelNames: ['group', 'kind', 'reason'], registers: [registry] })
  const actions = new Counter({ name: 'tide_actions_total', help: 'Actions on instances: launch, drain-start, terminate, instance-replaced, resize, and failed launches and terminations.', labelNames: ['group', 'action'], registers: [registry] })
  const events = new Counter({ name: 'tide_events_total', help: 'Events recorded, by type (docs/api.md lists the types).', labelNames: ['group', 'type'], registers: [registry] })
  const stop = service.subscribe((e) => {
    events.inc({ group: e.group, type: e.type })
    if (e.type === 'decision' && e.decision !== undefined) decisions.inc({ group: e.group, kind: e.decision.kind, reason: e.decision.reason })
    if (ACTIONS.has(e.type)) actions.inc({ group: e.group, action: e.type })
  })
  const controller = service.runtime.controller
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
  return { registry, close: stop }
}
