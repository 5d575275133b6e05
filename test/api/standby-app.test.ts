/**
 * The standby's API in process (`app.request()`), over a real store (SQLite in memory, read
 * through the asynchronous reads a standby uses): GET /status says standby with the leader and
 * its epoch; groups, one group, events (with paging) and metric history come from the store;
 * every change, and the leader-only reads, answer 503 TIDE_ERR_API_NOT_LEADER naming the
 * leader, whatever the token; reads from beyond loopback need the token, as on the leader.
 */
/* eslint-disable @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-argument, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-return, @typescript-eslint/no-explicit-any -- the answers are JSON (`any`), checked field by field with assert */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { createStandbyApiApp } from '../../src/api/standby-app.ts'
import { StandbyReadModel, type LeadershipStatus, type StandbyStoreReads } from '../../src/app/standby-read-model.ts'
import { ManualClock } from '../../src/core/clock.ts'
import { GroupSchema } from '../../src/spec/schema.ts'
import { SqliteStore } from '../../src/store/sqlite-store.ts'
import type { ApiApp } from '../../src/api/app.ts'

const TOKEN = 'standby-token-0123456789'
const LOOPBACK = { incoming: { socket: { remoteAddress: '127.0.0.1' } } }
const REMOTE = { incoming: { socket: { remoteAddress: '192.0.2.7' } } }
const T0 = Date.parse('2026-11-11T00:00:00Z')

const web = GroupSchema.parse({ group: 'web', provider: 'local', launch: { command: ['node', 'server.js'], env: { SECRET: 'hunter2' } }, replicas: { min: 1, max: 3 } })
const api2 = GroupSchema.parse({ group: 'api', provider: 'local', launch: { command: ['node', 'api.js'] }, replicas: { min: 1, max: 3 } })

describe('standby API', () => {
  let store: SqliteStore
  let app: ApiApp
  let leadership: LeadershipStatus = { role: 'standby', identity: 'host-b-2', leader: 'host-a-1', epoch: 7, lease: 'tide' }
  before(() => {
    store = SqliteStore.open(':memory:')
    for (let i = 0; i < 5; i++) store.append({ atMs: T0 + i * 1000, group: 'web', type: 'launch', message: `launched web-${i}` })
    store.append({ atMs: T0 + 9000, group: 'web', type: 'leadership', message: 'host-a-1 leads (lease tide, epoch 7)' })
    store.saveGroupStatus('web', { group: 'web', atMs: T0, desiredReplicas: 2, paused: { sinceMs: T0 } } as never)
    for (let s = 0; s < 30; s++) store.recordMetric('web', 'rps', T0 + s * 1000, 10 + s)
    const reads: StandbyStoreReads = {
      readEvents: (q) => Promise.resolve(store.queryEvents(q)),
      readMetric: (g, s, f, t, st) => Promise.resolve(store.queryMetric(g, s, f, t, st)),
      readMetricSeries: (g) => Promise.resolve(store.metricSeries(g)),
      readGroupStatuses: () => Promise.resolve([web, api2].flatMap((g) => store.loadGroupStatus(g.group) ?? [])),
    }
    const model = new StandbyReadModel({ reads, groups: [web, api2], leadership: () => leadership, clock: new ManualClock(T0 + 60_000) })
    app = createStandbyApiApp({ model, token: TOKEN, rateLimits: false })
  })
  after(() => {
    app.close()
    store.close()
  })

  const ask = async (method: string, path: string, opts: { headers?: Record<string, string>; env?: object; body?: string | undefined } = {}): Promise<{ status: number; body: any }> => {
    const res = await app.app.request(path, { method, headers: opts.headers ?? {}, ...(opts.body === undefined ? {} : { body: opts.body }) }, opts.env ?? LOOPBACK)
    return { status: res.status, body: await res.json() }
  }

  test('GET /status and /healthz say standby, the leader and its epoch', async () => {
    assert.deepEqual((await ask('GET', '/status')).body, leadership)
    assert.deepEqual((await ask('GET', '/healthz')).body, { ok: true, role: 'standby' })
  })

  test('GET /groups: the config groups with the statuses the leader saved; env redacted without the token', async () => {
    const { status, body } = await ask('GET', '/groups')
    assert.equal(status, 200)
    assert.deepEqual(
      body.groups.map((g: any) => [g.group, g.paused, g.status?.desiredReplicas ?? null]),
      [
        ['web', true, 2],
        ['api', false, null],
      ],
    )
    const one = await ask('GET', '/groups/web')
    assert.equal(one.body.spec.launch.env.SECRET, '(redacted)')
    const revealed = await ask('GET', '/groups/web', { headers: { authorization: `Bearer ${TOKEN}` } })
    assert.equal(revealed.body.spec.launch.env.SECRET, 'hunter2')
    const missing = await ask('GET', '/groups/nope')
    assert.equal(missing.status, 404)
    assert.equal(missing.body.error.code, 'TIDE_ERR_API_NOT_FOUND')
  })

  test('GET /events: newest first, filtered, paged with the cursor; bad input is 400 naming the field', async () => {
    const page = await ask('GET', '/events?group=web&type=launch&limit=3')
    assert.equal(page.status, 200)
    assert.deepEqual(
      page.body.events.map((e: any) => e.message),
      ['launched web-4', 'launched web-3', 'launched web-2'],
    )
    const next = await ask('GET', `/events?group=web&type=launch&limit=3&cursor=${String(page.body.nextCursor)}`)
    assert.deepEqual(
      next.body.events.map((e: any) => e.message),
      ['launched web-1', 'launched web-0'],
    )
    assert.equal(next.body.nextCursor, undefined)
    assert.equal((await ask('GET', '/events?type=leadership')).body.events[0].message, 'host-a-1 leads (lease tide, epoch 7)')
    const bad = await ask('GET', '/events?type=nonsense')
    assert.equal(bad.status, 400)
    assert.match(bad.body.error.message, /query.type: unknown event type "nonsense"/)
  })

  test('GET /groups/web/metrics: the recorded series from the store', async () => {
    const { status, body } = await ask('GET', `/groups/web/metrics?series=rps&from=${T0}&to=${T0 + 30_000}&step=10`)
    assert.equal(status, 200)
    assert.deepEqual(
      body.series.rps.points.map((p: any) => p.avg),
      [14.5, 24.5, 34.5],
    )
  })

  const changes: [string, string][] = [
    ['PUT', '/groups/web'],
    ['DELETE', '/groups/web'],
    ['POST', '/groups/web/pause'],
    ['POST', '/groups/web/resume'],
    ['POST', '/groups/web/scale'],
    ['DELETE', '/groups/web/scale'],
    ['POST', '/groups/web/instances/i-1/standby'],
    ['POST', '/groups/web/instances/i-1/in-service'],
    ['POST', '/groups/web/instances/i-1/protect'],
    ['POST', '/groups/web/instances/i-1/unprotect'],
    ['POST', '/groups/web/replay'],
    ['POST', '/groups/web/validate'],
    ['POST', '/token/rotate'],
    ['GET', '/events/stream'],
    ['GET', '/metrics'],
  ]
  for (const [method, path] of changes) {
    test(`${method} ${path}: 503 TIDE_ERR_API_NOT_LEADER naming the leader, with or without the token`, async () => {
      for (const headers of [{}, { authorization: `Bearer ${TOKEN}` }]) {
        // A change is refused before auth (from anywhere); a leader-only read is asked from loopback (reads from elsewhere need the token first).
        const { status, body } = await ask(method, path, { headers, env: method === 'GET' ? LOOPBACK : REMOTE, body: method === 'GET' ? undefined : '{}' })
        assert.equal(status, 503)
        assert.equal(body.error.code, 'TIDE_ERR_API_NOT_LEADER')
        assert.match(body.error.message, /this tide \(host-b-2\) is a standby and serves reads only; the leader is host-a-1 \(epoch 7\)/)
      }
    })
  }

  test('no leader (a failover under way): the 503 says so', async () => {
    const before = leadership
    leadership = { role: 'standby', identity: 'host-b-2', lease: 'tide' }
    try {
      const { status, body } = await ask('POST', '/groups/web/pause')
      assert.equal(status, 503)
      assert.match(body.error.message, /no tide holds the leadership lease right now/)
    } finally {
      leadership = before
    }
  })

  test('reads from beyond loopback need the token', async () => {
    const { status, body } = await ask('GET', '/groups', { env: REMOTE })
    assert.equal(status, 401)
    assert.equal(body.error.code, 'TIDE_ERR_API_UNAUTHORIZED')
    assert.equal((await ask('GET', '/groups', { env: REMOTE, headers: { authorization: `Bearer ${TOKEN}` } })).status, 200)
  })
})
