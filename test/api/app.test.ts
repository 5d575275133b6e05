/**
 * Every route of the API in process (`app.request()`, no port), over a real running tide (one
 * local group of the tiny server, ticked by hand): answers, bad input, a missing or wrong
 * token, and that nothing is applied when a change is refused. The remote address is given
 * as @hono/node-server passes it (`env.incoming.socket`), so the loopback rule is the real one.
 */
/* eslint-disable @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-argument, @typescript-eslint/no-unsafe-call -- the answers are JSON (`any`), checked field by field with assert */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createApiApp, type ApiApp } from '../../src/api/app.ts'
import { TideService } from '../../src/app/tide-service.ts'
import { startTinyTide, tinyGroupValue, type RunningTide } from '../support/running-tide.ts'

const TOKEN = 'test-token-0123456789'
const LOOPBACK = { incoming: { socket: { remoteAddress: '127.0.0.1' } } }
const REMOTE = { incoming: { socket: { remoteAddress: '192.0.2.7' } } }
const AUTH = { authorization: `Bearer ${TOKEN}` }

let tide: RunningTide
let api: ApiApp

before(async () => {
  tide = await startTinyTide('tiny')
  // Rate limits off: this file sends many changes and refused tokens from one address; app.rate-limit.test.ts tests them.
  api = createApiApp({ service: new TideService(tide.runtime, { baseDir: tide.dir }), token: TOKEN, rateLimits: false })
})

after(async () => {
  api.close()
  await tide.stop()
})

interface Answer {
  readonly status: number
  readonly body: any // eslint-disable-line @typescript-eslint/no-explicit-any -- JSON answers, checked field by field below
  readonly headers: Headers
}

/** One request from loopback (or `env`), its JSON answer. */
async function call(method: string, path: string, opts: { body?: unknown; rawBody?: string; headers?: Record<string, string>; env?: object } = {}): Promise<Answer> {
  const body = opts.rawBody ?? (opts.body === undefined ? undefined : JSON.stringify(opts.body))
  const res = await api.app.request(path, { method, headers: { 'content-type': 'application/json', ...opts.headers }, ...(body === undefined ? {} : { body }) }, opts.env ?? LOOPBACK)
  const text = await res.text()
  return { status: res.status, headers: res.headers, body: res.headers.get('content-type')?.includes('json') === true ? JSON.parse(text) : text }
}

function instanceId(): string {
  const id = tide.runtime.controller.status('tiny')?.instances[0]?.id
  assert.ok(id, 'the tiny group has an instance')
  return id
}

test('GET /status: one tide without an election says role single', async () => {
  const { status, body } = await call('GET', '/status')
  assert.equal(status, 200)
  assert.deepEqual(body, { role: 'single' })
})

test('GET /groups lists the groups with their plain status', async () => {
  const { status, body } = await call('GET', '/groups')
  assert.equal(status, 200)
  assert.equal(body.groups.length, 1)
  const [g] = body.groups
  assert.equal(g.group, 'tiny')
  assert.equal(g.provider, 'local')
  assert.equal(g.state, 'active')
  assert.equal(g.paused, false)
  assert.equal(g.status.desiredReplicas, 1)
  assert.equal(g.status.instances[0].phase, 'in-service')
  assert.equal(typeof g.status.lastDecision.explanation, 'string')
})

test('GET /groups/{name}: the spec in force with launch.env redacted, shown with the token', async () => {
  const open = await call('GET', '/groups/tiny')
  assert.equal(open.status, 200)
  assert.equal(open.body.spec.replicas.max, 2)
  assert.equal(open.body.spec.behavior.scaleDown.stabilizationWindowSeconds, 300, 'defaults filled in')
  assert.deepEqual(open.body.spec.launch.env, { FIXTURE_SECRET: '(redacted)' })
  const withToken = await call('GET', '/groups/tiny', { headers: AUTH })
  assert.deepEqual(withToken.body.spec.launch.env, { FIXTURE_SECRET: 'hunter2' })
})

const errorCases = [
  { name: 'an unknown group', method: 'GET', path: '/groups/nope', status: 404, code: 'TIDE_ERR_API_NOT_FOUND', message: /no group "nope" \(groups: tiny\)/ },
  { name: 'a malformed group name', method: 'GET', path: '/groups/Not_A_Name', status: 400, code: 'TIDE_ERR_API_BAD_REQUEST', message: /^path\.name: a group name is lower-case letters/ },
  { name: 'an unknown route', method: 'GET', path: '/nothing-here', status: 404, code: 'TIDE_ERR_API_NOT_FOUND', message: /no route GET \/nothing-here/ },
  { name: 'reads from beyond loopback without the token', method: 'GET', path: '/groups', env: REMOTE, status: 401, code: 'TIDE_ERR_API_UNAUTHORIZED', message: /reads from beyond loopback need the API token/ },
  { name: 'a change without a token', method: 'POST', path: '/groups/tiny/pause', status: 401, code: 'TIDE_ERR_API_UNAUTHORIZED', message: /POST needs the API token .* no token/ },
  { name: 'a change with a wrong token', method: 'POST', path: '/groups/tiny/pause', headers: { authorization: 'Bearer wrong' }, status: 401, code: 'TIDE_ERR_API_UNAUTHORIZED', message: /a wrong token/ },
  { name: 'a change with the token in another scheme', method: 'DELETE', path: '/groups/tiny', headers: { authorization: `Basic ${TOKEN}` }, status: 401, code: 'TIDE_ERR_API_UNAUTHORIZED', message: /DELETE needs/ },
  { name: 'pausing an unknown group', method: 'POST', path: '/groups/nope/pause', headers: AUTH, status: 404, code: 'TIDE_ERR_API_NOT_FOUND', message: /no group "nope"/ },
  { name: 'protecting an unknown instance', method: 'POST', path: '/groups/tiny/instances/tiny-nope/protect', headers: AUTH, status: 404, code: 'TIDE_ERR_API_NOT_FOUND', message: /group tiny has no instance tiny-nope/ },
  { name: 'events: an unknown type', method: 'GET', path: '/events?type=launch,lunch', status: 400, code: 'TIDE_ERR_API_BAD_REQUEST', message: /query\.type: unknown event type "lunch"/ },
  { name: 'events: a limit of 0', method: 'GET', path: '/events?limit=0', status: 400, code: 'TIDE_ERR_API_BAD_REQUEST', message: /limit must be a whole number from 1 to 10000, got 0/ },
  { name: 'events: a negative limit', method: 'GET', path: '/events?limit=-3', status: 400, code: 'TIDE_ERR_API_BAD_REQUEST', message: /query\.limit: a whole number/ },
  { name: 'events: a time without an offset', method: 'GET', path: '/events?since=2026-11-11T12:00:00', status: 400, code: 'TIDE_ERR_API_BAD_REQUEST', message: /query\.since: not an ISO-8601 date-time with an offset/ },
  { name: 'events: since after until', method: 'GET', path: '/events?since=2000&until=1000', status: 400, code: 'TIDE_ERR_API_BAD_REQUEST', message: /since .* must be before until/ },
  { name: 'events: a bad cursor', method: 'GET', path: '/events?cursor=abc', status: 400, code: 'TIDE_ERR_API_BAD_REQUEST', message: /cursor must be the nextCursor of an earlier page/ },
  { name: 'events: an unknown parameter', method: 'GET', path: '/events?grop=tiny', status: 400, code: 'TIDE_ERR_API_BAD_REQUEST', message: /query\.grop: unknown parameter \(allowed: group, type, since, until, limit, cursor\)/ },
  { name: 'metrics: an unknown group', method: 'GET', path: '/groups/nope/metrics', status: 404, code: 'TIDE_ERR_API_NOT_FOUND', message: /no group "nope"/ },
  { name: 'metrics: a step under a second', method: 'GET', path: '/groups/tiny/metrics?step=0.5', status: 400, code: 'TIDE_ERR_API_BAD_REQUEST', message: /query\.step: at least 1 second/ },
  { name: 'metrics: too many buckets (the store says)', method: 'GET', path: '/groups/tiny/metrics?from=0&to=999999999999&step=1', status: 400, code: 'TIDE_ERR_STORE_QUERY', message: /buckets .* exceed the limit/ },
] as const

for (const c of errorCases) {
  test(`errors: ${c.name} → ${c.status} ${c.code}`, async () => {
    const { status, body, headers } = await call(c.method, c.path, { ...('headers' in c ? { headers: c.headers } : {}), ...('env' in c ? { env: c.env } : {}) })
    assert.equal(status, c.status, JSON.stringify(body))
    assert.equal(body.error.code, c.code)
    assert.match(body.error.message, c.message)
    if (c.status === 401) assert.equal(headers.get('www-authenticate'), 'Bearer realm="tide"')
  })
}

test('reads from beyond loopback work with the token', async () => {
  const { status, body } = await call('GET', '/groups', { env: REMOTE, headers: AUTH })
  assert.equal(status, 200)
  assert.equal(body.groups[0].group, 'tiny')
})

test('an in-process request without a socket counts as not loopback', async () => {
  const res = await api.app.request('/groups')
  assert.equal(res.status, 401)
})

test('pause and resume: the group holds its count, said in status and events', async () => {
  const paused = await call('POST', '/groups/tiny/pause', { headers: AUTH })
  assert.equal(paused.status, 200)
  assert.deepEqual(paused.body, { group: 'tiny', paused: true, changed: true })
  assert.deepEqual((await call('POST', '/groups/tiny/pause', { headers: AUTH })).body, { group: 'tiny', paused: true, changed: false })
  await tide.runtime.tick()
  const g = (await call('GET', '/groups/tiny')).body
  assert.equal(g.paused, true)
  assert.equal(typeof g.status.paused.sinceMs, 'number')
  assert.equal(g.status.lastDecision.reason, 'PausedByOperator')
  assert.match(g.status.lastDecision.explanation, /paused by the operator/)
  const events = (await call('GET', '/events?group=tiny&type=group-paused')).body.events
  assert.equal(events.length, 1)
  assert.match(events[0].message, /paused by the operator/)
  const resumed = await call('POST', '/groups/tiny/resume', { headers: AUTH })
  assert.deepEqual(resumed.body, { group: 'tiny', paused: false, changed: true })
  assert.equal((await call('GET', '/groups')).body.groups[0].paused, false)
})

test('protect and unprotect an instance: shown in status after the next tick, and as events', async () => {
  const id = instanceId()
  const r = await call('POST', `/groups/tiny/instances/${id}/protect`, { headers: AUTH })
  assert.equal(r.status, 200)
  assert.deepEqual(r.body, { group: 'tiny', instance: id, protected: true })
  await tide.runtime.tick()
  assert.equal((await call('GET', '/groups/tiny')).body.status.instances[0].protectedFromScaleIn, true)
  const u = await call('POST', `/groups/tiny/instances/${id}/unprotect`, { headers: AUTH })
  assert.deepEqual(u.body, { group: 'tiny', instance: id, protected: false })
  await tide.runtime.tick()
  assert.equal((await call('GET', '/groups/tiny')).body.status.instances[0].protectedFromScaleIn, false)
  const types = (await call('GET', '/events?group=tiny&type=instance-protected,instance-unprotected')).body.events.map((e: { type: string }) => e.type)
  assert.deepEqual(types, ['instance-unprotected', 'instance-protected'], 'newest first')
})

test('GET /events pages newest first with a cursor, and filters by group, type and time', async () => {
  const all = (await call('GET', '/events?group=tiny&limit=10000')).body.events as { id: number; atMs: number; type: string }[]
  assert.ok(all.length >= 3, `${all.length} events`)
  const first = await call('GET', '/events?group=tiny&limit=2')
  assert.equal(first.body.events.length, 2)
  assert.equal(typeof first.body.nextCursor, 'string')
  const second = await call('GET', `/events?group=tiny&limit=2&cursor=${first.body.nextCursor}`)
  assert.deepEqual(
    [...first.body.events, ...second.body.events].map((e: { id: number }) => e.id),
    all.slice(0, 4).map((e) => e.id),
    'the second page follows the first',
  )
  const last = await call('GET', `/events?group=tiny&limit=10000`)
  assert.equal(last.body.nextCursor, undefined, 'no cursor after the last page')
  const launches = (await call('GET', '/events?type=launch')).body.events
  assert.ok(launches.length >= 1 && launches.every((e: { type: string }) => e.type === 'launch'))
  const oldest = all.at(-1)
  assert.ok(oldest)
  const since = new Date(oldest.atMs + 1).toISOString()
  const later = (await call('GET', `/events?group=tiny&limit=10000&since=${encodeURIComponent(since)}`)).body.events as { atMs: number }[]
  assert.ok(later.every((e) => e.atMs > oldest.atMs))
  assert.equal((await call('GET', `/events?group=tiny&until=${oldest.atMs}`)).body.events.length, 0, 'until is exclusive')
  assert.equal((await call('GET', '/events?group=other')).body.events.length, 0)
})

test('GET /groups/{name}/metrics: the recorded series in buckets', async () => {
  const nowMs = Date.now()
  const { status, body } = await call('GET', `/groups/tiny/metrics?series=desired,instances&from=${nowMs - 600_000}&to=${nowMs + 1000}&step=60`)
  assert.equal(status, 200)
  assert.deepEqual(Object.keys(body.series), ['desired', 'instances'])
  assert.ok(body.series.desired.points.length >= 1)
  assert.equal(body.series.desired.points.at(-1).max, 1)
  assert.equal(body.series.desired.stepMs, 60_000)
  const all = (await call('GET', '/groups/tiny/metrics')).body
  assert.ok(Object.keys(all.series).includes('desired'), 'every recorded series when none is named')
  // No price on the tiny group's size: its cost is recorded as instance-hours per hour (one instance).
  assert.equal(all.series.instance_hours_per_hour.points.at(-1).max, 1)
  assert.ok(!Object.keys(all.series).includes('capacity_rps'), 'no capacity without slo.instanceRps or an rps target')
  assert.equal(all.toMs - all.fromMs, 3_600_000, 'the last hour by default')
})

test('PUT /groups/{name} refuses a bad spec with field-level errors and applies nothing', async () => {
  const before = JSON.stringify(tide.runtime.config)
  const cases = [
    { name: 'fields', body: tinyGroupValue('tiny', { replicas: { min: 'one', max: 2 }, replcas: 3 }), code: 'TIDE_ERR_CONFIG', issues: [{ path: 'replicas.min', message: 'expected number, got "one"' }, { path: 'replcas', message: 'unknown field "replcas"; did you mean "replicas"?' }] },
    { name: 'a cross-field rule', body: tinyGroupValue('tiny', { replicas: { min: 3, max: 2 } }), code: 'TIDE_ERR_CONFIG', issues: [{ path: 'replicas.min', message: 'must not exceed replicas.max' }] },
    { name: 'another name', body: tinyGroupValue('other'), code: 'TIDE_ERR_API_BAD_REQUEST' },
    { name: 'a list', body: [1], code: 'TIDE_ERR_API_BAD_REQUEST' },
  ] as const
  for (const c of cases) {
    const r = await call('PUT', '/groups/tiny', { headers: AUTH, body: c.body })
    assert.equal(r.status, 400, `${c.name}: ${JSON.stringify(r.body)}`)
    assert.equal(r.body.error.code, c.code, c.name)
    if ('issues' in c) assert.deepEqual(([...r.body.error.issues] as { path: string; message: string }[]).sort((a, b) => a.path.localeCompare(b.path)), [...c.issues].sort((a, b) => a.path.localeCompare(b.path)), c.name)
  }
  const notJson = await call('PUT', '/groups/tiny', { headers: AUTH, rawBody: '{ "group": ' })
  assert.equal(notJson.status, 400)
  assert.match(notJson.body.error.message, /the body is not JSON/)
  const empty = await call('PUT', '/groups/tiny', { headers: AUTH, rawBody: '' })
  assert.match(empty.body.error.message, /the body is empty/)
  const tooBig = await call('PUT', '/groups/tiny', { headers: AUTH, rawBody: JSON.stringify({ group: 'tiny', pad: 'x'.repeat(1024 * 1024) }) })
  assert.equal(tooBig.status, 400)
  assert.match(tooBig.body.error.message, /larger than 1048576 bytes/)
  const noToken = await call('PUT', '/groups/tiny', { body: tinyGroupValue('tiny') })
  assert.equal(noToken.status, 401)
  // A change this running tide cannot make without a restart (a new router address): 409, nothing applied.
  const refused = await call('PUT', '/groups/tiny', { headers: AUTH, body: tinyGroupValue('tiny', { routing: { listen: 0, drainSeconds: 2 } }) })
  assert.equal(refused.status, 409, JSON.stringify(refused.body))
  assert.equal(refused.body.error.code, 'TIDE_ERR_API_CONFLICT')
  assert.match(refused.body.error.message, /routing changed; .* takes a restart of tide up/)
  assert.equal(JSON.stringify(tide.runtime.config), before, 'nothing applied')
})

test('POST /groups/{name}/validate answers every refusal exactly as PUT does, and a valid spec with its defaults, applying nothing', async () => {
  const before = JSON.stringify(tide.runtime.config)
  const bodies = [
    { name: 'fields', body: tinyGroupValue('tiny', { replicas: { min: 'one', max: 2 }, replcas: 3 }) },
    { name: 'a cross-field rule', body: tinyGroupValue('tiny', { replicas: { min: 3, max: 2 } }) },
    { name: 'another name', body: tinyGroupValue('other') },
    { name: 'a list', body: [1] },
    { name: 'a change that takes a restart', body: tinyGroupValue('tiny', { routing: { listen: 0, drainSeconds: 2 } }) },
  ] as const
  for (const c of bodies) {
    const put = await call('PUT', '/groups/tiny', { headers: AUTH, body: c.body })
    const check = await call('POST', '/groups/tiny/validate', { headers: AUTH, body: c.body })
    assert.ok(put.status >= 400, c.name)
    assert.deepEqual({ status: check.status, body: check.body }, { status: put.status, body: put.body }, c.name)
  }
  const valid = await call('POST', '/groups/tiny/validate', { headers: AUTH, body: tinyGroupValue('tiny', { replicas: { min: 1, max: 3 } }) })
  assert.equal(valid.status, 200, JSON.stringify(valid.body))
  assert.equal(valid.body.valid, true)
  assert.equal(valid.body.spec.replicas.max, 3)
  assert.equal(valid.body.spec.behavior.scaleDown.stabilizationWindowSeconds, 300, 'defaults filled in')
  const added = await call('POST', '/groups/brand-new/validate', { headers: AUTH, body: tinyGroupValue('brand-new', { routing: { listen: 0, drainSeconds: 1 } }) })
  assert.equal(added.status, 200, 'a group that does not exist yet validates as a PUT would add it')
  const noToken = await call('POST', '/groups/tiny/validate', { body: tinyGroupValue('tiny') })
  assert.equal(noToken.status, 401)
  assert.equal(JSON.stringify(tide.runtime.config), before, 'nothing applied')
})

test('PUT changes a running group, adds a new one (201); DELETE drains and removes it', async () => {
  const changed = await call('PUT', '/groups/tiny', { headers: AUTH, body: tinyGroupValue('tiny', { replicas: { min: 1, max: 3 } }) })
  assert.equal(changed.status, 200, JSON.stringify(changed.body))
  assert.equal(changed.body.outcome, 'changed')
  assert.equal(changed.body.spec.replicas.max, 3)
  assert.equal(tide.runtime.controller.groups().find((g) => g.group === 'tiny')?.replicas.max, 3)
  const again = await call('PUT', '/groups/tiny', { headers: AUTH, body: tinyGroupValue('tiny', { replicas: { min: 1, max: 3 } }) })
  assert.equal(again.body.outcome, 'unchanged')

  // The group field may be left out: the path names the group. A relative cwd resolves against the config's folder.
  const body = tinyGroupValue('extra', { launch: { ...(tinyGroupValue('x').launch as object), cwd: 'sub' } })
  delete body.group
  const added = await call('PUT', '/groups/extra', { headers: AUTH, body })
  assert.equal(added.status, 201, JSON.stringify(added.body))
  assert.equal(added.body.outcome, 'added')
  assert.equal(added.body.spec.launch.cwd, `${tide.dir}/sub`)
  assert.deepEqual(tide.runtime.config.groups.map((g) => g.group), ['tiny', 'extra'])
  const events = (await call('GET', '/events?group=extra&type=group-added')).body.events
  assert.equal(events.length, 1)

  const deleted = await call('DELETE', '/groups/extra', { headers: AUTH })
  assert.equal(deleted.status, 202)
  assert.deepEqual(deleted.body, { group: 'extra', state: 'removing' })
  const listed = (await call('GET', '/groups')).body.groups.map((g: { group: string; state: string }) => `${g.group}:${g.state}`)
  assert.deepEqual(listed, ['tiny:active', 'extra:removing'])
  const twice = await call('DELETE', '/groups/extra', { headers: AUTH })
  assert.equal(twice.status, 409)
  assert.equal(twice.body.error.code, 'TIDE_ERR_API_CONFLICT')
  // It never launched (cwd sub does not exist is not reached: no tick ran for it); the next tick forgets it.
  await tide.tickUntil('extra forgotten', () => tide.runtime.controller.removingGroups().length === 0, 30_000)
  assert.equal((await call('GET', '/groups/extra')).status, 404)
  assert.equal((await call('DELETE', '/groups/extra', { headers: AUTH })).status, 404)
})

test('GET /metrics: Prometheus text with decisions, actions, instances by phase, tick steps and the desired count', async () => {
  await call('POST', '/groups/tiny/pause', { headers: AUTH })
  await tide.runtime.tick() // a decision event (PausedByOperator), counted since the app was made
  await call('POST', '/groups/tiny/resume', { headers: AUTH })
  const { status, body, headers } = await call('GET', '/metrics')
  assert.equal(status, 200)
  assert.match(headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/)
  assert.match(body, /^tide_desired_replicas\{group="tiny"\} 1$/m)
  assert.match(body, /^tide_instances\{group="tiny",phase="in-service"\} 1$/m)
  assert.match(body, /^tide_decisions_total\{group="tiny",kind="hold",reason="PausedByOperator"\} [1-9]\d*$/m)
  assert.match(body, /^tide_events_total\{group="tiny",type="group-paused"\} \d+$/m)
  assert.match(body, /^tide_tick_step_seconds\{step="observe"\} [0-9.e-]+$/m)
  assert.match(body, /^tide_tick_step_seconds\{step="act"\} [0-9.e-]+$/m)
  assert.match(body, /^tide_group_paused\{group="tiny"\} 0$/m)
  assert.match(body, /^# TYPE tide_actions_total counter$/m)
})

test('GET /openapi.json documents every route, with tide.yaml\'s group schema', async () => {
  const { status, body } = await call('GET', '/openapi.json')
  assert.equal(status, 200)
  assert.equal(body.openapi, '3.1.0')
  const routes = Object.entries(body.paths as Record<string, Record<string, unknown>>).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`))
  assert.deepEqual(routes.sort(), [
    'DELETE /groups/{name}',
    'DELETE /groups/{name}/scale',
    'GET /events',
    'GET /events/stream',
    'GET /groups',
    'GET /groups/{name}',
    'GET /groups/{name}/metrics',
    'GET /metrics',
    'GET /status',
    'POST /groups/{name}/instances/{id}/in-service',
    'POST /groups/{name}/instances/{id}/protect',
    'POST /groups/{name}/instances/{id}/standby',
    'POST /groups/{name}/instances/{id}/unprotect',
    'POST /groups/{name}/pause',
    'POST /groups/{name}/replay',
    'POST /groups/{name}/resume',
    'POST /groups/{name}/scale',
    'POST /groups/{name}/validate',
    'POST /token/rotate',
    'PUT /groups/{name}',
  ])
  assert.ok(body.components.schemas.GroupSpec.properties.replicas, 'the group spec schema')
  assert.deepEqual(body.paths['/groups/{name}'].put.security, [{ bearer: [] }])
  assert.equal(body.components.securitySchemes.bearer.scheme, 'bearer')
})

test('POST /groups/{name}/scale holds the group at a count clamped to min/max, says until when; DELETE clears it', async () => {
  const before = Date.now()
  const r = await call('POST', '/groups/tiny/scale', { headers: AUTH, body: { desired: 0, holdSeconds: 120 } })
  assert.equal(r.status, 200, JSON.stringify(r.body))
  assert.equal(r.body.desired, 0)
  assert.equal(r.body.holding, 1)
  assert.equal(r.body.clamped, true)
  assert.equal(r.body.clampedBy, 'min 1')
  assert.ok(r.body.untilMs >= before + 120_000 && r.body.untilMs <= Date.now() + 120_000)
  assert.equal(r.body.message, `held at 1 until ${new Date(r.body.untilMs).toISOString()} (min 1; asked 0)`)
  await tide.runtime.tick()
  const g = (await call('GET', '/groups/tiny')).body
  assert.deepEqual(g.status.override, { desired: 0, untilMs: r.body.untilMs, reason: r.body.message })
  assert.equal(g.status.lastDecision.reason, 'ManualScale')
  assert.match(g.status.lastDecision.explanation, /^held at 1 by the operator's manual scale \(asked 0; raised to min 1\) \(the engine alone: /)
  assert.equal((await call('GET', '/events?group=tiny&type=manual-scale')).body.events.length, 1)
  const defaulted = await call('POST', '/groups/tiny/scale', { headers: AUTH, body: { desired: 1 } })
  assert.ok(Math.abs(defaulted.body.untilMs - Date.now() - 900_000) < 5000, 'the default hold is 15 minutes')
  const cleared = await call('DELETE', '/groups/tiny/scale', { headers: AUTH })
  assert.deepEqual(cleared.body, { group: 'tiny', cleared: true })
  assert.deepEqual((await call('DELETE', '/groups/tiny/scale', { headers: AUTH })).body, { group: 'tiny', cleared: false })
  assert.equal((await call('GET', '/groups/tiny')).body.status.override, undefined)
  assert.equal((await call('GET', '/events?group=tiny&type=manual-scale-ended')).body.events.length, 1)
})

const scaleErrors = [
  { name: 'no token', body: { desired: 1 }, auth: false, status: 401, message: /POST needs the API token/ },
  { name: 'a negative count', body: { desired: -1 }, status: 400, message: /^body\.desired: at least 0$/ },
  { name: 'a fraction', body: { desired: 1.5 }, status: 400, message: /^body\.desired: a whole number$/ },
  { name: 'a hold of 0', body: { desired: 1, holdSeconds: 0 }, status: 400, message: /^body\.holdSeconds: at least 1$/ },
  { name: 'a hold over a day', body: { desired: 1, holdSeconds: 86_401 }, status: 400, message: /^body\.holdSeconds: at most 86400 \(a day\)$/ },
  { name: 'an unknown field', body: { desired: 1, hold: 60 }, status: 400, message: /^body\.hold: unknown parameter \(allowed: desired, holdSeconds\)$/ },
  { name: 'no count', body: { holdSeconds: 60 }, status: 400, message: /^body\.desired: / },
  { name: 'an empty body', rawBody: '', status: 400, message: /the body is empty: send \{"desired": N, "holdSeconds": S\} as JSON/ },
  { name: 'an unknown group', path: '/groups/nope/scale', body: { desired: 1 }, status: 404, message: /no group "nope"/ },
] as const
for (const c of scaleErrors) {
  test(`POST /groups/{name}/scale refuses ${c.name} (${c.status})`, async () => {
    const r = await call('POST', 'path' in c ? c.path : '/groups/tiny/scale', { ...('auth' in c ? {} : { headers: AUTH }), ...('rawBody' in c ? { rawBody: c.rawBody } : { body: c.body }) })
    assert.equal(r.status, c.status, JSON.stringify(r.body))
    assert.match(r.body.error.message, c.message)
  })
}

test('standby and back in service through the API: refused below min, a replacement without decrement, desired one more on the way back', async () => {
  const id = instanceId()
  const below = await call('POST', `/groups/tiny/instances/${id}/standby`, { headers: AUTH })
  assert.equal(below.status, 409, JSON.stringify(below.body))
  assert.match(below.body.error.message, /below min 1: keep it \(decrementDesired false/)
  assert.equal((await call('POST', `/groups/tiny/instances/tiny-nope/standby`, { headers: AUTH })).status, 404)
  assert.equal((await call('POST', `/groups/tiny/instances/${id}/standby`, { headers: AUTH, body: { decrement: false } })).status, 400)
  const r = await call('POST', `/groups/tiny/instances/${id}/standby`, { headers: AUTH, body: { decrementDesired: false } })
  assert.equal(r.status, 200, JSON.stringify(r.body))
  assert.deepEqual(r.body.desiredReplicas, { from: 1, to: 1 })
  assert.equal(r.body.standby, true)
  await tide.tickUntil('a replacement in service', () => {
    const s = tide.runtime.controller.status('tiny')
    return s?.instances.find((i) => i.id === id)?.phase === 'standby' && s.instances.some((i) => i.id !== id && i.phase === 'in-service')
  })
  assert.equal((await call('POST', `/groups/tiny/instances/${id}/standby`, { headers: AUTH, body: { decrementDesired: false } })).status, 409, 'already in standby')
  const back = await call('POST', `/groups/tiny/instances/${id}/in-service`, { headers: AUTH })
  assert.equal(back.status, 200, JSON.stringify(back.body))
  assert.deepEqual(back.body.desiredReplicas, { from: 1, to: 2 })
  assert.equal((await call('POST', `/groups/tiny/instances/${id}/in-service`, { headers: AUTH })).status, 409, 'not in standby')
  const types = (await call('GET', '/events?group=tiny&type=instance-standby,instance-in-service')).body.events.map((e: { type: string }) => e.type)
  assert.deepEqual(types.slice(0, 1), ['instance-in-service'])
  assert.ok(types.filter((t: string) => t === 'instance-standby').length >= 1)
})

test('api.openReads: reads open from any address, changes still need the token', async () => {
  const open = createApiApp({ service: new TideService(tide.runtime, { baseDir: tide.dir }), token: TOKEN, openReads: true })
  try {
    const read = await open.app.request('/groups', {}, REMOTE)
    assert.equal(read.status, 200)
    const body = (await read.json()) as { groups: { group: string }[] }
    assert.equal(body.groups[0]?.group, 'tiny')
    assert.equal((await open.app.request('/groups/tiny/pause', { method: 'POST' }, REMOTE)).status, 401)
    const detail = (await (await open.app.request('/groups/tiny', {}, REMOTE)).json()) as { spec: { launch: { env: Record<string, string> } } }
    assert.deepEqual(detail.spec.launch.env, { FIXTURE_SECRET: '(redacted)' }, 'secrets still need the token')
  } finally {
    open.close()
  }
})

test('POST /token/rotate: a new token in the file (0600, replaced whole), answered once; the old one stops at once; refused for a token from the environment', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tide-token-'))
  const path = join(dir, 'api-token')
  writeFileSync(path, `${TOKEN}\n`, { mode: 0o600 })
  const rotating = createApiApp({ service: new TideService(tide.runtime, { baseDir: tide.dir }), token: TOKEN, tokenSource: { kind: 'file', path, created: false }, rateLimits: false })
  const fromEnv = createApiApp({ service: new TideService(tide.runtime, { baseDir: tide.dir }), token: TOKEN, tokenSource: { kind: 'env', name: 'TIDE_API_TOKEN' } })
  try {
    assert.equal((await rotating.app.request('/token/rotate', { method: 'POST' }, LOOPBACK)).status, 401, 'needs the token')
    const r = await rotating.app.request('/token/rotate', { method: 'POST', headers: AUTH }, LOOPBACK)
    assert.equal(r.status, 200)
    const { token, path: kept } = (await r.json()) as { token: string; path: string }
    assert.match(token, /^[A-Za-z0-9_-]{43}$/)
    assert.equal(kept, path)
    assert.equal(readFileSync(path, 'utf8'), `${token}\n`)
    assert.equal(statSync(path).mode & 0o777, 0o600)
    assert.equal((await rotating.app.request('/groups/tiny/pause', { method: 'POST', headers: AUTH }, LOOPBACK)).status, 401, 'the old token no longer works')
    assert.equal((await rotating.app.request('/groups/tiny/resume', { method: 'POST', headers: { authorization: `Bearer ${token}` } }, LOOPBACK)).status, 200)
    const env = await fromEnv.app.request('/token/rotate', { method: 'POST', headers: AUTH }, LOOPBACK)
    assert.equal(env.status, 409)
    assert.match(((await env.json()) as { error: { message: string } }).error.message, /comes from the environment variable TIDE_API_TOKEN: .* set a new value there and restart/)
    const direct = await api.app.request('/token/rotate', { method: 'POST', headers: AUTH }, LOOPBACK)
    assert.equal(direct.status, 409, 'no file to keep it in')
    const events = await tide.runtime.store.readEvents({ limit: 10_000 })
    assert.ok(!events.some((e) => e.message.includes(token)), 'the token is in no event')
  } finally {
    rotating.close()
    fromEnv.close()
    rmSync(dir, { recursive: true, force: true })
  }
})
