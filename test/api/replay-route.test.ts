/**
 * `POST /groups/{name}/replay` over real HTTP on 127.0.0.1 against a real running tide whose
 * store holds a day of recorded demand (written directly, as the runtime records it): the
 * answer's figures, a bad spec, the token, an unknown group, too little demand, and a replay
 * that leaves the API answering while it runs.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import type { ApiServer } from '../../src/api/server.ts'
import type { ReplayResult } from '../../src/app/replay.ts'
import { serveApi, startTinyTide, tinyGroupValue, type RunningTide } from '../support/running-tide.ts'

const TOKEN = 'replay-test-token'
const HOUR = 3_600_000
let tide: RunningTide
let server: ApiServer

before(async () => {
  tide = await startTinyTide('web')
  server = await serveApi(tide, TOKEN)
  // A day of demand around 250 req/s, one sample every 15 s: three instances of the simulator's default 100 req/s.
  const now = Date.now()
  for (let t = now - 24 * HOUR; t < now; t += 15_000) tide.runtime.store.recordMetric('web', 'rps', t, 250 + 20 * Math.sin(t / 600_000))
})

after(async () => {
  await server.close()
  await tide.stop()
})

async function post(path: string, body: unknown, token: string | null = TOKEN): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token === null ? {} : { authorization: `Bearer ${token}` }) },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    signal: AbortSignal.timeout(60_000),
  })
  return { status: res.status, body: (await res.json()) as Record<string, unknown> }
}

const errorOf = (r: { body: Record<string, unknown> }) => r.body.error as { code: string; message: string; issues?: { path: string; message: string }[] }

test('a replay answers both figure sets: max 2 cannot carry 250 req/s, max 6 can', async () => {
  const r = await post('/groups/web/replay', { spec: tinyGroupValue('web', { replicas: { min: 1, max: 6 } }), hours: 2 })
  assert.equal(r.status, 200, JSON.stringify(r.body))
  const body = r.body as unknown as ReplayResult
  assert.equal(body.group, 'web')
  assert.ok(body.demandPoints > 100, `${body.demandPoints}`)
  assert.equal(body.current.peakInstances, 2)
  assert.ok(body.proposed.peakInstances >= 3)
  assert.ok(body.current.sloViolatedPercent > 50, `${body.current.sloViolatedPercent}`)
  assert.ok(body.proposed.sloViolatedPercent < body.current.sloViolatedPercent)
  for (const f of [body.current, body.proposed]) {
    for (const k of ['costInstanceHours', 'sloViolatedPercent', 'failedRequestsPercent', 'peakInstances', 'costRatioToOracle'] as const) assert.equal(typeof f[k], 'number', k)
    assert.ok(f.decisions.up + f.decisions.down + f.decisions.hold > 0)
  }
  assert.ok(Array.isArray(body.notes) && body.notes.length > 0)
  assert.equal(tide.runtime.config.groups[0]?.replicas.max, 2, 'a replay applies nothing')
})

test('a bad spec is 400 TIDE_ERR_CONFIG with the issues by field, and nothing runs', async () => {
  const r = await post('/groups/web/replay', { spec: { ...tinyGroupValue('web'), replicas: { min: 'one', max: 2 }, replcas: 1 } })
  assert.equal(r.status, 400)
  const e = errorOf(r)
  assert.equal(e.code, 'TIDE_ERR_CONFIG')
  assert.deepEqual(e.issues?.map((i) => i.path).sort(), ['replcas', 'replicas.min'])
})

const badBodies = [
  { name: 'not JSON', body: '{', says: /the body is not JSON/ },
  { name: 'no spec', body: { hours: 2 }, says: /body\.spec/ },
  { name: 'negative hours', body: { spec: {}, hours: -1 }, says: /body\.hours/ },
  { name: 'an unknown field', body: { spec: {}, hour: 2 }, says: /body\.hour: unknown parameter/ },
  { name: 'a bad time', body: { spec: {}, from: 'yesterday' }, says: /body\.from/ },
] as const
for (const c of badBodies) {
  test(`a body with ${c.name} is 400 TIDE_ERR_API_BAD_REQUEST naming the field`, async () => {
    const r = await post('/groups/web/replay', c.body)
    assert.equal(r.status, 400)
    assert.equal(errorOf(r).code, 'TIDE_ERR_API_BAD_REQUEST')
    assert.match(errorOf(r).message, c.says)
  })
}

test('without the token: 401, and a wrong one too', async () => {
  for (const token of [null, 'wrong']) {
    const r = await post('/groups/web/replay', { spec: tinyGroupValue('web') }, token)
    assert.equal(r.status, 401)
    assert.equal(errorOf(r).code, 'TIDE_ERR_API_UNAUTHORIZED')
  }
})

test('an unknown group: 404 naming the groups there are', async () => {
  const r = await post('/groups/shop-wbe/replay', { spec: tinyGroupValue('shop-wbe') })
  assert.equal(r.status, 404)
  assert.match(errorOf(r).message, /no group "shop-wbe" \(groups: web\)/)
})

test('too little recorded demand in the window: 422 TIDE_ERR_API_INSUFFICIENT_DATA saying how much', async () => {
  const to = Date.now() - 30 * HOUR
  const r = await post('/groups/web/replay', { spec: tinyGroupValue('web'), hours: 1, to })
  assert.equal(r.status, 422)
  assert.equal(errorOf(r).code, 'TIDE_ERR_API_INSUFFICIENT_DATA')
  assert.match(errorOf(r).message, /too little recorded demand .*: none; a replay needs at least 10 min/)
})

test('while a replay of hours runs, the API (and so the event loop the control loop shares) keeps answering', async () => {
  let replayDoneAt = 0
  const replay = post('/groups/web/replay', { spec: tinyGroupValue('web', { replicas: { min: 1, max: 4 } }), hours: 6 }).then((r) => {
    replayDoneAt = performance.now()
    return r
  })
  // Let the replay's request reach the service first.
  await new Promise((r) => setTimeout(r, 100))
  const res = await fetch(`${server.url}/groups`, { signal: AbortSignal.timeout(10_000) })
  const readDoneAt = performance.now()
  assert.equal(res.status, 200)
  const r = await replay
  assert.equal(r.status, 200, JSON.stringify(r.body))
  assert.ok(readDoneAt < replayDoneAt, 'the read was answered before the replay finished')
})

test('the OpenAPI document describes the replay route', async () => {
  const doc = (await (await fetch(`${server.url}/openapi.json`, { signal: AbortSignal.timeout(10_000) })).json()) as { paths: Record<string, Record<string, unknown>> }
  const route = doc.paths['/groups/{name}/replay']?.post as { responses: Record<string, unknown> } | undefined
  assert.ok(route !== undefined)
  assert.deepEqual(Object.keys(route.responses).sort(), ['200', '400', '401', '404', '409', '422'])
})
