import assert from 'node:assert/strict'
import { test } from 'node:test'
import { forwardRequestHeaders, forwardResponseHeaders } from '../../src/router/forwarded-headers.ts'

function toMap(flat: readonly string[]): Map<string, string[]> {
  const m = new Map<string, string[]>()
  for (let i = 0; i < flat.length; i += 2) {
    const k = (flat[i] ?? '').toLowerCase()
    m.set(k, [...(m.get(k) ?? []), flat[i + 1] ?? ''])
  }
  return m
}

test('hop-by-hop and Connection-listed headers are dropped, others kept with their spelling', () => {
  const raw = ['Host', 'shop', 'Connection', 'keep-alive, X-Secret', 'Keep-Alive', 'timeout=5', 'X-Secret', 's', 'Transfer-Encoding', 'chunked', 'Upgrade', 'h2c', 'TE', 'trailers', 'Accept', 'text/html', 'Expect', '100-continue']
  const { headers } = forwardRequestHeaders(raw, '10.0.0.9')
  const m = toMap(headers)
  for (const gone of ['connection', 'keep-alive', 'x-secret', 'transfer-encoding', 'upgrade', 'te', 'expect']) assert.equal(m.has(gone), false, gone)
  assert.deepEqual(m.get('host'), ['shop'])
  assert.equal(headers.indexOf('Accept') >= 0, true)
})

test('Content-Length and Transfer-Encoding are reported for the body', () => {
  const plain = forwardRequestHeaders(['Content-Length', '12'], '127.0.0.1')
  assert.equal(plain.contentLength, '12')
  assert.equal(plain.chunked, false)
  assert.deepEqual(toMap(plain.headers).get('content-length'), ['12'])
  const chunked = forwardRequestHeaders(['Transfer-Encoding', 'chunked'], '127.0.0.1')
  assert.equal(chunked.contentLength, undefined)
  assert.equal(chunked.chunked, true)
})

test('X-Forwarded-For appends the client after earlier hops; X-Forwarded-Proto is http', () => {
  const raw = ['X-Forwarded-For', '1.1.1.1', 'x-forwarded-for', '2.2.2.2', 'X-Forwarded-Proto', 'https']
  const m = toMap(forwardRequestHeaders(raw, '127.0.0.1').headers)
  assert.deepEqual(m.get('x-forwarded-for'), ['1.1.1.1, 2.2.2.2, 127.0.0.1'])
  assert.deepEqual(m.get('x-forwarded-proto'), ['http'])
})

test('an X-Request-Id is kept when sent and generated when absent', () => {
  const kept = forwardRequestHeaders(['X-Request-Id', 'abc'], '127.0.0.1')
  assert.equal(kept.requestId, 'abc')
  assert.deepEqual(toMap(kept.headers).get('x-request-id'), ['abc'])
  const made = forwardRequestHeaders([], '127.0.0.1')
  assert.match(made.requestId, /^[0-9a-f-]{36}$/)
  assert.deepEqual(toMap(made.headers).get('x-request-id'), [made.requestId])
  assert.notEqual(forwardRequestHeaders([], '127.0.0.1').requestId, made.requestId)
})

test('response headers: hop-by-hop dropped, duplicates kept, request id added when missing', () => {
  const raw = ['Set-Cookie', 'a=1', 'Set-Cookie', 'b=2', 'Connection', 'close, X-Internal', 'X-Internal', '1', 'Content-Length', '2'].map((s) => Buffer.from(s))
  const m = toMap(forwardResponseHeaders(raw, 'rid'))
  assert.deepEqual(m.get('set-cookie'), ['a=1', 'b=2'])
  assert.equal(m.has('connection'), false)
  assert.equal(m.has('x-internal'), false)
  assert.deepEqual(m.get('x-request-id'), ['rid'])
  assert.deepEqual(toMap(forwardResponseHeaders([Buffer.from('X-Request-Id'), Buffer.from('mine')], 'rid')).get('x-request-id'), ['mine'])
})
