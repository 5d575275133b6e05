/** `tide up -c tide.yaml`: run the controller for the groups in the file until stopped. */
import { resolve } from 'node:path'
import type { Command, CommandIo } from './args.ts'
import { heartbeatLine, TrafficTally, UpOutput } from './up-output.ts'
import { loadConfig } from '../spec/load.ts'
import { Runtime } from '../runtime/runtime.ts'
import { ProcessSampler } from '../metrics/process-sampler.ts'
import { WebhookAlerts } from '../alerts/webhook.ts'

/**
 * Prints each group's state every `intervalMs`: traffic since the last beat, instances by
 * phase, the desired count, and conditions not in their normal state (heartbeatLine), from the
 * controller's plain status. Returns the function that stops it.
 */
function startHeartbeat(runtime: Runtime, intervalMs: number, io: CommandIo): () => void {
  const tallies = new Map<string, TrafficTally>()
  for (const [group, router] of runtime.routers) {
    const tally = new TrafficTally()
    router.on('stats', (s) => {
      tally.add(s)
    })
    tallies.set(group, tally)
  }
  const timer = setInterval(() => {
    for (const g of runtime.controller.groups()) {
      const status = runtime.controller.status(g.group)
      if (!status) continue
      const line = heartbeatLine({
        atMs: Date.now(),
        group: g.group,
        traffic: tallies.get(g.group)?.take(),
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

export const command: Command = {
  summary: 'Run tide for the groups in a config file until stopped (Ctrl-C drains and stops instances)',
  usage: '-c FILE [--state-dir DIR] [--keep-instances] [--heartbeat S]',
  description:
    'Starts a router per group on its routing.listen address, launches and scales instances through the engine, and prints a line when something changes: a scaling action with its reason, an instance launched, serving, draining, stopped or failed, tide unable to scale (no metrics, at max, out of quota) and able again. Every --heartbeat seconds it prints each group\'s load, p95 (per class with traffic), instances by phase and desired count. The full decisions are in the store\'s event log. Ctrl-C (SIGINT) or SIGTERM drains every instance and stops it; with --keep-instances they keep running and the next `tide up` adopts them.',
  examples: [
    { command: 'tide up -c examples/shop/tide.yaml', does: 'run the demo shop\'s groups until Ctrl-C' },
    { command: 'tide up -c tide.yaml --heartbeat 10', does: 'a status line every 10 s' },
    { command: 'tide up -c tide.yaml --keep-instances', does: 'on Ctrl-C leave the instances running; the next tide up adopts them' },
  ],
  flags: {
    config: { kind: 'file', short: 'c', description: 'tide.yaml', required: true },
    'state-dir': { kind: 'string', description: 'where instance logs go', defaultText: '.tide' },
    'keep-instances': { kind: 'boolean', description: 'on stop, leave instances running for the next start to adopt' },
    heartbeat: { kind: 'non-negative-number', description: 'seconds between status lines; 0 for none', valueName: 'S', defaultText: '30' },
  },
  async run(args, io) {
    const config = loadConfig(args.requiredString('config'))
    const stateDir = resolve(args.string('state-dir') ?? '.tide')
    const sampler = new ProcessSampler()
    const runtime = await Runtime.start({
      config,
      stateDir,
      storePath: resolve(config.global.store.path),
      sampler,
      events: new UpOutput((line) => io.stdout.write(line)),
    })
    const alerts = new WebhookAlerts({ groups: config.groups, log: runtime.store })
    runtime.addEventSink(alerts)
    sampler.start((id) => runtime.processOf(id))
    for (const e of runtime.endpoints()) io.stdout.write(`${e.group}: routing ${e.url}${e.proxy === 'haproxy' ? ' (through HAProxy)' : ''}\n`)
    runtime.run()
    const heartbeatSeconds = args.number('heartbeat') ?? 30
    const stopHeartbeat = heartbeatSeconds > 0 ? startHeartbeat(runtime, heartbeatSeconds * 1000, io) : () => undefined
    const sig = await untilSignal()
    stopHeartbeat()
    const keep = args.boolean('keep-instances')
    io.stdout.write(`\n${sig}: ${keep ? 'stopping, leaving instances running' : 'draining and stopping instances'}…\n`)
    sampler.stop()
    await runtime.stop({ keepInstances: keep, beforeClose: () => alerts.close().then(() => undefined) })
    return 0
  },
}
