/**
 * routing.proxy: haproxy, with a real HAProxy (Debian's package; .ci/run installs it),
 * real backends and real HTTP on 127.0.0.1: the router's primary drives HAProxy through
 * its runtime API and reads its counters and log lines.
 */
import assert from 'node:assert/strict'
import { after, test } from 'node:test'
import { HaproxyCore, parseLogLine, parseShowStat } from '../../src/router/haproxy-core.ts'
import type { WindowSample } from '../../src/router/protocol.ts'
import type { Router } from '../../src/router/router.ts'
import type { RouterStats } from '../../src/router/stats.ts'
import { haproxyPid, hold, request, routerWithBackends, routingSpec, startBackend, statsWhere, waitFor, type Backend } from './fixtures.ts'
import { missingBinary } from '../support/system-binaries.ts'

/** Every test that starts HAProxy: skipped, with the reason, where it is not installed; each bounded in time. */
const withHaproxy = { skip: missingBinary('haproxy'), timeout: 60_000 } as const

const cleanups: (() => Promise<void>)[] = []
after(async () => {
  for (const c of cleanups.reverse()) await c()
})

/**
 * Resolves once HAProxy has applied every routing change made before the call: the
 * table and the stats collection go through the same ordered runtime API queue, so the
 * second window after the call was cut after the table's commands ran.
 */
async function settled(router: Router): Promise<void> {
  let windows = 0
  await statsWhere(router, () => ++windows === 2)
}

async function setup(names: readonly string[], routing: Record<string, unknown> = {}): Promise<{ router: Router; backends: Backend[] }> {
  const setUp = await routerWithBackends(names, { routing: routingSpec({ proxy: 'haproxy', workers: 1, ...routing }) }, cleanups)
  await settled(setUp.router)
  return setUp
}

/**
 * Sums instance and class request counts over stats windows from now on; `until(done)` resolves
 * once `done` holds. Start it before the requests: a window cut while they run is counted too.
 */
function startCounting(router: Router): { until: (done: (byInstance: Map<string, number>, byClass: Map<string, number>) => boolean) => Promise<{ byInstance: Map<string, number>; byClass: Map<string, number>; latencies: number[] }> } {
  const byInstance = new Map<string, number>()
  const byClass = new Map<string, number>()
  const latencies: number[] = []
  const count = (s: RouterStats): void => {
    for (const i of s.instances) byInstance.set(i.id, (byInstance.get(i.id) ?? 0) + i.requests)
    for (const c of s.classes) byClass.set(c.name, (byClass.get(c.name) ?? 0) + c.requests)
    for (const v of [s.total.p95Ms, ...s.instances.map((i) => i.p95Ms)]) if (v !== undefined) latencies.push(v)
  }
  router.on('stats', count)
  return {
    until: async (done) => {
      try {
        await statsWhere(router, () => done(byInstance, byClass))
      } finally {
        router.off('stats', count)
      }
      return { byInstance, byClass, latencies }
    },
  }
}

test('parses show stat and log lines', () => {
  const csv = [
    '# pxname,svname,qmax,qcur,scur,stot,econ,eresp,hrsp_1xx,hrsp_2xx,hrsp_3xx,hrsp_4xx,hrsp_5xx',
    'router,FRONTEND,,,3,10,,,0,9,0,0,1',
    'instances,s1,0,2,1,7,1,0,0,5,0,0,1',
    'instances,BACKEND,0,4,1,7,1,0,0,5,0,0,1',
  ].join('\n')
  const parsed = parseShowStat(csv)
  assert.deepEqual(parsed.servers, [{ slot: 's1', scur: 1, stot: 7, failures: 2, successes: 5, qcur: 2, bin: 0, bout: 0 }], 'columns absent count 0')
  assert.equal(parsed.backendQueue, 4)
  assert.equal(parsed.frontendSessions, 3)
  assert.deepEqual(parseLogLine('s3 200 12 0 checkout\n'), { slot: 's3', status: 200, totalMs: 12, queuedMs: 0, className: 'checkout' })
  assert.equal(parseLogLine('garbage'), undefined)
  assert.equal(parseLogLine('s1 x 1 2 normal'), undefined)
})

test('parses bytes in and out per server from show stat (bin, bout), wherever the columns stand', () => {
  // The columns as HAProxy 2.x orders them (bin and bout before the response codes), two slots.
  const csv = [
    '# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,wredis,status,hrsp_1xx,hrsp_2xx,hrsp_3xx,hrsp_4xx,hrsp_5xx,',
    'router,FRONTEND,,,0,1,2000,3,9999,88888,0,0,0,,,,,OPEN,0,3,0,0,0,',
    'instances,s1,0,0,0,1,,2,1234,56789,,0,,0,0,0,0,UP,0,2,0,0,0,',
    'instances,s2,0,0,0,0,,0,0,0,,0,,0,0,0,0,MAINT,0,0,0,0,0,',
    'instances,BACKEND,0,0,0,1,200,2,1234,56789,0,0,,0,0,0,0,UP,0,2,0,0,0,',
  ].join('\n')
  assert.deepEqual(parseShowStat(csv).servers, [
    { slot: 's1', scur: 0, stot: 2, failures: 0, successes: 2, qcur: 0, bin: 1234, bout: 56789 },
    { slot: 's2', scur: 0, stot: 0, failures: 0, successes: 0, qcur: 0, bin: 0, bout: 0 },
  ])
})

test('haproxy: bytes to and from each instance come from its bin/bout, whole messages with headers', withHaproxy, async () => {
  const { router, backends } = await setup(['a'])
  backends[0]!.handler = (_req, res) => res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(Buffer.alloc(50_000, 0x62))
  // Counted from before the first request: a window cut while the requests run must not be missed.
  const bytes = { in: 0, out: 0, requests: 0 }
  const count = (s: RouterStats): void => {
    for (const i of s.instances.filter((x) => x.id === 'a')) {
      bytes.in += i.bytesIn
      bytes.out += i.bytesOut
      bytes.requests += i.requests
    }
  }
  router.on('stats', count)
  try {
    for (const n of [1000, 3000]) assert.equal((await request(router.port, { method: 'POST', path: '/upload', body: 'p'.repeat(n) })).body.length, 50_000)
    await statsWhere(router, () => bytes.requests >= 2 && bytes.out >= 100_000)
  } finally {
    router.off('stats', count)
  }
  // Bodies exactly, plus each message's start line and headers: a few hundred bytes a message.
  const headerSlack = 2 * 1024
  assert.ok(bytes.in >= 4000 && bytes.in <= 4000 + headerSlack, `bytes in ${bytes.in}`)
  assert.ok(bytes.out >= 100_000 && bytes.out <= 100_000 + headerSlack, `bytes out ${bytes.out}`)
})

test('haproxy: a missing binary is a clear error at start', async () => {
  const core = new HaproxyCore({ routing: routingSpec({ proxy: 'haproxy' }), threads: 1, haproxyPath: '/nonexistent/haproxy' }, () => undefined)
  await assert.rejects(core.listen(), /cannot run '\/nonexistent\/haproxy'.*apt-get install haproxy/)
  core.handle({ t: 'stop', graceMs: 0 })
})

test('haproxy: under load one request in 2^k is logged; totals stay exact, class counts are estimates', withHaproxy, async () => {
  const backend = await startBackend('a')
  const windows: WindowSample[] = []
  const core = new HaproxyCore({ routing: routingSpec({ proxy: 'haproxy', workers: 1 }), threads: 1 }, (msg) => {
    if (msg.t === 'window') windows.push(msg.sample)
  })
  cleanups.push(async () => {
    core.handle({ t: 'stop', graceMs: 0 })
    await backend.close()
  })
  const port = await core.listen()
  core.handle({ t: 'table', entries: [{ id: 'a', host: '127.0.0.1', port: backend.port, routable: true, draining: false }] })
  const collect = async (): Promise<void> => {
    const n = windows.length
    core.handle({ t: 'collect', seq: n })
    const deadline = Date.now() + 10_000
    while (windows.length === n) {
      if (Date.now() > deadline) throw new Error(`no stats window ${n} from HAProxy within 10 s`)
      await new Promise((r) => setTimeout(r, 5))
    }
  }
  await collect()
  const sent = 600
  let seenSample = 1
  for (let i = 0; i < sent; i += 50) {
    await Promise.all(Array.from({ length: 50 }, () => request(port)))
    // Windows of 50 requests cut within a few ms: hundreds of requests a second, so sampling starts.
    await collect()
    seenSample = Math.max(seenSample, core.logSample)
  }
  // The last log lines arrive after their requests were counted: collect until the class counts settle.
  for (let i = 0; i < 20; i++) await collect()
  assert.ok(seenSample > 1, 'sampling started under load')
  const sum = (f: (w: WindowSample) => number): number => windows.reduce((n, w) => n + f(w), 0)
  assert.equal(sum((w) => w.total.requests), sent)
  assert.equal(sum((w) => w.instances.a?.requests ?? 0), sent)
  const estimated = sum((w) => w.classes.normal?.requests ?? 0)
  assert.ok(estimated > sent * 0.5 && estimated < sent * 1.5, `class estimate ${estimated} for ${sent}`)
})

test('haproxy: proxies with X-Forwarded-For/Proto and a request id', withHaproxy, async () => {
  const { router, backends } = await setup(['a'])
  const reply = await request(router.port, { path: '/products?id=7', headers: { 'x-forwarded-for': '10.1.2.3' } })
  assert.equal(reply.status, 200)
  assert.equal(reply.body, 'a')
  const seen = backends[0]!.seen[0]!
  assert.equal(seen.url, '/products?id=7')
  assert.equal(seen.headers['x-forwarded-for'], '10.1.2.3, 127.0.0.1')
  assert.equal(seen.headers['x-forwarded-proto'], 'http')
  assert.match(String(seen.headers['x-request-id']), /^[0-9a-f-]{36}$/)
  assert.equal(reply.headers['x-request-id'], seen.headers['x-request-id'])
  const kept = await request(router.port, { headers: { 'x-request-id': 'order-42' } })
  assert.equal(kept.headers['x-request-id'], 'order-42')
  assert.equal(backends[0]!.seen[1]!.headers['x-request-id'], 'order-42')
})

test('haproxy: an instance failing its health checks gets no traffic, and counts reach the stats', withHaproxy, async () => {
  const { router, backends } = await setup(['a', 'b'], { classes: [{ name: 'checkout', pathPrefix: '/checkout', priority: 'high' }] })
  const [a, b] = backends
  b!.healthStatus = 500
  await waitFor(router, () => router.health().get('b') === 'unhealthy')
  await settled(router)
  const counting = startCounting(router)
  for (let i = 0; i < 6; i++) assert.equal((await request(router.port, { path: i % 2 === 0 ? '/checkout/pay' : '/' })).body, 'a')
  assert.equal(b!.seen.length, 0)
  const { byInstance, byClass, latencies } = await counting.until((i, c) => (i.get('a') ?? 0) >= 6 && (c.get('checkout') ?? 0) >= 3 && (c.get('normal') ?? 0) >= 3)
  // Percentiles come from HAProxy's log lines: present, and never negative.
  assert.ok(latencies.length >= 2, `latency windows: ${latencies.length}`)
  assert.ok(latencies.every((v) => v >= 0))
  assert.equal(byInstance.get('a'), 6)
  assert.equal(byInstance.get('b') ?? 0, 0)
  assert.equal(byClass.get('checkout'), 3)
  assert.equal(byClass.get('normal'), 3)
  assert.equal(a!.seen.length, 6)
})

test('haproxy: a draining instance gets no new requests while its in-flight request finishes', withHaproxy, async () => {
  const { router, backends } = await setup(['a', 'b'], { balance: 'round-robin' })
  const [a, b] = backends
  const held = hold(a!)
  // Round-robin: one of the first two requests reaches a and is held there.
  const arrived = a!.nextRequest()
  const first = [request(router.port, { path: '/long' }), request(router.port, { path: '/long' })]
  await arrived
  const drained = router.drain('a', { timeoutMs: 30_000 })
  await settled(router)
  const before = b!.seen.length
  for (let i = 0; i < 4; i++) assert.equal((await request(router.port)).body, 'b')
  assert.equal(a!.seen.length, 1)
  assert.equal(b!.seen.length, before + 4)
  held[0]!.end('finished')
  assert.deepEqual(await drained, { completed: true, inFlight: 0 })
  const bodies = (await Promise.all(first)).map((r) => r.body).sort()
  assert.deepEqual(bodies, ['b', 'finished'])
})

test('haproxy: a GET is retried on another instance when the first dies mid-request; a sent POST never is', withHaproxy, async () => {
  const { router, backends } = await setup(['a', 'b'], { balance: 'round-robin', ejectAfterFailures: 0 })
  const [a, b] = backends
  a!.handler = (req) => {
    req.socket.destroy()
  }
  for (let i = 0; i < 4; i++) {
    const reply = await request(router.port, { path: '/catalog' })
    assert.equal(reply.status, 200)
    assert.equal(reply.body, 'b')
  }
  assert.ok(a!.seen.length >= 1, 'round-robin sent some GETs to a first')
  assert.equal(b!.seen.length, 4)
  a!.seen.length = 0
  b!.seen.length = 0
  const statuses: number[] = []
  for (let i = 0; i < 4; i++) {
    const reply = await request(router.port, { method: 'POST', path: '/checkout', body: `{"order":${i}}`, headers: { 'content-type': 'application/json' } })
    statuses.push(reply.status)
    if (reply.status === 502) assert.equal(reply.headers['x-tide-error'], 'TIDE_ERR_ROUTER_UPSTREAM')
  }
  // Every POST reached exactly one instance: those a cut off were answered 502, not sent again.
  assert.equal(a!.seen.length + b!.seen.length, 4)
  assert.equal(statuses.filter((s) => s === 502).length, a!.seen.length)
  assert.ok(a!.seen.length >= 1)
})

test('haproxy: low priority is shed while capacity is short, high waits and is served', withHaproxy, async () => {
  const { router, backends } = await setup(['a'], {
    maxInFlightPerInstance: 1,
    classes: [
      { name: 'checkout', pathPrefix: '/checkout', priority: 'high' },
      { name: 'browse', pathPrefix: '/products', priority: 'low' },
    ],
  })
  let shed = 0
  router.on('stats', (s) => {
    shed += s.classes.find((c) => c.name === 'browse')?.shed ?? 0
  })
  const held = hold(backends[0]!)
  const arrived = backends[0]!.nextRequest()
  const busy = request(router.port, { path: '/cart' })
  await arrived
  const low = await request(router.port, { path: '/products/1' })
  assert.equal(low.status, 503)
  assert.equal(low.headers['x-tide-error'], 'TIDE_ERR_ROUTER_SHED')
  assert.equal(low.headers['retry-after'], '1')
  const high = request(router.port, { path: '/checkout/pay' })
  const queued = await statsWhere(router, (s) => s.total.queued === 1)
  assert.equal(queued.total.inFlight, 1)
  backends[0]!.handler = undefined
  held[0]!.end('cart')
  assert.equal((await busy).body, 'cart')
  assert.equal((await high).status, 200)
  await statsWhere(router, () => shed === 1)
})

test('haproxy: no routable instance is 503 NO_INSTANCE; a body over the limit is 413', withHaproxy, async () => {
  const { router, backends } = await setup(['a'], { limits: { maxBodyBytes: 100 } })
  const big = await request(router.port, { method: 'POST', path: '/cart', body: 'x'.repeat(101), headers: { 'content-length': 101 } })
  assert.equal(big.status, 413)
  assert.equal(big.headers['x-tide-error'], 'TIDE_ERR_ROUTER_BODY_TOO_LARGE')
  assert.equal(backends[0]!.seen.length, 0)
  router.setInstances([])
  const none = await (async () => {
    // The table reaches HAProxy through its runtime API: wait until it answers without an instance.
    const deadline = Date.now() + 30_000
    for (;;) {
      const r = await request(router.port)
      if (r.status === 503 || Date.now() > deadline) return r
    }
  })()
  assert.equal(none.status, 503)
  assert.equal(none.headers['x-tide-error'], 'TIDE_ERR_ROUTER_NO_INSTANCE')
})

test('haproxy: a killed HAProxy is started again with its instances', withHaproxy, async () => {
  const { router, backends } = await setup(['a'])
  assert.equal((await request(router.port)).body, 'a')
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => router.once('worker-exit', resolve))
  const pid = haproxyPid(router.port)
  process.kill(pid, 'SIGKILL')
  assert.equal((await exited).signal, 'SIGKILL')
  const deadline = Date.now() + 30_000
  for (;;) {
    const r = await request(router.port).catch(() => undefined)
    if (r?.status === 200) {
      assert.equal(r.body, 'a')
      break
    }
    assert.ok(Date.now() < deadline, 'HAProxy served again within 30 s of its kill')
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  assert.ok(backends[0]!.seen.length >= 2)
})
