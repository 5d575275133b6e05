/**
 * Real backends and a real router on 127.0.0.1 for the router's tests. Nothing here sleeps:
 * waits are for events (a request arriving, a stats window, a health transition).
 */
import { readFileSync, readdirSync, readlinkSync } from 'node:fs'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { HealthSchema, RoutingSchema, type HealthSpec, type RoutingSpec } from '../../src/spec/schema.ts'
import { Router, type RouterOptions } from '../../src/router/router.ts'
import type { RouterStats } from '../../src/router/stats.ts'

/** A request a backend saw. */
export interface Seen {
  readonly method: string
  readonly url: string
  readonly headers: http.IncomingHttpHeaders
  readonly body: string
}

/** A backend node:http server that records requests; `handler` decides the answer (default: 200 with its name). */
export interface Backend {
  readonly name: string
  readonly port: number
  readonly seen: Seen[]
  /** Health endpoint answers this status; change it to fail health checks. */
  healthStatus: number
  handler: ((req: http.IncomingMessage, res: http.ServerResponse, body: string) => void) | undefined
  /** Resolves when the next non-health request arrives (before it is answered). */
  nextRequest(): Promise<Seen>
  close(): Promise<void>
}

export async function startBackend(name: string): Promise<Backend> {
  const waiters: ((s: Seen) => void)[] = []
  const backend: Backend = {
    name,
    port: 0,
    seen: [],
    healthStatus: 200,
    handler: undefined,
    nextRequest: () =>
      new Promise((resolve) => {
        waiters.push(resolve)
      }),
    close: () =>
      new Promise((resolve) => {
        server.close(() => {
          resolve()
        })
        server.closeAllConnections()
      }),
  }
  const server = http.createServer((req, res) => {
    if (req.url === '/healthz') {
      res.writeHead(backend.healthStatus).end()
      return
    }
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const seen: Seen = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString() }
      backend.seen.push(seen)
      for (const w of waiters.splice(0)) w(seen)
      if (backend.handler) backend.handler(req, res, seen.body)
      else res.writeHead(200, { 'content-type': 'text/plain' }).end(name)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return Object.assign(backend, { port: (server.address() as AddressInfo).port })
}

/** Routing options for tests: in-process, fast health checks, given overrides. */
export function routingSpec(overrides: Record<string, unknown> = {}): RoutingSpec {
  return RoutingSchema.parse({ listen: 0, workers: 1, ...overrides })
}

/** Health options for tests: 20 ms interval, no grace. */
export function healthSpec(overrides: Record<string, unknown> = {}): HealthSpec {
  return HealthSchema.parse({ intervalSeconds: 0.02, timeoutSeconds: 0.5, graceSeconds: 0, ...overrides })
}

/** Starts a router in front of the backends (all in-service) and waits until they are all healthy; stops it again if they never are. */
export async function startRouter(backends: readonly Backend[], options: Partial<RouterOptions> & { routing?: RoutingSpec } = {}): Promise<Router> {
  const router = new Router({ routing: options.routing ?? routingSpec(), health: options.health ?? healthSpec(), statsIntervalMs: options.statsIntervalMs ?? 50, ...(options.random ? { random: options.random } : {}) })
  await router.start()
  router.setInstances(backends.map((b) => ({ id: b.name, host: '127.0.0.1', port: b.port, state: 'in-service' as const })))
  try {
    await waitFor(router, () => [...router.health().values()].every((h) => h === 'healthy'))
  } catch (err) {
    await router.stop({ graceMs: 0 })
    throw err
  }
  return router
}

/** Backends named `names` and a router in front of them; stopping both is pushed onto `cleanups`. */
export async function routerWithBackends(names: readonly string[], options: Parameters<typeof startRouter>[1], cleanups: (() => Promise<void>)[]): Promise<{ router: Router; backends: Backend[] }> {
  const backends = await Promise.all(names.map((n) => startBackend(n)))
  let router: Router
  try {
    router = await startRouter(backends, options)
  } catch (err) {
    // A router that fails to start must not leave the backends listening: the test file would never exit.
    for (const b of backends) await b.close()
    throw err
  }
  cleanups.push(async () => {
    await router.stop({ graceMs: 0 })
    for (const b of backends) await b.close()
  })
  return { router, backends }
}

/** Makes a backend hold every request until released; returns the held responses. */
export function hold(b: Backend): http.ServerResponse[] {
  const held: http.ServerResponse[] = []
  b.handler = (_req, res) => {
    held.push(res)
  }
  return held
}

/**
 * Resolves when `ready()` holds, checked now and after every health or stats event; rejects
 * after timeoutMs (30 s by default) so a test that goes wrong fails instead of hanging.
 */
export function waitFor(router: Router, ready: () => boolean, timeoutMs = 30_000): Promise<void> {
  return new Promise((resolve, reject) => {
    if (ready()) {
      resolve()
      return
    }
    const done = (): void => {
      clearTimeout(timer)
      router.off('health', check)
      router.off('stats', check)
    }
    const check = (): void => {
      if (!ready()) return
      done()
      resolve()
    }
    const timer = setTimeout(() => {
      done()
      reject(new Error(`router condition not reached within ${timeoutMs} ms`))
    }, timeoutMs)
    router.on('health', check)
    router.on('stats', check)
  })
}

/**
 * Resolves with the first stats window that satisfies `pred`; rejects with the last window
 * seen when `maxWindows` pass without one (a count of windows, not a time: a slow machine
 * only makes it take longer).
 */
export function statsWhere(router: Router, pred: (s: RouterStats) => boolean, maxWindows = 400): Promise<RouterStats> {
  return new Promise((resolve, reject) => {
    let seen = 0
    const on = (s: RouterStats): void => {
      seen++
      const ok = pred(s)
      if (!ok && seen < maxWindows) return
      router.off('stats', on)
      if (ok) resolve(s)
      else reject(new Error(`no stats window matched in ${maxWindows} windows; the last: ${JSON.stringify({ total: s.total, classes: s.classes })}`))
    }
    router.on('stats', on)
  })
}

/** A response read completely. */
export interface Reply {
  readonly status: number
  readonly headers: http.IncomingHttpHeaders
  readonly body: string
}

/** How long request() waits for a socket to show activity before it fails. */
const REQUEST_TIMEOUT_MS = 30_000

/** One request to the router with a fresh connection; never rejects on HTTP errors, rejects on socket errors. */
export function request(port: number, options: { method?: string; path?: string; headers?: http.OutgoingHttpHeaders; body?: string | Buffer } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method: options.method ?? 'GET', path: options.path ?? '/', headers: options.headers ?? {}, agent: false }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() })
      })
      res.on('error', reject)
    })
    req.on('error', reject)
    // Bounded: a request the test never gets an answer to fails it rather than hanging it.
    req.setTimeout(REQUEST_TIMEOUT_MS, () => {
      req.destroy(new Error(`no response from 127.0.0.1:${port}${options.path ?? '/'} within ${REQUEST_TIMEOUT_MS} ms`))
    })
    req.end(options.body)
  })
}

/** The pid of the haproxy process listening on port, from /proc (its socket inode). */
export function haproxyPid(port: number): number {
  const hex = port.toString(16).toUpperCase().padStart(4, '0')
  const inodes = new Set<string>()
  for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/)
    if (f[1]?.endsWith(`:${hex}`) && f[3] === '0A') inodes.add(f[9] ?? '')
  }
  for (const pid of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    let fds: string[]
    try {
      fds = readdirSync(`/proc/${pid}/fd`)
    } catch {
      continue
    }
    for (const fd of fds) {
      try {
        const m = /socket:\[(\d+)\]/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`))
        if (m && inodes.has(m[1] ?? '')) return Number(pid)
      } catch {
        // gone
      }
    }
  }
  throw new Error(`no process listens on ${port}`)
}
