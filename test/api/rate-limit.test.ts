/**
 * The API's rate limits: the token buckets alone on a stepped clock (refill, burst, Retry-After,
 * the cost of a refused token, the cap on tracked addresses), then the app in process with
 * addresses given by the remoteAddress option (reads and changes budgeted apart, one address
 * never spends another's, a live stream counted once), then a burst of changes over real HTTP.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import type { Context } from 'hono'
import { createApiApp, type ApiApp } from '../../src/api/app.ts'
import { DEFAULT_RATE_LIMITS, FAILED_AUTH_COST, MAX_TRACKED_ADDRESSES, RateLimiter } from '../../src/api/rate-limit.ts'
import { startApiServer } from '../../src/api/server.ts'
import { TideService } from '../../src/app/tide-service.ts'
import { startTinyTide, type RunningTide } from '../support/running-tide.ts'

const TOKEN = 'rate-limit-test-token'
const AUTH = { authorization: `Bearer ${TOKEN}` }

test('a bucket: the burst at once, then perSecond; a refusal says the seconds to wait and takes nothing', () => {
  let now = 1_000_000
  const limiter = new RateLimiter({ reads: { perSecond: 2, burst: 4 }, changes: { perSecond: 1, burst: 2 } }, () => now)
  for (let i = 0; i < 4; i++) assert.equal(limiter.take('reads', 'a'), 0, `read ${i + 1} of the burst`)
  assert.equal(limiter.take('reads', 'a'), 1, 'the fifth waits a second (2/s)')
  now += 400
  assert.equal(limiter.take('reads', 'a'), 1, '0.8 tokens: still refused, the refusal took none')
  now += 100
  assert.equal(limiter.take('reads', 'a'), 0, '1 token after 0.5 s at 2/s')
  assert.equal(limiter.take('changes', 'a'), 0, 'changes have their own bucket')
  assert.equal(limiter.take('reads', 'b'), 0, 'another address has its own bucket')
  now += 60_000
  for (let i = 0; i < 4; i++) assert.equal(limiter.take('reads', 'a'), 0, 'refilled to the burst, no further')
  assert.equal(limiter.take('reads', 'a'), 1)
})

test('a refused token costs FAILED_AUTH_COST changes: the debt is paid in waiting', () => {
  let now = 0
  const limiter = new RateLimiter(DEFAULT_RATE_LIMITS, () => now)
  const { perSecond, burst } = DEFAULT_RATE_LIMITS.changes
  let guesses = 0
  // Guessing for 60 s, as fast as the limiter lets: one request, then the charge of the refusal.
  for (; now < 60_000; now += 10) {
    if (limiter.take('changes', 'guesser') === 0) {
      limiter.charge('changes', 'guesser', FAILED_AUTH_COST)
      guesses++
    }
  }
  const most = Math.ceil((burst + perSecond * 60) / (1 + FAILED_AUTH_COST)) + 1
  assert.ok(guesses <= most, `${guesses} guesses in 60 s, at most ${most}`)
  assert.ok(guesses >= 20, `${guesses} guesses in 60 s: still some`)
})

test(`at most ${MAX_TRACKED_ADDRESSES} addresses are kept: idle ones are dropped first, then the least recently used`, () => {
  let now = 0
  const limiter = new RateLimiter({ reads: { perSecond: 1, burst: 2 }, changes: { perSecond: 1, burst: 2 } }, () => now)
  for (let i = 0; i < MAX_TRACKED_ADDRESSES; i++) limiter.take('reads', `idle-${i}`)
  now += 10_000 // every bucket so far has refilled: idle
  limiter.take('reads', 'busy')
  limiter.take('reads', 'busy')
  assert.equal(limiter.tracked('reads'), 1, 'passing the cap dropped every idle address')
  assert.equal(limiter.take('reads', 'busy'), 1, 'the spent bucket was kept: still refused')
  for (let i = 0; i < 2 * MAX_TRACKED_ADDRESSES; i++) limiter.take('reads', `flood-${i}`)
  assert.ok(limiter.tracked('reads') <= MAX_TRACKED_ADDRESSES, `${limiter.tracked('reads')} tracked`)
})

let tide: RunningTide
let api: ApiApp
let now = 0
/** The address of each request comes from its `x-test-address` header, through the remoteAddress option. */
const addressOf = (c: Context): string | undefined => c.req.header('x-test-address')

before(async () => {
  tide = await startTinyTide('tiny')
  api = createApiApp({ service: new TideService(tide.runtime, { baseDir: tide.dir }), token: TOKEN, remoteAddress: addressOf, now: () => now, streamHeartbeatMs: 60_000 })
})

after(async () => {
  api.close()
  await tide.stop()
})

async function call(method: string, path: string, address: string, headers: Record<string, string> = {}): Promise<{ status: number; retryAfter: string | null; code: string | undefined }> {
  const res = await api.app.request(path, { method, headers: { 'x-test-address': address, ...headers } })
  const text = await res.text()
  const code = res.headers.get('content-type')?.includes('json') === true ? (JSON.parse(text) as { error?: { code?: string } }).error?.code : undefined
  return { status: res.status, retryAfter: res.headers.get('retry-after'), code }
}

test('in process: changes past the burst → 429 TIDE_ERR_API_RATE_LIMITED with Retry-After; reads and other addresses go on', async () => {
  now = 10_000_000
  const { burst } = DEFAULT_RATE_LIMITS.changes
  for (let i = 0; i < burst; i++) assert.equal((await call('POST', '/groups/nope/pause', '127.0.0.1', AUTH)).status, 404, `change ${i + 1}`)
  const limited = await call('POST', '/groups/nope/pause', '127.0.0.1', AUTH)
  assert.equal(limited.status, 429)
  assert.equal(limited.code, 'TIDE_ERR_API_RATE_LIMITED')
  assert.equal(limited.retryAfter, '1')
  assert.equal((await call('GET', '/groups', '127.0.0.1')).status, 200, 'reads have their own budget')
  assert.equal((await call('POST', '/groups/nope/pause', '::1', AUTH)).status, 404, 'another address has its own budget')
  now += 1000
  assert.equal((await call('POST', '/groups/nope/pause', '127.0.0.1', AUTH)).status, 404, 'a second later: 5 more changes')
})

test('in process: reads past their burst → 429; token guesses are slowed to about one per 2 s', async () => {
  now = 20_000_000
  const { burst } = DEFAULT_RATE_LIMITS.reads
  for (let i = 0; i < burst; i++) assert.equal((await call('GET', '/openapi.json', '10.0.0.1', AUTH)).status, 200)
  const limited = await call('GET', '/openapi.json', '10.0.0.1', AUTH)
  assert.equal(limited.status, 429)
  assert.equal(limited.code, 'TIDE_ERR_API_RATE_LIMITED')

  const answers: number[] = []
  for (let i = 0; i < 6; i++) answers.push((await call('POST', '/groups/tiny/pause', '10.0.0.2', { authorization: `Bearer guess-${i}` })).status)
  assert.deepEqual(answers, [401, 401, 429, 429, 429, 429], 'two refused guesses spend the burst of 20 changes')
  now += 2000
  assert.equal((await call('POST', '/groups/tiny/pause', '10.0.0.2', { authorization: 'Bearer guess-7' })).status, 401, 'then one guess per 2 s')
  assert.equal((await call('POST', '/groups/tiny/pause', '10.0.0.2', { authorization: 'Bearer guess-8' })).status, 429)
  assert.equal(tide.runtime.controller.isPaused('tiny'), false)
})

test('in process: a live stream counts once, however long it stays open', async () => {
  now = 30_000_000
  const { burst } = DEFAULT_RATE_LIMITS.reads
  const res = await api.app.request('/events/stream', { headers: { 'x-test-address': '10.0.0.3', ...AUTH }, signal: AbortSignal.timeout(10_000) })
  assert.equal(res.status, 200)
  const reader = res.body?.getReader()
  for (let i = 0; i < burst - 1; i++) assert.equal((await call('GET', '/groups', '10.0.0.3', AUTH)).status, 200, `read ${i + 2}`)
  assert.equal((await call('GET', '/groups', '10.0.0.3', AUTH)).status, 429, 'the stream took one read')
  await reader?.cancel()
})

test('over HTTP: 30 changes at once from 127.0.0.1: the burst of 20 served, the rest 429 with Retry-After', async () => {
  const real = createApiApp({ service: new TideService(tide.runtime, { baseDir: tide.dir }), token: TOKEN })
  const server = await startApiServer(real, { host: '127.0.0.1', port: 0 })
  try {
    const burst = DEFAULT_RATE_LIMITS.changes.burst
    // Sent at once (on parallel connections), so the bucket earns little back while they arrive.
    const answers = await Promise.all(
      Array.from({ length: burst + 10 }, async () => {
        const res = await fetch(`${server.url}/groups/nope/resume`, { method: 'POST', headers: AUTH, signal: AbortSignal.timeout(10_000) })
        const body = (await res.json()) as { error: { code: string } }
        return { status: res.status, code: body.error.code, retryAfter: res.headers.get('retry-after') }
      }),
    )
    const served = answers.filter((a) => a.status === 404).length
    const limited = answers.filter((a) => a.status === 429)
    // At 5/s, a slow machine may earn a token or two back while they are sent.
    assert.ok(served >= burst && served <= burst + 5, `${served} served of ${answers.length}`)
    assert.equal(served + limited.length, answers.length, 'every other answer is a 429')
    for (const a of limited) {
      assert.equal(a.code, 'TIDE_ERR_API_RATE_LIMITED')
      assert.match(a.retryAfter ?? '', /^[1-9][0-9]*$/)
    }
  } finally {
    await server.close()
  }
})
