/**
 * A real running tide for the application service's and the API's tests: the Runtime with one
 * local group of the tiny server (test/providers/fixtures/tiny-server.ts), its real router and
 * store, ticked by hand (`tick()`), never by the run loop, so that each test decides when the
 * controller looks. Bounded waits only.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createApiApp } from '../../src/api/app.ts'
import { startApiServer, type ApiServer } from '../../src/api/server.ts'
import type { TokenSource } from '../../src/api/token.ts'
import { TideService } from '../../src/app/tide-service.ts'
import { Runtime } from '../../src/runtime/runtime.ts'
import { GlobalSchema, GroupSchema, type GroupSpec } from '../../src/spec/schema.ts'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const TINY = join(ROOT, 'test/providers/fixtures/tiny-server.ts')

/** The tiny server's group spec as tide.yaml would say it (plain JSON), `name` and `extra` on top. */
export function tinyGroupValue(name: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    group: name,
    provider: 'local',
    launch: { command: [process.execPath, '--import', 'tsx', TINY], cwd: ROOT, env: { FIXTURE_SECRET: 'hunter2' } },
    replicas: { min: 1, max: 2 },
    syncPeriodSeconds: 1,
    startupSeconds: 1,
    warmupSeconds: 0,
    health: { path: '/healthz', intervalSeconds: 0.5, healthyThreshold: 1, graceSeconds: 10 },
    routing: { listen: 0, drainSeconds: 1 },
    ...extra,
  }
}

/** A running tide with one tiny group, its folder, and how to end it. */
export interface RunningTide {
  readonly runtime: Runtime
  readonly dir: string
  readonly spec: GroupSpec
  /** Ticks every `everyMs` until `cond` holds; throws after `timeoutMs`. */
  tickUntil(what: string, cond: () => boolean | Promise<boolean>, timeoutMs?: number, everyMs?: number): Promise<void>
  /** Stops the runtime (draining and stopping every instance) and removes the folder. */
  stop(): Promise<void>
}

/** Serves `tide`'s API over real HTTP on 127.0.0.1 (a port the OS picks), changes needing `token` (kept where `tokenSource` says, for rotation). Rate limits off: the tests over it send bursts of changes from one address; test/api/rate-limit.test.ts tests the limits. */
export function serveApi(tide: RunningTide, token: string, tokenSource?: TokenSource): Promise<ApiServer> {
  return startApiServer(createApiApp({ service: new TideService(tide.runtime, { baseDir: tide.dir }), token, rateLimits: false, ...(tokenSource === undefined ? {} : { tokenSource }) }), { host: '127.0.0.1', port: 0 })
}

/** Starts a runtime with the group `name` (`extra` on top of its spec) and ticks until an instance of it is in service. */
export async function startTinyTide(name = 'tiny', extra: Record<string, unknown> = {}): Promise<RunningTide> {
  const dir = mkdtempSync(join(tmpdir(), 'tide-app-'))
  const spec = GroupSchema.parse(tinyGroupValue(name, extra))
  const runtime = await Runtime.start({ config: { groups: [spec], global: GlobalSchema.parse({ api: { listen: 0 } }) }, stateDir: join(dir, 'state'), storePath: join(dir, 'tide.db') })
  const tickUntil = async (what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 60_000, everyMs = 200): Promise<void> => {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      await runtime.tick()
      if (await cond()) return
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
      await new Promise((r) => setTimeout(r, everyMs))
    }
  }
  const tide: RunningTide = {
    runtime,
    dir,
    spec,
    tickUntil,
    async stop() {
      await runtime.stop()
      rmSync(dir, { recursive: true, force: true })
    },
  }
  try {
    await tickUntil(`${name}'s instance in service`, () => runtime.controller.status(name)?.instances.some((i) => i.phase === 'in-service') === true)
  } catch (err) {
    await tide.stop()
    throw err
  }
  return tide
}
