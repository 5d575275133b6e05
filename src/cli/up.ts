/** `tide up -c tide.yaml`: run the controller for the groups in the file until stopped. */
import { resolve } from 'node:path'
import type { Command, CommandIo } from './args.ts'
import type { EventSink, TideEvent } from '../store/events.ts'
import { loadConfig } from '../spec/load.ts'
import { Runtime } from '../runtime/runtime.ts'
import { ProcessSampler } from '../metrics/process-sampler.ts'
import { WebhookAlerts } from '../alerts/webhook.ts'

/** Prints each event as one line: time, group, what happened and why. */
export function terminalEvents(io: CommandIo): EventSink {
  return {
    append(e: TideEvent) {
      const at = new Date(e.atMs).toISOString().slice(11, 19)
      io.stdout.write(`${at} ${e.group} ${e.type}: ${e.message}\n`)
    },
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
  usage: '-c FILE [--state-dir DIR] [--keep-instances]',
  description:
    'Starts a router per group on its routing.listen address, launches and scales instances through the engine, and logs every decision with its reason. Ctrl-C (SIGINT) or SIGTERM drains every instance and stops it; with --keep-instances they keep running and the next `tide up` adopts them.',
  flags: {
    config: { kind: 'file', short: 'c', description: 'tide.yaml', required: true },
    'state-dir': { kind: 'string', description: 'where instance logs go', defaultText: '.tide' },
    'keep-instances': { kind: 'boolean', description: 'on stop, leave instances running for the next start to adopt' },
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
      events: terminalEvents(io),
    })
    const alerts = new WebhookAlerts({ groups: config.groups, log: runtime.store })
    runtime.addEventSink(alerts)
    sampler.start((id) => runtime.processOf(id))
    for (const e of runtime.endpoints()) io.stdout.write(`${e.group}: routing ${e.url}${e.proxy === 'haproxy' ? ' (through HAProxy)' : ''}\n`)
    runtime.run()
    const sig = await untilSignal()
    const keep = args.boolean('keep-instances')
    io.stdout.write(`\n${sig}: ${keep ? 'stopping, leaving instances running' : 'draining and stopping instances'}…\n`)
    sampler.stop()
    await runtime.stop({ keepInstances: keep, beforeClose: () => alerts.close().then(() => undefined) })
    return 0
  },
}
