// A request the router itself cannot forward is the client's mistake: answered 400 by the router,
// never sent to an instance, never counted against one (no ejection, no retry elsewhere).
// Issue 13: 20 such requests a second ejected every healthy instance and 80 % of good requests got 503.
import assert from 'node:assert/strict'
import net from 'node:net'
import { after, test } from 'node:test'
import { unforwardable } from '../../src/router/proxy-core.ts'
import type { HealthTransition } from '../../src/router/health-checker.ts'
import { request, routerWithBackends, routingSpec } from './fixtures.ts'

const cleanups: (() => Promise<void>)[] = []
after(async () => {
  for (const c of cleanups.reverse()) await c()
})

/** Raw requests node:http parses but no instance can be sent, each with what the 400 says. */
const unforwardables: { name: string; raw: string; message: RegExp }[] = [
  { name: 'OPTIONS *', raw: 'OPTIONS * HTTP/1.1\r\nHost: shop\r\n\r\n', message: /request target "\*" is not a path/ },
  { name: 'two Host headers', raw: 'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n', message: /2 Host headers: a request carries exactly one/ },
  { name: 'an absolute-form target', raw: 'GET http://evil.example/ HTTP/1.1\r\nHost: shop\r\n\r\n', message: /request target "http:\/\/evil\.example\/" is not a path/ },
  { name: 'CONNECT', raw: 'CONNECT evil.example:443 HTTP/1.1\r\nHost: evil.example:443\r\n\r\n', message: /CONNECT is not forwarded/ },
  { name: 'two Host headers on a POST with a body', raw: 'POST /cart HTTP/1.1\r\nHost: a\r\nhost: b\r\nContent-Length: 5\r\n\r\nhello', message: /2 Host headers/ },
]

/** Sends raw bytes on a fresh connection and resolves with everything the router answered (it closes after a 400). */
function raw(port: number, bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1')
    let got = ''
    socket.setTimeout(20_000, () => socket.destroy(new Error('no answer within 20 s')))
    socket.on('data', (d: Buffer) => {
      got += d.toString('latin1')
      // One answer is all: the router keeps a good connection open, so stop at the end of the body.
      const head = got.indexOf('\r\n\r\n')
      const length = /content-length: (\d+)/i.exec(got)?.[1]
      if (head >= 0 && length !== undefined && got.length >= head + 4 + Number(length)) socket.end()
    })
    socket.on('end', () => { resolve(got); })
    socket.on('close', () => { resolve(got); })
    socket.on('error', reject)
    socket.write(bytes)
  })
}

test('unforwardable: origin-form targets with one Host pass; the rest say why', () => {
  assert.equal(unforwardable('GET', '/a?b=c', 1), undefined)
  assert.equal(unforwardable('GET', '/', 0), undefined) // HTTP/1.0 without Host: forwarded, undici adds one
  assert.match(unforwardable('OPTIONS', '*', 1) ?? '', /is not a path/)
  assert.match(unforwardable('GET', '/', 3) ?? '', /3 Host headers/)
  assert.match(unforwardable('CONNECT', 'a:443', 1) ?? '', /CONNECT/)
  assert.match(unforwardable('GET', 'x'.repeat(1000), 1) ?? '', /"x{57}\.\.\." is not a path/)
})

for (const c of unforwardables) {
  test(`${c.name}: 400 TIDE_ERR_ROUTER_BAD_REQUEST from the router; the instance never sees it`, async () => {
    const { router, backends } = await routerWithBackends(['a'], {}, cleanups)
    const answer = await raw(router.port, c.raw)
    assert.match(answer, /^HTTP\/1\.1 400 Bad Request\r\n/)
    assert.match(answer, /x-tide-error: TIDE_ERR_ROUTER_BAD_REQUEST/)
    assert.match((JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)) as { message: string }).message, c.message)
    assert.equal(backends[0]!.seen.length, 0)
  })
}

test('20 unforwardable requests a second beside good traffic: no good request fails, no instance is ejected', { timeout: 120_000 }, async () => {
  const { router, backends } = await routerWithBackends(['a', 'b'], { routing: routingSpec({ ejectAfterFailures: 2, retries: 1 }) }, cleanups)
  const ejections: HealthTransition[] = []
  router.on('health', (t: HealthTransition) => {
    if (t.to !== 'healthy') ejections.push(t)
  })
  const durationMs = 3000
  const started = performance.now()
  const good: Promise<number>[] = []
  const bad: Promise<string>[] = []
  let i = 0
  while (performance.now() - started < durationMs) {
    // 50 good and 20 bad requests a second, interleaved.
    for (let k = 0; k < 5; k++) good.push(request(router.port).then((r) => r.status))
    for (let k = 0; k < 2; k++) bad.push(raw(router.port, unforwardables[i++ % unforwardables.length]!.raw))
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  const goodStatuses = await Promise.all(good)
  const badAnswers = await Promise.all(bad)
  assert.ok(good.length >= 50 && bad.length >= 20, `${good.length} good, ${bad.length} bad`)
  assert.deepEqual(goodStatuses.filter((s) => s !== 200), [], 'every good request answered 200')
  assert.ok(badAnswers.every((a) => a.startsWith('HTTP/1.1 400 ')), 'every bad request answered 400')
  assert.deepEqual(ejections, [], 'no instance ejected')
  assert.equal([...router.health().values()].filter((h) => h !== 'healthy').length, 0)
  const seen = backends.reduce((n, b) => n + b.seen.length, 0)
  assert.equal(seen, good.length, 'instances saw exactly the good requests')
})
