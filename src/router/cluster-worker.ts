/**
 * Entry point of a router worker process (node:cluster): one proxy core that
 * accepts on the primary's shared listen socket and talks to the primary over IPC
 * (protocol.ts). Started by Router with TIDE_ROUTER_CORE = {"routing": …, "cores": n}.
 */
import { RoutingSchema } from '../spec/schema.ts'
import type { FromCore, ToCore } from './protocol.ts'
import { ProxyCore } from './proxy-core.ts'

const raw = process.env.TIDE_ROUTER_CORE
if (raw === undefined || process.send === undefined) {
  console.error('router worker: start it through Router (node:cluster) with TIDE_ROUTER_CORE set')
  process.exit(2)
}
const config = JSON.parse(raw) as { routing: unknown; cores: number }
const routing = RoutingSchema.parse(config.routing)

const send = (msg: FromCore): void => {
  if (!process.connected) return
  if (msg.t === 'stopped') {
    process.send?.(msg, undefined, {}, () => {
      process.disconnect()
    })
    // Whatever still holds the event loop after stop (a slow socket) must not keep the worker alive.
    setTimeout(() => process.exit(0), 1000).unref()
    return
  }
  process.send?.(msg)
}

const core = new ProxyCore({ routing, cores: config.cores }, send)
process.on('message', (msg: ToCore) => {
  core.handle(msg)
})
// The primary went away: nobody will ever send the table again.
process.on('disconnect', () => {
  process.exit(0)
})
try {
  await core.listen()
} catch (err) {
  // Told to the primary, which reports it once, naming the address; no stack from here.
  const e = err as NodeJS.ErrnoException
  process.send({ t: 'listen-failed', code: e.code ?? 'UNKNOWN', message: e.message } satisfies FromCore, undefined, {}, () => {
    process.exit(1)
  })
  setTimeout(() => process.exit(1), 1000).unref()
}
