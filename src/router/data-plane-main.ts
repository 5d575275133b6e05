/**
 * Entry point of a data-plane process (data-plane.ts), started by data-plane-client.ts detached
 * from tide (its own session and process group, stdout and stderr to its log file in the state
 * directory, no IPC channel), with its settings in TIDE_DATA_PLANE = {"group", "stateDir",
 * "socket", "routing", "health", "configHash"}. It serves until a tide sends `shutdown`, or until
 * SIGTERM/SIGINT (a graceful stop: routing.drainSeconds for the requests in flight).
 * A failure to start is written as one JSON line `{"t":"start-failed","code","message"}` to the
 * log, which the starting tide reads to say why.
 */
import { z } from 'zod'
import { HealthSchema, RoutingSchema } from '../spec/schema.ts'
import { DataPlane } from './data-plane.ts'

const ConfigSchema = z.object({
  group: z.string().min(1),
  stateDir: z.string().min(1),
  socket: z.string().min(1),
  routing: RoutingSchema,
  health: HealthSchema,
  configHash: z.string().min(1),
})

const raw = process.env.TIDE_DATA_PLANE
if (raw === undefined) {
  console.error('data plane: start it through tide (routing.dataPlane: process) with TIDE_DATA_PLANE set')
  process.exit(2)
}
const config = ConfigSchema.parse(JSON.parse(raw))

const dataPlane = new DataPlane({
  ...config,
  onShutdown: () => {
    // Whatever still holds the event loop (a slow socket) must not keep a stopped data plane alive.
    setTimeout(() => process.exit(0), 200).unref()
  },
})
const stop = (): void => {
  void dataPlane.shutdown(config.routing.drainSeconds * 1000)
}
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
// It has no terminal: a hang-up is not a reason to stop serving.
process.on('SIGHUP', () => undefined)
try {
  await dataPlane.start()
} catch (err) {
  const e = err as NodeJS.ErrnoException & { code?: string }
  process.stdout.write(`${JSON.stringify({ t: 'start-failed', code: e.code ?? 'UNKNOWN', message: e.message })}\n`, () => {
    process.exit(1)
  })
  setTimeout(() => process.exit(1), 1000).unref()
}
