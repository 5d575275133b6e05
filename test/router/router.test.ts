import assert from 'node:assert/strict'
import http from 'node:http'
import { after, test } from 'node:test'
import { Router } from '../../src/router/router.ts'
import type { RouterStats } from '../../src/router/stats.ts'
import type { HealthTransition } from '../../src/router/health-checker.ts'
import { healthSpec, hold, request, routerWithBackends, routingSpec, startBackend, startRouter, statsWhere, type Backend, type Reply } from './fixtures.ts'

const cleanups: (() => Promise<void>)[] = []
after(async () => {
  for (const c of cleanups.reverse()) await c()
})

/** Backends and a router that are stopped after the tests. */
function setup(names: readonly string[], options: Parameters<typeof startRouter>[1] = {}): Promise<{ router: Router; backends: Backend[] }> {
  return routerWithBackends(names, options, cleanups)
}

/** Resolves with the next health transition that satisfies `pred`. */
function transition(router: Router, pred: (t: HealthTransition) => boolean): Promise<HealthTransition> {
  return new Promise((resolve) => {
    const on = (t: HealthTransition): void => {
      if (!pred(t)) return
      router.off('health', on)
      resolve(t)
    }
    router.on('health', on)
  })
}

/** Always the first p2c choice with a tie going to it: the first listed instance wins ties. */
const firstChoice = (): number => 0

test('proxies with X-Forwarded-For/Proto and a request id, dropping hop-by-hop headers', async () => {
  const { router, backends } = await setup(['a'])
  const [a] = backends
  const reply = await request(router.port, { path: '/products?id=7', headers: { 'x-forwarded-for': '10.1.2.3', connection: 'x-secret', 'x-secret': 'hush' } })
  assert.equal(reply.status, 200)
  assert.equal(reply.body, 'a')
  const seen = a!.seen[0]!
  assert.equal(seen.url, '/products?id=7')
  assert.equal(seen.headers['x-forwarded-for'], '10.1.2.3, 127.0.0.1')
  assert.equal(seen.headers['x-forwarded-proto'], 'http')
  assert.equal(seen.headers['x-secret'], undefined)
  assert.match(String(seen.headers['x-request-id']), /^[0-9a-f-]{36}$/)
  assert.equal(reply.headers['x-request-id'], seen.headers['x-request-id'])
})

test('streams request bodies to the instance and response bodies back', async () => {
  const { router, backends } = await setup(['echo'])
  backends[0]!.handler = (_req, res, body) => {
    res.writeHead(201, { 'content-type': 'text/plain' })
    res.write(body.toUpperCase())
    res.end('!')
  }
  const body = 'x'.repeat(100_000)
  const reply = await request(router.port, { method: 'POST', path: '/cart', body, headers: { 'content-length': body.length } })
  assert.equal(reply.status, 201)
  assert.equal(reply.body, 'X'.repeat(100_000) + '!')
  assert.equal(backends[0]!.seen[0]!.body.length, 100_000)
})

test('p2c sends a new request to the instance with fewer in flight', async () => {
  const { router, backends } = await setup(['a', 'b'], { random: firstChoice })
  const [a, b] = backends
  const held = hold(a!)
  const arrived = a!.nextRequest()
  const slow = request(router.port, { path: '/slow' })
  await arrived
  for (let i = 0; i < 5; i++) assert.equal((await request(router.port)).body, 'b')
  assert.equal(a!.seen.length, 1)
  assert.equal(b!.seen.length, 5)
  held[0]!.end('done')
  assert.equal((await slow).body, 'done')
})

test('round-robin alternates between instances', async () => {
  const { router } = await setup(['a', 'b'], { routing: routingSpec({ balance: 'round-robin' }) })
  const bodies: string[] = []
  for (let i = 0; i < 4; i++) bodies.push((await request(router.port)).body)
  assert.deepEqual(bodies, ['a', 'b', 'a', 'b'])
})

test('a GET is retried on another instance when the first dies mid-request', async () => {
  const { router, backends } = await setup(['a', 'b'], { random: firstChoice })
  const [a, b] = backends
  a!.handler = (req) => {
    req.socket.destroy()
  }
  const reply = await request(router.port, { path: '/catalog' })
  assert.equal(reply.status, 200)
  assert.equal(reply.body, 'b')
  assert.equal(a!.seen.length, 1)
  assert.equal(b!.seen.length, 1)
})

test('a POST that was sent is never retried', async () => {
  const { router, backends } = await setup(['a', 'b'], { random: firstChoice })
  const [a, b] = backends
  a!.handler = (req) => {
    req.socket.destroy()
  }
  const reply = await request(router.port, { method: 'POST', path: '/checkout', body: '{"order":1}', headers: { 'content-type': 'application/json' } })
  assert.equal(reply.status, 502)
  assert.equal(reply.headers['x-tide-error'], 'TIDE_ERR_ROUTER_UPSTREAM')
  assert.equal(a!.seen.length, 1)
  assert.equal(b!.seen.length, 0)
})

test('a POST is retried when the first instance refused the connection (it never arrived)', async () => {
  // One check at start, none after: the closed instance stays in rotation for the test.
  const { router, backends } = await setup(['a', 'b'], { random: firstChoice, health: healthSpec({ intervalSeconds: 60 }) })
  const [a, b] = backends
  await a!.close()
  const reply = await request(router.port, { method: 'POST', path: '/checkout', body: 'pay' })
  assert.equal(reply.status, 200)
  assert.equal(reply.body, 'b')
  assert.equal(b!.seen[0]!.body, 'pay')
})

test('passive ejection after consecutive 5xx; health checks re-admit the instance', async () => {
  const { router, backends } = await setup(['a', 'b'], {
    random: firstChoice,
    routing: routingSpec({ ejectAfterFailures: 2 }),
    health: healthSpec({ healthyThreshold: 2, unhealthyThreshold: 1000 }),
  })
  const [a, b] = backends
  a!.healthStatus = 500 // checks fail but cannot condemn (threshold 1000) nor re-admit yet
  a!.handler = (_req, res) => res.writeHead(500).end('boom')
  const ejected = transition(router, (t) => t.id === 'a' && t.to === 'unhealthy')
  assert.equal((await request(router.port)).status, 500)
  assert.equal((await request(router.port)).status, 500)
  const t = await ejected
  assert.equal(t.cause, 'ejected')
  for (let i = 0; i < 3; i++) assert.equal((await request(router.port)).body, 'b')
  assert.equal(a!.seen.length, 2)
  const back = transition(router, (x) => x.id === 'a' && x.to === 'healthy')
  a!.healthStatus = 200
  a!.handler = undefined
  assert.equal((await back).cause, 'check')
  assert.equal((await request(router.port)).body, 'a')
  assert.equal(b!.seen.length, 3)
})

test('an instance failing its health checks gets no traffic', async () => {
  const backends = await Promise.all(['a', 'b'].map((n) => startBackend(n)))
  backends[0]!.healthStatus = 503
  const router = new Router({ routing: routingSpec(), health: healthSpec({ unhealthyThreshold: 1 }), random: firstChoice })
  cleanups.push(async () => {
    await router.stop({ graceMs: 0 })
    for (const b of backends) await b.close()
  })
  await router.start()
  const verdicts = Promise.all([transition(router, (t) => t.id === 'a'), transition(router, (t) => t.id === 'b')])
  router.setInstances(backends.map((b) => ({ id: b.name, host: '127.0.0.1', port: b.port, state: 'in-service' as const })))
  await verdicts
  assert.deepEqual(Object.fromEntries(router.health()), { a: 'unhealthy', b: 'healthy' })
  for (let i = 0; i < 4; i++) assert.equal((await request(router.port)).body, 'b')
  assert.equal(backends[0]!.seen.length, 0)
})

test('instances left out of setInstances, or listed as draining, get no new requests', async () => {
  const { router, backends } = await setup(['a', 'b'], { random: firstChoice })
  const [a, b] = backends
  router.setInstances([
    { id: 'a', host: '127.0.0.1', port: a!.port, state: 'draining' },
    { id: 'b', host: '127.0.0.1', port: b!.port, state: 'in-service' },
  ])
  assert.equal((await request(router.port)).body, 'b')
  router.setInstances([{ id: 'b', host: '127.0.0.1', port: b!.port, state: 'in-service' }])
  assert.equal((await request(router.port)).body, 'b')
  assert.equal(a!.seen.length, 0)
  assert.deepEqual([...router.health().keys()], ['b'])
})

test('a warming instance gets traffic once healthy', async () => {
  const { router, backends } = await setup(['w'])
  router.setInstances([{ id: 'w', host: '127.0.0.1', port: backends[0]!.port, state: 'warming' }])
  assert.equal((await request(router.port)).body, 'w')
})

test('a client that goes away frees its instance slot and the instance sees the abort', async () => {
  const { router, backends } = await setup(['a'])
  const a = backends[0]!
  hold(a)
  const arrived = a.nextRequest()
  const aborted = new Promise<void>((resolve) => {
    a.handler = (req) => {
      req.socket.once('close', () => {
        resolve()
      })
    }
  })
  const req = http.request({ host: '127.0.0.1', port: router.port, path: '/slow', agent: false })
  req.on('error', () => undefined)
  req.end()
  await arrived
  req.destroy()
  await aborted
  const s = await statsWhere(router, (x) => x.instances.some((i) => i.id === 'a' && i.inFlight === 0))
  assert.equal(s.total.inFlight, 0)
})

test('no routable instance: 503 TIDE_ERR_ROUTER_NO_INSTANCE with Retry-After', async () => {
  const { router } = await setup([])
  const reply = await request(router.port)
  assert.equal(reply.status, 503)
  assert.equal(reply.headers['x-tide-error'], 'TIDE_ERR_ROUTER_NO_INSTANCE')
  assert.equal(reply.headers['retry-after'], '1')
})

test('a draining instance gets no new requests while its in-flight request finishes', async () => {
  const { router, backends } = await setup(['a', 'b'], { random: firstChoice })
  const [a, b] = backends
  const held = hold(a!)
  const arrived = a!.nextRequest()
  const inFlight = request(router.port, { path: '/long' })
  await arrived
  let settled = false
  const drained = router.drain('a', { timeoutMs: 30_000 }).then((r) => {
    settled = true
    return r
  })
  for (let i = 0; i < 3; i++) assert.equal((await request(router.port)).body, 'b')
  assert.equal(settled, false)
  assert.equal(a!.seen.length, 1)
  held[0]!.end('finished')
  assert.deepEqual(await drained, { completed: true, inFlight: 0 })
  assert.equal((await inFlight).body, 'finished')
  assert.equal(b!.seen.length, 3)
  assert.deepEqual(await router.drain('a', { timeoutMs: 1000 }), { completed: true, inFlight: 0 })
})

test('stats count each class in flight while requests finish in any order', async () => {
  const { router, backends } = await setup(['a'], { routing: routingSpec({ classes: [{ name: 'checkout', pathPrefix: '/checkout', priority: 'high' }] }) })
  const held = hold(backends[0]!)
  // One at a time, so that held[i] is the answer of inFlight[i].
  const inFlight: { reply: Promise<Reply> }[] = []
  for (const path of ['/checkout/1', '/products/1', '/checkout/2', '/products/2']) {
    const arrived = backends[0]!.nextRequest()
    inFlight.push({ reply: request(router.port, { path }) })
    await arrived
  }
  const classInFlight = (s: RouterStats, name: string): number | undefined => s.classes.find((c) => c.name === name)?.inFlight
  await statsWhere(router, (s) => classInFlight(s, 'checkout') === 2 && classInFlight(s, 'normal') === 2)
  // The list of unfinished requests is newest first: finish one in the middle, then the
  // newest, then the oldest; the counts follow each removal.
  held[1]!.end('p1')
  assert.equal((await inFlight[1]!.reply).body, 'p1')
  await statsWhere(router, (s) => classInFlight(s, 'checkout') === 2 && classInFlight(s, 'normal') === 1)
  held[3]!.end('p2')
  assert.equal((await inFlight[3]!.reply).body, 'p2')
  const mid = await statsWhere(router, (s) => classInFlight(s, 'checkout') === 2 && classInFlight(s, 'normal') === 0)
  assert.equal(mid.total.inFlight, 2)
  held[0]!.end('c1')
  assert.equal((await inFlight[0]!.reply).body, 'c1')
  await statsWhere(router, (s) => classInFlight(s, 'checkout') === 1)
  held[2]!.end('c2')
  assert.equal((await inFlight[2]!.reply).body, 'c2')
  const done = await statsWhere(router, (s) => s.total.inFlight === 0)
  assert.equal(classInFlight(done, 'checkout'), 0)
  assert.equal(classInFlight(done, 'normal'), 0)
})

test('drain reports the requests still in flight when it times out', async () => {
  const { router, backends } = await setup(['a'])
  const held = hold(backends[0]!)
  const arrived = backends[0]!.nextRequest()
  const inFlight = request(router.port)
  await arrived
  await statsWhere(router, (s) => s.instances.some((i) => i.id === 'a' && i.inFlight === 1))
  const result = await router.drain('a', { timeoutMs: 20 })
  assert.deepEqual(result, { completed: false, inFlight: 1 })
  held[0]!.end('late')
  assert.equal((await inFlight).body, 'late')
})

test('priority: low is shed first, normal waits until high needs its place, high is served', async () => {
  const { router, backends } = await setup(['a'], {
    routing: routingSpec({
      maxInFlightPerInstance: 1,
      queueLength: 1,
      retryAfterSeconds: 2,
      classes: [
        { name: 'checkout', pathPrefix: '/checkout', priority: 'high' },
        { name: 'api', pathPrefix: '/api', priority: 'normal' },
        { name: 'browse', priority: 'low' },
      ],
    }),
  })
  const a = backends[0]!
  const shedByClass = new Map<string, number>()
  router.on('stats', (s) => {
    for (const c of s.classes) shedByClass.set(c.name, (shedByClass.get(c.name) ?? 0) + c.shed)
  })
  const held = hold(a)
  const arrived = a.nextRequest()
  const browse1 = request(router.port, { path: '/browse/1' })
  await arrived // the one slot is taken: capacity is short from here on

  const browse2 = await request(router.port, { path: '/browse/2' })
  assert.equal(browse2.status, 503)
  assert.equal(browse2.headers['x-tide-error'], 'TIDE_ERR_ROUTER_SHED')
  assert.equal(browse2.headers['retry-after'], '2')

  const api1 = request(router.port, { path: '/api/1' })
  await statsWhere(router, (s) => s.total.queued === 1)
  const checkout1 = request(router.port, { path: '/checkout/1' })
  const api1Reply: Reply = await api1 // evicted from the queue by the high-priority request
  assert.equal(api1Reply.status, 503)
  assert.equal(api1Reply.headers['x-tide-error'], 'TIDE_ERR_ROUTER_SHED')

  const checkout2 = await request(router.port, { path: '/checkout/2' }) // the queue is full of high priority
  assert.equal(checkout2.status, 503)

  const next = a.nextRequest()
  held[0]!.end('browsed')
  assert.equal((await browse1).body, 'browsed')
  assert.equal((await next).url, '/checkout/1')
  held[1]!.end('paid')
  assert.equal((await checkout1).body, 'paid')
  assert.deepEqual(
    a.seen.map((s) => s.url),
    ['/browse/1', '/checkout/1'],
  )
  await statsWhere(router, () => (shedByClass.get('checkout') ?? 0) >= 1 && (shedByClass.get('api') ?? 0) >= 1)
  assert.deepEqual(Object.fromEntries(shedByClass), { checkout: 1, api: 1, browse: 1 })
})

test('limits: 431 for large headers, 413 for large bodies, 504 when the instance is too slow', async (t) => {
  const { router, backends } = await setup(['a'], {
    routing: routingSpec({ limits: { maxHeaderBytes: 1024, maxBodyBytes: 10, requestTimeoutSeconds: 0.1 } }),
  })
  const a = backends[0]!

  await t.test('431 names maxHeaderBytes', async () => {
    const reply = await request(router.port, { headers: { 'x-big': 'a'.repeat(2000) } })
    assert.equal(reply.status, 431)
    assert.match(reply.body, /routing\.limits\.maxHeaderBytes \(1024 bytes\)/)
  })

  await t.test('413 from Content-Length, before the instance sees anything', async () => {
    const reply = await request(router.port, { method: 'PUT', body: 'x'.repeat(11) })
    assert.equal(reply.status, 413)
    assert.match(reply.body, /maxBodyBytes \(10 bytes\)/)
    assert.equal(a.seen.length, 0)
  })

  await t.test('413 for a chunked body once it crosses the limit', async () => {
    const reply = await new Promise<Reply>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: router.port, method: 'POST', path: '/upload', agent: false }, (res) => {
        let body = ''
        res.on('data', (c: Buffer) => (body += c.toString()))
        res.on('end', () => {
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body })
        })
      })
      req.on('error', reject)
      req.write('123456')
      req.end('789012')
    })
    assert.equal(reply.status, 413)
    assert.equal(reply.headers['x-tide-error'], 'TIDE_ERR_ROUTER_BODY_TOO_LARGE')
  })

  await t.test('504 names requestTimeoutSeconds', async () => {
    const held = hold(a)
    const reply = await request(router.port, { path: '/slow' })
    assert.equal(reply.status, 504)
    assert.match(reply.body, /requestTimeoutSeconds \(0\.1 s\)/)
    for (const r of held) r.destroy()
  })
})

test('stats: per instance, per class and totals every window', async () => {
  const { router } = await setup(['a', 'b'], { routing: routingSpec({ classes: [{ name: 'checkout', pathPrefix: '/checkout', priority: 'high' }] }) })
  const totals = { requests: 0, checkout: 0, normal: 0, perInstance: 0, windowsWithTraffic: 0 }
  let sawLatency = false
  router.on('stats', (s) => {
    totals.requests += s.total.requests
    totals.perInstance += s.instances.reduce((n, i) => n + i.requests, 0)
    totals.checkout += s.classes.find((c) => c.name === 'checkout')?.requests ?? 0
    totals.normal += s.classes.find((c) => c.name === 'normal')?.requests ?? 0
    if (s.total.requests > 0) {
      totals.windowsWithTraffic++
      // rps is requests over the window's length
      assert.ok(Math.abs(s.total.rps - s.total.requests / ((s.windowEndMs - s.windowStartMs) / 1000)) < 1e-6)
      sawLatency ||= s.total.p95Ms !== undefined && (s.total.p50Ms ?? Infinity) <= (s.total.p99Ms ?? 0)
    }
  })
  for (let i = 0; i < 4; i++) await request(router.port, { path: '/checkout/x' })
  for (let i = 0; i < 3; i++) await request(router.port, { path: '/' })
  await statsWhere(router, () => totals.requests >= 7)
  assert.deepEqual({ requests: totals.requests, perInstance: totals.perInstance, checkout: totals.checkout, normal: totals.normal }, { requests: 7, perInstance: 7, checkout: 4, normal: 3 })
  assert.ok(sawLatency)
  assert.deepEqual(
    router.stats().instances.map((i) => [i.id, i.health]),
    [
      ['a', 'healthy'],
      ['b', 'healthy'],
    ],
  )
})

test('start twice is a usage error; stop twice is harmless', async () => {
  const { router } = await setup(['a'])
  await assert.rejects(router.start(), (err: Error & { code?: string }) => err.code === 'TIDE_ERR_ROUTER_USAGE')
  await router.stop({ graceMs: 0 })
  await router.stop({ graceMs: 0 })
})

test('cluster mode: two worker processes share the port, stats merge, drain completes', async () => {
  const { router, backends } = await setup(['a', 'b'], { routing: routingSpec({ workers: 2 }) })
  assert.equal(router.workers, 2)
  let total = 0
  router.on('stats', (s) => (total += s.total.requests))
  const replies = await Promise.all(Array.from({ length: 20 }, () => request(router.port)))
  assert.deepEqual(new Set(replies.map((r) => r.status)), new Set([200]))
  await statsWhere(router, () => total >= 20)
  assert.equal(total, 20)
  assert.deepEqual(await router.drain('a', { timeoutMs: 10_000 }), { completed: true, inFlight: 0 })
  const before = backends[0]!.seen.length
  for (let i = 0; i < 4; i++) assert.equal((await request(router.port)).body, 'b')
  assert.equal(backends[0]!.seen.length, before)
})

const portCases = [
  { name: 'in-process (workers 1)', workers: 1 },
  { name: 'cluster (workers 2)', workers: 2 },
] as const
for (const c of portCases) {
  test(`a port already in use is TIDE_ERR_ROUTER_LISTEN naming the address, ${c.name}`, { timeout: 60_000 }, async () => {
    const taken = http.createServer()
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve))
    const port = (taken.address() as { port: number }).port
    try {
      const router = new Router({ routing: routingSpec({ listen: port, workers: c.workers }), health: healthSpec() })
      await assert.rejects(router.start(), (err: Error & { code?: string }) => {
        assert.equal(err.code, 'TIDE_ERR_ROUTER_LISTEN')
        assert.equal(err.message, `cannot listen on 127.0.0.1:${port}: the port is already in use by another program (another tide?): stop it, or choose another routing.listen`)
        return true
      })
      await router.stop()
    } finally {
      await new Promise((resolve) => taken.close(resolve))
    }
  })
}

/** A POST with a chunked body (no Content-Length), sent in `pieces`; resolves with the reply's status and body length. */
function chunkedPost(port: number, path: string, pieces: readonly string[], headers: http.OutgoingHttpHeaders = {}): Promise<{ status: number; bytes: number }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method: 'POST', path, headers: { 'transfer-encoding': 'chunked', ...headers }, agent: false }, (res) => {
      let bytes = 0
      res.on('data', (c: Buffer) => (bytes += c.length))
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, bytes })
      })
    })
    req.on('error', reject)
    req.setTimeout(30_000, () => req.destroy(new Error('no answer within 30 s')))
    for (const p of pieces) req.write(p)
    req.end()
  })
}

const byteCases = [
  { name: 'in-process (workers 1): exact per instance', workers: 1 },
  { name: 'cluster (workers 2): exact in total, merged across workers', workers: 2 },
] as const
for (const c of byteCases) {
  test(`stats count request and response body bytes per instance, ${c.name}`, { timeout: 60_000 }, async () => {
    const { router, backends } = await setup(['a', 'b'], { routing: routingSpec({ balance: 'round-robin', workers: c.workers }) })
    // Each backend answers with as many bytes as the request asks in x-reply-bytes, in 16 KiB writes.
    for (const b of backends) {
      b.handler = (req, res) => {
        let left = Number(req.headers['x-reply-bytes'] ?? 0)
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': left })
        while (left > 0) {
          const n = Math.min(left, 16384)
          res.write(Buffer.alloc(n, 0x61))
          left -= n
        }
        res.end()
      }
    }
    const counted = new Map<string, { in: number; out: number }>()
    const total = { in: 0, out: 0, requests: 0 }
    router.on('stats', (s) => {
      total.in += s.total.bytesIn
      total.out += s.total.bytesOut
      total.requests += s.total.requests
      for (const i of s.instances) {
        const t = counted.get(i.id) ?? { in: 0, out: 0 }
        counted.set(i.id, { in: t.in + i.bytesIn, out: t.out + i.bytesOut })
      }
    })
    // Round-robin from a: a, b, a, b.
    const r1 = await request(router.port, { method: 'POST', path: '/upload', body: 'u'.repeat(1000), headers: { 'x-reply-bytes': 300 } })
    const r2 = await request(router.port, { method: 'POST', path: '/upload', body: 'v'.repeat(2500), headers: { 'x-reply-bytes': 0 } })
    const r3 = await request(router.port, { path: '/download', headers: { 'x-reply-bytes': 70_000 } })
    const r4 = await chunkedPost(router.port, '/stream', ['w'.repeat(400), 'x'.repeat(600)], { 'x-reply-bytes': 5 })
    assert.deepEqual([r1.body.length, r2.body.length, r3.body.length, r4.bytes], [300, 0, 70_000, 5])
    await statsWhere(router, () => total.requests >= 4 && total.out >= 70_305)
    // Bodies only: 1000 + 2500 + 0 + 1000 in, 300 + 0 + 70 000 + 5 out; headers are not counted.
    assert.deepEqual({ in: total.in, out: total.out, requests: total.requests }, { in: 4500, out: 70_305, requests: 4 })
    const perInstance = Object.fromEntries([...counted].sort(([x], [y]) => (x < y ? -1 : 1)))
    if (c.workers === 1) assert.deepEqual(perInstance, { a: { in: 1000, out: 70_300 }, b: { in: 3500, out: 5 } })
    else assert.deepEqual([(perInstance.a?.in ?? 0) + (perInstance.b?.in ?? 0), (perInstance.a?.out ?? 0) + (perInstance.b?.out ?? 0)], [4500, 70_305])
  })
}

test('cluster mode, listen 0: two routers of one process get their own ports, and stopping one closes only its own', { timeout: 60_000 }, async () => {
  const { router: ra } = await setup(['a'], { routing: routingSpec({ workers: 2 }) })
  const { router: rb } = await setup(['b'], { routing: routingSpec({ workers: 2 }) })
  assert.notEqual(ra.port, rb.port, 'each router has its own port')
  for (let i = 0; i < 6; i++) {
    assert.equal((await request(ra.port)).body, 'a')
    assert.equal((await request(rb.port)).body, 'b', 'b\'s port reaches b\'s instances only')
  }
  await rb.stop({ graceMs: 0 })
  await assert.rejects(request(rb.port), 'b\'s port is closed')
  assert.equal((await request(ra.port)).body, 'a')
})
