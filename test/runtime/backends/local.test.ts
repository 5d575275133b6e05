/**
 * The local backend as the controller sees it (controller/backend.ts): a real router on
 * 127.0.0.1 that routes exactly the targets the controller set, health from its checks, signals
 * from its stats, and a drain through it. Real HTTP servers stand in for instances.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:http'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { BackendRegistry } from '../../../src/runtime/backends/index.ts'
import { systemClock } from '../../../src/core/clock.ts'
import { MemoryEventLog } from '../../../src/store/events.ts'
import { MemoryInstanceRegistry } from '../../../src/providers/local/instance-registry.ts'
import { GroupSchema, type GroupSpec } from '../../../src/spec/schema.ts'
import { accepts } from '../../support/tcp.ts'

function spec(extra: Record<string, unknown> = {}): GroupSpec {
  return GroupSchema.parse({
    group: 'web',
    provider: 'local',
    launch: { command: ['/bin/true'] },
    health: { path: '/healthz', intervalSeconds: 0.1, healthyThreshold: 1, graceSeconds: 0 },
    routing: { listen: 0, workers: 1, drainSeconds: 2 },
    ...extra,
  })
}

/** An HTTP server on 127.0.0.1 answering its name (and 200 on /healthz). */
async function instance(name: string): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' }).end(req.url === '/healthz' ? 'ok' : name)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { server, port: (server.address() as { port: number }).port }
}

async function get(url: string): Promise<string> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5000), headers: { connection: 'close' } })
  return res.text()
}

/** Polls `cond` every 50 ms for up to `ms`. */
async function until(what: string, cond: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

function registry(dir: string): BackendRegistry {
  return new BackendRegistry({ stateDir: dir, registry: new MemoryInstanceRegistry(), events: new MemoryEventLog(), clock: systemClock })
}

test('local: traffic goes to the targets the controller sets, health comes from the router, a drain goes through it, stop closes the port', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tide-backend-'))
  const a = await instance('a')
  const b = await instance('b')
  const backend = await registry(dir).start(spec())
  try {
    const url = backend.endpoint?.url ?? ''
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/)
    assert.equal(backend.provider.name, 'local')
    const s = spec()
    backend.traffic?.setTargets(s, [
      { id: 'a', host: '127.0.0.1', port: a.port, state: 'in-service', launchedAtMs: Date.now() },
      { id: 'b', host: '127.0.0.1', port: b.port, state: 'in-service', launchedAtMs: Date.now() },
    ])
    await until('both healthy', () => backend.health?.health('a') === 'healthy' && backend.health.health('b') === 'healthy')
    const seen = new Set<string>()
    for (let i = 0; i < 20; i++) seen.add(await get(`${url}/`))
    assert.deepEqual([...seen].sort(), ['a', 'b'])

    // b listed as draining: no new requests for it.
    backend.traffic?.setTargets(s, [
      { id: 'a', host: '127.0.0.1', port: a.port, state: 'in-service', launchedAtMs: Date.now() },
      { id: 'b', host: '127.0.0.1', port: b.port, state: 'draining', launchedAtMs: Date.now() },
    ])
    for (let i = 0; i < 10; i++) assert.equal(await get(`${url}/`), 'a')
    await backend.traffic?.drain(s, { id: 'b', group: 'web', status: 'running', size: s.size, launchedAtMs: Date.now() })

    assert.deepEqual(backend.traffic?.state?.(s), {}, 'no backup pool: nothing to say')

    // Its signals are the router's windows.
    await until('a stats window with requests', () => (backend.signals.read(s, [], Date.now())?.group.rps ?? 0) > 0, 5000)

    // Changes a running local group cannot take.
    assert.equal(backend.refuses(spec({ replicas: { min: 3, max: 9 } })), undefined)
    assert.match(backend.refuses(spec({ routing: { listen: 0, workers: 1, drainSeconds: 5 } })) ?? '', /routing changed/)
    assert.match(backend.refuses(spec({ health: { path: '/up' } })) ?? '', /health changed/)
  } finally {
    await backend.stop()
    a.server.close()
    b.server.close()
    rmSync(dir, { recursive: true, force: true })
  }
  const port = Number(new URL(backend.endpoint?.url ?? '').port)
  assert.equal(await accepts(port), false, 'the router no longer listens')
})
