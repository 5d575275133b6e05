/**
 * The `local` backend: instances are processes on this machine (LocalProvider), requests reach
 * them through tide's router (one per group, on routing.listen), signals are the router's
 * per-second stats (requests, latency, network bytes per instance) with the /proc sampler's
 * cpu, memory and disk bytes (RouterSignals) plus the group's external sources, health is the
 * router's checks, and a drain goes through the router, the app's preStop hook and the backup
 * command (LocalDrainer). With routing.dataPlane `process` (the default) the router's proxy cores
 * run in the group's data-plane process, which outlives tide and is adopted by the next one
 * (docs/ha.md); its start, adoption or replacement is a `data-plane` event.
 */
import type { Traffic } from '../../controller/backend.ts'
import { withExternalSignals } from '../../controller/metrics-source.ts'
import { ExternalSignals } from '../../metrics/external/external-signals.ts'
import { LocalProvider } from '../../providers/local/local-provider.ts'
import { isRouterError, RouterError } from '../../router/errors.ts'
import type { DataPlaneAttachment } from '../../router/data-plane-client.ts'
import { Router } from '../../router/router.ts'
import type { GroupSpec } from '../../spec/schema.ts'
import { watchFailover } from '../failover-events.ts'
import { BackupRunner } from '../backup-once.ts'
import { LocalDrainer } from '../local-drainer.ts'
import { RouterSignals } from '../router-signals.ts'
import type { BackendContext, BackendKind, GroupBackend } from './backend-kind.ts'

/** The local kind: one LocalProvider (one instance registry) for every local group of the running tide. */
export function localBackends(ctx: BackendContext): BackendKind {
  const provider = new LocalProvider({ registry: ctx.registry, stateDir: ctx.stateDir, clock: ctx.clock, ...(ctx.withholdEnv === undefined ? {} : { withholdEnv: ctx.withholdEnv }) })
  const runner = ctx.backupRuns === undefined ? undefined : new BackupRunner({ store: ctx.backupRuns, stateDir: ctx.stateDir, events: ctx.events, clock: ctx.clock, ...(ctx.persist === undefined ? {} : { persist: ctx.persist }) })
  const backups = runner === undefined ? {} : { backups: { runner, live: async (spec: GroupSpec) => new Set((await provider.list(spec)).map((r) => r.id)) } }
  return {
    async start(spec: GroupSpec): Promise<GroupBackend> {
      const inProcess = spec.routing.dataPlane === 'in-process'
      const router = new Router({ routing: spec.routing, health: spec.health, ...(inProcess ? {} : { dataPlane: { stateDir: ctx.stateDir, group: spec.group } }) })
      const signals = new RouterSignals(ctx.sampler)
      router.on('stats', (s) => {
        signals.push(s)
      })
      router.on('health', () => {
        signals.setHealth(router.health())
      })
      watchFailover(router, spec.group, ctx.events, ctx.clock)
      await router.start().catch((err: unknown) => {
        // The router names the address; say whose it is.
        throw isRouterError(err, 'TIDE_ERR_ROUTER_LISTEN') ? new RouterError(err.code, `group ${spec.group}: routing.listen: ${err.message}`, { cause: err }) : err
      })
      const dp = router.dataPlane()
      if (dp !== undefined) ctx.events.append({ atMs: ctx.clock.now(), group: spec.group, type: 'data-plane', message: dataPlaneMessage(dp, `${spec.routing.host}:${router.port}`, ctx.clock.now()) })
      const drainer = new LocalDrainer({ routers: new Map([[spec.group, router]]), events: ctx.events, clock: ctx.clock, ...backups })
      const traffic: Traffic = {
        setTargets: (_spec, targets) => {
          router.setInstances(targets)
        },
        drain: (s, instance) => drainer.drain(s, instance),
        detach: async (s, id) => {
          await router.drain(id, { timeoutMs: s.routing.drainSeconds * 1000 })
        },
        state: () => {
          const b = router.backupState()
          if (!b.configured) return {}
          return { backup: { active: b.active, ...(b.sinceMs === undefined ? {} : { sinceMs: b.sinceMs }), targets: [...b.targets] } }
        },
      }
      return {
        provider,
        signals: withExternalSignals(signals, new ExternalSignals()),
        health: signals,
        traffic,
        router,
        endpoint: { url: `http://${spec.routing.host}:${router.port}`, proxy: spec.routing.proxy },
        refuses: (next) => refusesChange(spec, next),
        stopTraffic: () => router.stop({ graceMs: spec.routing.drainSeconds * 1000 }),
        stop: () => router.stop({ graceMs: 5000 }),
        ...(inProcess ? {} : { release: () => router.release() }),
      }
    },
  }
}

/** One sentence on how the group came by its data plane, for the event log and `tide up`'s terminal. */
export function dataPlaneMessage(dp: DataPlaneAttachment, address: string, nowMs: number): string {
  switch (dp.kind) {
    case 'started':
      return `data plane started: pid ${dp.pid} serves ${address} and outlives tide${dp.leftovers === undefined ? '' : ` (${dp.leftovers} process(es) a dead data plane had left running stopped first)`}`
    case 'adopted': {
      const alone = dp.unattendedSinceMs === undefined ? '' : `, ${((nowMs - dp.unattendedSinceMs) / 1000).toFixed(1)} s without a tide`
      const took = dp.attachMs === undefined ? '' : ` in ${dp.attachMs} ms`
      return `data plane adopted${took}: pid ${dp.pid} has served ${address} since ${new Date(dp.startedAtMs).toISOString()}${alone}; its listen socket was never closed`
    }
    case 'replaced':
      return `data plane replaced (${dp.reason ?? 'another config'}): pid ${dp.pid} serves ${address}`
  }
}

/**
 * Why a running local group cannot take `next` without a restart: its router was built from
 * routing and health, and a router cannot be rebuilt on the same address while it serves.
 */
function refusesChange(spec: GroupSpec, next: GroupSpec): string | undefined {
  if (next.provider !== spec.provider) return `group ${spec.group}: provider ${spec.provider} → ${next.provider} takes a restart of tide up (remove the group, reload, then add it back)`
  for (const section of ['routing', 'health'] as const) {
    if (JSON.stringify(spec[section]) !== JSON.stringify(next[section])) return `group ${spec.group}: ${section} changed; a local group's router is built from routing and health, so this takes a restart of tide up`
  }
  return undefined
}
