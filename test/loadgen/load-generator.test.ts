import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { checkTarget, runLoad } from '../../src/loadgen/load-generator.ts'

async function serve(handler: Parameters<typeof createServer>[1]): Promise<{ server: Server; url: string }> {
  const server = createServer(handler)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }
}

test('counts ok, failed and shed answers, and stops at maxRequests', async () => {
  let n = 0
  const seen: string[] = []
  const { server, url } = await serve((req, res) => {
    seen.push(`${req.method} ${req.url}`)
    const k = n++ % 3
    if (k === 0) res.writeHead(200).end('ok')
    else if (k === 1) res.writeHead(503, { 'retry-after': '1' }).end('shed')
    else res.writeHead(500).end('boom')
  })
  try {
    const summary = await runLoad({ url: `${url}/`, rate: () => 500, durationSeconds: 30, maxRequests: 30 })
    assert.equal(summary.totalRequests, 30)
    assert.equal(seen.length, 30)
    assert.equal(summary.okRequests + summary.shedRequests + summary.failedRequests, 30)
    assert.equal(summary.okRequests, 10)
    assert.equal(summary.shedRequests, 10)
    assert.equal(summary.failedRequests, 10)
    assert.equal(summary.byStatus['500'], 10)
  } finally {
    server.close()
  }
})

test('sends the request mix with JSON bodies', async () => {
  const bodies: string[] = []
  const { server, url } = await serve((req, res) => {
    let b = ''
    req.on('data', (c: Buffer) => (b += c.toString()))
    req.on('end', () => {
      if (req.method === 'POST') bodies.push(b)
      res.end()
    })
  })
  try {
    await runLoad({ url, rate: () => 500, durationSeconds: 30, maxRequests: 20, mix: [{ method: 'POST', path: '/checkout', weight: 1, body: { sku: 'x' } }] })
    assert.equal(bodies.length, 20)
    assert.deepEqual(JSON.parse(bodies[0] ?? ''), { sku: 'x' })
  } finally {
    server.close()
  }
})

test('connection errors count as failed', async () => {
  const { server, url } = await serve((_req, res) => res.end())
  server.close()
  await new Promise((r) => server.once('close', r))
  const summary = await runLoad({ url, rate: () => 200, durationSeconds: 30, maxRequests: 5 })
  assert.equal(summary.failedRequests, 5)
  assert.ok(summary.failureSamples.length > 0)
})

test('refuses a non-loopback target unless allowed', () => {
  assert.throws(() => checkTarget('http://10.0.0.1/', false), /not a loopback address/)
  assert.equal(checkTarget('http://10.0.0.1/', true).hostname, '10.0.0.1')
  assert.equal(checkTarget('http://localhost:80/', false).hostname, 'localhost')
  assert.throws(() => checkTarget('ftp://127.0.0.1/', false), /only http/)
})

test('a flow carries the cookie its first request set', async () => {
  const cookies: (string | undefined)[] = []
  const { server, url } = await serve((req, res) => {
    if (req.url === '/cart/items') res.writeHead(200, { 'set-cookie': 'session=abc; Path=/; HttpOnly' }).end()
    else {
      cookies.push(req.headers.cookie)
      res.writeHead(201).end()
    }
  })
  try {
    const summary = await runLoad({
      url,
      rate: () => 500,
      durationSeconds: 30,
      maxRequests: 5,
      mix: [{ method: 'POST', path: '/cart/items', weight: 1, body: { productId: 1, quantity: 1 }, then: [{ method: 'POST', path: '/checkout' }] }],
    })
    assert.equal(summary.totalRequests, 10)
    assert.equal(cookies.length, 5) // 5 flows of 2 requests
    assert.ok(cookies.every((c) => c === 'session=abc'))
  } finally {
    server.close()
  }
})

test('a rate of 1e308 req/s stays bounded and stops at once on abort (it used to loop forever, deaf to Ctrl-C)', async () => {
  let seen = 0
  const { server, url } = await serve((_req, res) => {
    seen++
    res.writeHead(200).end('ok')
  })
  try {
    const abort = new AbortController()
    setTimeout(() => { abort.abort(); }, 300).unref()
    const started = performance.now()
    const summary = await runLoad({ url: `${url}/`, rate: () => 1e308, durationSeconds: 60, maxInFlight: 8, signal: abort.signal })
    assert.ok(performance.now() - started < 20_000, 'ended soon after the abort')
    // At most maxInFlight requests at once were sent; everything beyond was counted as dropped.
    assert.ok(summary.totalRequests >= 8, `${summary.totalRequests} sent`)
    assert.equal(summary.totalRequests, seen)
    assert.ok(summary.clientDropped > 1000)
    assert.ok(Number.isFinite(summary.clientDropped))
  } finally {
    server.close()
  }
})

test('a rate that is not a finite number sends nothing', async () => {
  const { server, url } = await serve((_req, res) => res.writeHead(200).end('ok'))
  try {
    const summary = await runLoad({ url: `${url}/`, rate: () => Number.NaN, durationSeconds: 0.2 })
    assert.equal(summary.totalRequests, 0)
  } finally {
    server.close()
  }
})
