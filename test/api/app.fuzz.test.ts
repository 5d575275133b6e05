/**
 * Fuzzing every route of the API's OpenAPI document with fast-check, in process over a real
 * running tide: hostile path parameters (unicode, `..`, malformed percent escapes, NUL, 10 000
 * characters), query strings (unknown and prototype keys, repeated keys, huge values), headers
 * (wrong or junk Authorization, Content-Type, Last-Event-ID) and bodies (random JSON, JSON nested
 * 100 000 deep, over 1 MiB, binary, `__proto__`/`constructor` keys), with and without the token,
 * from loopback and beyond. Every answer is under 500: an error is JSON `{ error: { code:
 * TIDE_ERR_* } }`, never a 500, a crash or a hang; afterwards Object.prototype is untouched and
 * the tide still answers. Fixed seed, bounded runs.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { createApiApp, MAX_BODY_BYTES, type ApiApp } from '../../src/api/app.ts'
import { TideService } from '../../src/app/tide-service.ts'
import { startTinyTide, type RunningTide } from '../support/running-tide.ts'

const SEED = 1313
const TOKEN = 'fuzz-token-0123456789'
const LOOPBACK = { incoming: { socket: { remoteAddress: '127.0.0.1' } } }
const REMOTE = { incoming: { socket: { remoteAddress: '198.51.100.9' } } }

let tide: RunningTide
let api: ApiApp

before(async () => {
  tide = await startTinyTide('tiny')
  // Rate limits off: the fuzzer sends hundreds of changes from one address (test/api/rate-limit.test.ts tests them).
  api = createApiApp({ service: new TideService(tide.runtime, { baseDir: tide.dir }), token: TOKEN, rateLimits: false, streamHeartbeatMs: 60_000 })
})

after(async () => {
  api.close()
  await tide.stop()
})

/** Path segments: hostile, already in URL form (percent escapes kept as they are, malformed ones too). */
const RAW_SEGMENTS = ['..', '%2e%2e', '%', '%zz', '%E0%A4%A', '%00', '%FF%FE', '__proto__', 'constructor', 'prototype', '%2F', 'tiny%00', '-', 'a'.repeat(10_000), '%F0%9F%92%A9', '%C0%AF', '%u0041']
const segment = fc.oneof(
  fc.constantFrom(...RAW_SEGMENTS),
  fc.string({ unit: 'binary', maxLength: 40 }).map(encodeURIComponent),
  fc.string({ maxLength: 70 }).map(encodeURIComponent),
  fc.constant('nope-group'),
)
const queryKey = fc.oneof(fc.constantFrom('__proto__', 'constructor', 'prototype', 'group', 'type', 'since', 'until', 'limit', 'cursor', 'series', 'from', 'to', 'step', 'toString'), fc.string({ maxLength: 10 }))
const queryValue = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 30 }),
  fc.constantFrom('', '-1', '1e309', 'NaN', '9'.repeat(400), '0x10', '2026-13-45T99:99:99Z', ',,,,', 'x'.repeat(20_000), '[object Object]'),
)
const query = fc.array(fc.tuple(queryKey, queryValue), { maxLength: 6 }).map((pairs) => (pairs.length === 0 ? '' : `?${pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&')}`))
/** Header values a Request accepts (visible ASCII and spaces), hostile in meaning. */
const headerValue = fc.oneof(fc.string({ maxLength: 60 }).map((s) => s.replace(/[^\x20-\x7e]/g, '')), fc.constantFrom('Bearer', 'Bearer ', `Bearer ${TOKEN}x`, `bearer ${TOKEN}`, `Basic ${TOKEN}`, 'x'.repeat(8000)))
const headers = fc.record(
  {
    authorization: fc.oneof(fc.constant(`Bearer ${TOKEN}`), fc.constant(`Bearer ${TOKEN}`), headerValue),
    'content-type': fc.oneof(fc.constant('application/json'), headerValue),
    'last-event-id': headerValue,
  },
  { requiredKeys: [] },
)
/** Nested `depth` deep as text (JSON.parse reads it; a recursive walk would overflow). */
const deep = (depth: number, open: string, close: string): string => `${open.repeat(depth)}${close.repeat(depth)}`
const body = fc.oneof(
  fc.constant(undefined),
  fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
  fc.constantFrom(
    deep(100_000, '[', ']'),
    deep(100_000, '{"a":', '}').replace(/\}$/, '1}'),
    `{"spec":${deep(50_000, '[', ']')}}`,
    `{"desired":1,"holdSeconds":${deep(50_000, '[', ']')}}`,
    '{"__proto__":{"polluted":"yes"},"constructor":{"prototype":{"polluted":"yes"}}}',
    '{"spec":{"__proto__":{"polluted":"yes"}},"hours":1}',
    '{"replicas":{"__proto__":{"min":1}},"__proto__":{"polluted":"yes"}}',
    '{"desired":1e309}',
    '{"desired":-0,"holdSeconds":1.5}',
    '{"decrementDesired":"yes"}',
    `{"a":"${'x'.repeat(MAX_BODY_BYTES + 1000)}"}`,
    ' '.repeat(MAX_BODY_BYTES + 1),
    '\uFEFF{}',
    '\u0000\u0001\u0002',
    '"\uD800"',
    'null',
    '[]',
    '{"from":"not a time","to":1e400,"spec":{}}',
  ),
  fc.uint8Array({ maxLength: 200 }),
)
const remote = fc.constantFrom(LOOPBACK, REMOTE)

/** The routes of /openapi.json as [method, path template]. */
async function routes(): Promise<{ method: string; path: string }[]> {
  const res = await api.app.request('/openapi.json', {}, LOOPBACK)
  const doc = (await res.json()) as { paths: Record<string, Record<string, unknown>> }
  return Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((method) => ({ method: method.toUpperCase(), path })))
}

test('every route of the OpenAPI document: hostile paths, queries, headers and bodies get a TIDE_ERR_* 4xx, never a 500', { timeout: 120_000 }, async () => {
  const all = await routes()
  assert.ok(all.length >= 15, `${all.length} routes in the OpenAPI document`)
  const started = Date.now()
  const seen = new Map<number, number>()
  for (const [i, route] of all.entries()) {
    await fc.assert(
      fc.asyncProperty(fc.array(segment, { minLength: 2, maxLength: 2 }), query, headers, body, remote, async ([name, id], q, hdrs, b, env) => {
        const path = route.path.replace('{name}', name ?? '').replace('{id}', id ?? '') + q
        const method = route.method
        const init: RequestInit = { method, headers: hdrs, signal: AbortSignal.timeout(10_000) }
        if (b !== undefined && method !== 'GET' && method !== 'HEAD') init.body = b
        const res = await api.app.request(path, init, env)
        seen.set(res.status, (seen.get(res.status) ?? 0) + 1)
        const type = res.headers.get('content-type') ?? ''
        if (type.startsWith('text/event-stream')) {
          await res.body?.cancel()
          assert.equal(res.status, 200)
          return
        }
        const text = await res.text()
        assert.ok(res.status < 500, `${method} ${path.slice(0, 200)} → ${res.status} ${text.slice(0, 300)}`)
        if (res.status >= 400) {
          assert.match(type, /application\/json/, `${method} ${path.slice(0, 200)}: an error is JSON`)
          const parsed = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } }
          assert.match(String(parsed.error?.code), /^TIDE_ERR_[A-Z_]+$/, `${method} ${path.slice(0, 200)}: ${text.slice(0, 300)}`)
          assert.equal(typeof parsed.error?.message, 'string')
        }
      }),
      { seed: SEED + i, numRuns: 40, endOnFailure: true },
    )
  }
  const elapsed = Date.now() - started
  assert.ok(elapsed < 60_000, `${elapsed} ms for ${all.length * 40} requests`)
  assert.equal(({} as Record<string, unknown>).polluted, undefined, 'Object.prototype is untouched')
  const alive = await api.app.request('/groups/tiny', {}, LOOPBACK)
  assert.equal(alive.status, 200, 'the tide still answers')
  assert.ok([...seen.keys()].some((s) => s >= 400 && s < 500), `statuses seen: ${JSON.stringify([...seen])}`)
})
