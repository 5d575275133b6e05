/** `tide up -c tide.yaml`: run the controller for the groups in the file until stopped. */
import { resolve } from 'node:path'
import type { Command, CommandIo } from './args.ts'
import { heartbeatLine, TrafficTally, UpOutput } from './up-output.ts'
import { loadConfig } from '../spec/load.ts'
import { Runtime, type RuntimeOptions } from '../runtime/runtime.ts'
import { ProcessSampler } from '../metrics/process-sampler.ts'
import { WebhookAlerts } from '../alerts/webhook.ts'
import type { Router } from '../router/router.ts'
import { apiFlags, apiOptionsOf, startApi, type ApiChoice, type ApiServer } from './serve-api.ts'
import { leaderFlags, waitForLeadership, type Leadership } from './leader.ts'
import { pgLeaderFlags, waitForPgLeadership, type PgLeadership } from './pg-leader.ts'
import { isPostgresUrl } from '../core/postgres-url.ts'
import { UsageError, type ParsedArgs } from './args.ts'
import type { PgLease } from '../store/postgres/lease.ts'
import type { LeadershipStatus } from '../app/standby-read-model.ts'
import type { TideConfig } from '../spec/schema.ts'

/**
 * Prints each group's state every `intervalMs`: traffic since the last beat, instances by
 * phase, the desired count, and conditions not in their normal state (heartbeatLine), from the
 * controller's plain status. Returns the function that stops it.
 */
function startHeartbeat(runtime: Runtime, intervalMs: number, io: CommandIo): () => void {
  // One tally per router, subscribed when first seen: a reload may add groups.
  const tallies = new WeakMap<Router, TrafficTally>()
  const tallyOf = (group: string): TrafficTally | undefined => {
    const router = runtime.routers.get(group)
    if (router === undefined) return undefined
    let tally = tallies.get(router)
    if (tally === undefined) {
      const t = new TrafficTally()
      router.on('stats', (s) => {
        t.add(s)
      })
      tallies.set(router, (tally = t))
    }
    return tally
  }
  for (const g of runtime.controller.groups()) tallyOf(g.group)
  const timer = setInterval(() => {
    for (const g of runtime.controller.groups()) {
      const status = runtime.controller.status(g.group)
      const tally = tallyOf(g.group)
      if (!status) continue
      const line = heartbeatLine({
        atMs: Date.now(),
        group: g.group,
        traffic: tally?.take(),
        phases: status.instances.map((i) => i.phase),
        desiredReplicas: status.desiredReplicas,
        ...(status.slo === undefined ? {} : { slo: status.slo }),
        conditions: status.conditions,
      })
      io.stdout.write(`${line}\n`)
    }
  }, intervalMs)
  return () => {
    clearInterval(timer)
  }
}

/**
 * Reloads the config on SIGHUP, one reload at a time: the file is validated whole and applied
 * (Runtime.reload), or refused with the reason and nothing changed. Returns the function that
 * stops listening and waits for a reload in progress.
 */
function reloadOnHangup(path: string, runtime: Runtime, alerts: WebhookAlerts, io: CommandIo): () => Promise<void> {
  let chain = Promise.resolve()
  const onHup = (): void => {
    chain = chain.then(async () => {
      io.stdout.write(`SIGHUP: reloading ${path}\n`)
      try {
        const next = loadConfig(path)
        const changes = await runtime.reload(next)
        alerts.configure(next.groups)
        const said = (['added', 'changed', 'removed'] as const).filter((k) => changes[k].length > 0).map((k) => `${k} ${changes[k].join(', ')}`)
        io.stdout.write(`reloaded ${path}: ${said.length === 0 ? 'no group changed' : said.join('; ')}\n`)
        for (const e of runtime.endpoints()) if (changes.added.includes(e.group)) io.stdout.write(endpointLine(e))
      } catch (err) {
        io.stdout.write(`reload refused, nothing changed: ${err instanceof Error ? err.message : String(err)}\n`)
      }
    })
  }
  process.on('SIGHUP', onHup)
  return async () => {
    process.off('SIGHUP', onHup)
    await chain
  }
}

/** The line that says where a group's requests enter (its router), as printed at start and when a reload adds the group. */
function endpointLine(e: ReturnType<Runtime['endpoints']>[number]): string {
  return `${e.group}: routing ${e.url}${e.proxy === 'haproxy' ? ' (through HAProxy)' : ''}\n`
}

/** Resolves when the process gets SIGINT or SIGTERM. */
export function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((done) => {
    const on = (sig: NodeJS.Signals) => {
      process.off('SIGINT', on)
      process.off('SIGTERM', on)
      done(sig)
    }
    process.on('SIGINT', on)
    process.on('SIGTERM', on)
  })
}

/**
 * The bound on a stop, in seconds: the routers' drain (routing.drainSeconds, the longest of the
 * groups), the instances' drain after it (as long again), and 30 s for their preStop hooks and
 * SIGTERM → SIGKILL (10 s). Past it tide exits 1 leaving what is left running for the next
 * `tide up` to adopt. Kept short of the 60 s a supervisor usually waits before SIGKILL only when
 * drainSeconds is small.
 */
export function stopBoundSeconds(groups: readonly { readonly routing: { readonly drainSeconds: number } }[]): number {
  return 2 * Math.max(0, ...groups.map((g) => g.routing.drainSeconds)) + 30
}

/**
 * While tide stops: a second SIGINT/SIGTERM, or the stop taking longer than `boundSeconds`,
 * ends the process at once (exit 130 for a signal, 1 for the bound), saying so; what is still
 * running is left for the next `tide up` to adopt. Returns the function that disarms it.
 */
function forceStopOn(boundSeconds: number, io: CommandIo): () => void {
  const force = (why: string, code: number): void => {
    // (process.stdout to a file or pipe is written synchronously on Linux: the line is out before the exit.)
    io.stdout.write(`${why}: exiting now; instances still running are adopted by the next tide up\n`)
    process.exit(code)
  }
  const onSignal = (sig: NodeJS.Signals): void => {
    force(`second ${sig} while stopping`, 130)
  }
  const timer = setTimeout(() => {
    force(`the stop took longer than its bound of ${boundSeconds} s`, 1)
  }, boundSeconds * 1000)
  timer.unref()
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  return () => {
    clearTimeout(timer)
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
  }
}

/** Says what a stop does and arms its bound and the second Ctrl-C (forceStopOn); returns the disarm. */
function announceStop(sig: string, keep: boolean, runtime: Runtime, io: CommandIo): () => void {
  const bound = stopBoundSeconds(runtime.controller.groups())
  io.stdout.write(`\n${sig}: ${keep ? 'stopping, leaving instances running' : 'draining and stopping instances'} (routers finish the requests they took; within ${bound} s, a second Ctrl-C forces)…\n`)
  return forceStopOn(bound, io)
}

/**
 * Who may act: with --leader-lease, nothing runs until this replica holds the Kubernetes Lease;
 * with a PostgreSQL store and no --leader-lease (nor --no-election), the store's lease elects
 * (pg-leader.ts): until this tide leads it serves the read-only API. 'stopped' when a signal
 * came while waiting; no leadership at all for one tide without an election.
 */
async function elect(
  args: ParsedArgs,
  config: TideConfig,
  io: CommandIo,
  apiChoice: ApiChoice,
  stateDir: string,
): Promise<'stopped' | { leadership?: Leadership; pgLeadership?: PgLeadership }> {
  const url = config.global.store.url
  const pgUrl = url !== undefined && isPostgresUrl(url) ? url : undefined
  const noElection = args.boolean('no-election')
  if (noElection && pgUrl === undefined) throw new UsageError('tide up', '--no-election is for a PostgreSQL store (store.url): a SQLite store has no election (its file lock keeps one tide)')
  if (noElection && args.string('leader-lease') !== undefined) throw new UsageError('tide up', '--no-election and --leader-lease contradict each other: give one')
  if (args.string('leader-lease') !== undefined) {
    const led = await waitForLeadership(args, io, untilSignal())
    return led === undefined ? 'stopped' : { leadership: led }
  }
  if (pgUrl === undefined || noElection) return {}
  const led = await waitForPgLeadership({ url: pgUrl, config, io, signal: untilSignal(), apiChoice, stateDir })
  return led === undefined ? 'stopped' : { leadership: led, pgLeadership: led }
}

/** One 'leadership' event per group: this tide took the lease (with its epoch, and whose lease expired), or hands it back on a clean stop. */
function leadershipEvent(runtime: Runtime, config: TideConfig, lease: PgLease, what: 'took' | 'handed back'): void {
  const epoch = String(lease.fence()?.epoch)
  const from = lease.takenFrom === undefined ? '' : `, taken over from ${lease.takenFrom} whose lease expired`
  const message = what === 'took' ? `${lease.identity} leads (lease '${lease.name}', epoch ${epoch}${from})` : `${lease.identity} hands the lease '${lease.name}' back (epoch ${epoch}): tide stopping`
  for (const g of config.groups) runtime.emit({ atMs: Date.now(), group: g.group, type: 'leadership', message })
}

/** GET /status of an elected tide: its lease's view. */
function leadershipStatusOf(led: PgLeadership | undefined): { leadership?: () => LeadershipStatus } {
  return led === undefined ? {} : { leadership: () => led.status() }
}

/** The runtime options that fence a tide on its PostgreSQL lease: flushes carry the fence; a fenced flush or a refused action loses the lease at once. */
function fencedOn(lease: PgLease): Pick<RuntimeOptions, 'leadership' | 'fence' | 'onFenced' | 'onActionRefused'> {
  return {
    leadership: lease,
    fence: () => lease.fence(),
    onFenced: (err) => {
      lease.revoke(`a store write was fenced off: ${err.message}`)
    },
    onActionRefused: (err) => {
      lease.revoke(err.message)
    },
  }
}

export const command: Command = {
  summary: 'Run tide for the groups in a config file until stopped (Ctrl-C drains and stops instances)',
  usage: '-c FILE [--state-dir DIR] [--keep-instances] [--heartbeat S] [--api-listen PORT | --no-api] [--leader-lease NAMESPACE/NAME | --no-election]',
  description:
    'Starts a router per group on its routing.listen address, launches and scales instances through the engine, and prints a line when something changes: a scaling action with its reason, an instance launched, serving, draining, stopped or failed, tide unable to scale (no metrics, at max, out of quota) and able again. Every --heartbeat seconds it prints each group\'s load, p95 (per class with traffic), instances by phase and desired count. The full decisions are in the store\'s event log. SIGHUP reloads the config file: it is validated whole, groups are added, changed and removed without a restart (a removed group\'s instances are drained and stopped), and a file that cannot be applied changes nothing and says why. Ctrl-C (SIGINT) or SIGTERM stops scaling, closes each router to new connections while the requests it took finish (up to routing.drainSeconds; answers then carry Connection: close), then drains every instance and stops it, within 2 × the longest routing.drainSeconds + 30 s (past that, or on a second Ctrl-C, tide exits at once and the next `tide up` adopts what is left); with --keep-instances they keep running and the next `tide up` adopts them. The REST API (docs/api.md) listens on api.host:api.listen (127.0.0.1:7070 by default), with the dashboard at /ui/ (docs/dashboard.md); changes through it need the token from the environment variable api.tokenEnv names, or from the file in the state directory that the start-up line names. With --leader-lease NAMESPACE/NAME (tide in a cluster, several replicas) tide first waits to hold that coordination.k8s.io Lease and does nothing else meanwhile; a leader that loses the lease stops at once, leaving instances running, and exits 1 (its pod restarts as a follower); a clean stop hands the lease over. With a PostgreSQL store (store.url) and no --leader-lease, tide processes sharing the store elect a leader through it (docs/ha.md): until this one leads it is a standby that serves the read-only API from the store and answers changes 503 naming the leader; the leader fences every store write and provider action on the lease (epoch), and one that loses it says so and exits 1. --no-election runs a single tide on the store without electing.',
  examples: [
    { command: 'tide up -c examples/shop/tide.yaml', does: 'run the demo shop\'s groups until Ctrl-C' },
    { command: 'tide up -c tide.yaml --heartbeat 10', does: 'a status line every 10 s' },
    { command: 'tide up -c tide.yaml --keep-instances', does: 'on Ctrl-C leave the instances running; the next tide up adopts them' },
    { command: 'tide up -c tide.yaml --api-listen 7171', does: 'serve the API on port 7171 instead of api.listen' },
    { command: 'tide up -c tide.yaml --leader-lease tide-system/tide', does: 'in a cluster: act only while holding the Lease tide-system/tide (two replicas never both act)' },
    { command: 'tide up -c tide-pg.yaml', does: 'with store.url postgres://…: lead if no other tide does, else serve the read-only API as a standby until the leader goes' },
  ],
  flags: {
    config: { kind: 'file', short: 'c', description: 'tide.yaml', required: true },
    'state-dir': { kind: 'string', description: 'where instance logs go', defaultText: '.tide' },
    'keep-instances': { kind: 'boolean', description: 'on stop, leave instances running for the next start to adopt' },
    heartbeat: { kind: 'non-negative-number', max: 86_400, description: 'seconds between status lines; 0 for none', valueName: 'S', defaultText: '30' },
    ...apiFlags,
    ...leaderFlags,
    ...pgLeaderFlags,
  },
  async run(args, io) {
    const configPath = args.requiredString('config')
    const apiChoice = apiOptionsOf(args, 'tide up')
    const config = loadConfig(configPath)
    const stateDir = resolve(args.string('state-dir') ?? '.tide')
    const elected = await elect(args, config, io, apiChoice, stateDir)
    if (elected === 'stopped') return 0
    const { leadership, pgLeadership } = elected
    const lease = pgLeadership?.lease
    const sampler = new ProcessSampler()
    const runtime = await Runtime.start({
      config,
      stateDir,
      storePath: resolve(config.global.store.path),
      ...(config.global.store.url === undefined ? {} : { storeUrl: config.global.store.url }),
      storeLog: (line) => io.stderr.write(`tide: ${line}\n`),
      sampler,
      events: new UpOutput((line) => io.stdout.write(line)),
      ...(lease === undefined ? {} : fencedOn(lease)),
    }).catch(async (err: unknown) => {
      await leadership?.release()
      throw err
    })
    if (lease !== undefined) leadershipEvent(runtime, config, lease, 'took')
    const alerts = new WebhookAlerts({ groups: config.groups, log: runtime.store })
    runtime.addEventSink(alerts)
    sampler.start((id) => runtime.processOf(id))
    for (const e of runtime.endpoints()) io.stdout.write(endpointLine(e))
    let api: ApiServer | undefined
    try {
      api = await startApi({ runtime, global: config.global, choice: apiChoice, stateDir, configPath, io, ...leadershipStatusOf(pgLeadership) })
    } catch (err) {
      sampler.stop()
      await runtime.stop({ beforeClose: () => alerts.close().then(() => undefined) })
      await leadership?.release()
      throw err
    }
    runtime.run()
    const stopReloading = reloadOnHangup(configPath, runtime, alerts, io)
    const heartbeatSeconds = args.number('heartbeat') ?? 30
    const stopHeartbeat = heartbeatSeconds > 0 ? startHeartbeat(runtime, heartbeatSeconds * 1000, io) : () => undefined
    const sig = await Promise.race([untilSignal(), leadership?.lost ?? new Promise<never>(() => undefined)])
    stopHeartbeat()
    await stopReloading()
    // A replica that lost the lease stops acting at once and leaves everything to the new leader.
    const lost = sig.startsWith('lost ')
    const keep = lost || args.boolean('keep-instances')
    if (lost) io.stdout.write(`${sig}: this tide stops acting now (no provider action, no store write) and leaves the instances to the new leader\n`)
    else if (lease !== undefined) leadershipEvent(runtime, config, lease, 'handed back')
    const disarm = announceStop(sig, keep, runtime, io)
    sampler.stop()
    await api?.close()
    await runtime.stop({ keepInstances: keep, beforeClose: () => alerts.close().then(() => undefined) })
    await leadership?.release()
    disarm()
    return lost ? 1 : 0
  },
}
