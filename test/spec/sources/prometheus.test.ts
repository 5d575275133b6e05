import { test } from 'node:test'
import assert from 'node:assert/strict'
import { PrometheusSourceSchema } from '../../../src/spec/sources/prometheus.ts'
import { describeSource, ExternalSourceSchema, EXTERNAL_SOURCE_TYPES } from '../../../src/spec/sources/index.ts'

test('the prometheus schema: a base URL (a path prefix kept), timeout 5 s by default', () => {
  assert.deepEqual(PrometheusSourceSchema.parse({ type: 'prometheus', url: 'https://metrics.example.com/prometheus' }), {
    type: 'prometheus',
    url: 'https://metrics.example.com/prometheus',
    timeoutSeconds: 5,
  })
  assert.equal(PrometheusSourceSchema.parse({ type: 'prometheus', url: 'http://127.0.0.1:9090', timeoutSeconds: 0.5 }).timeoutSeconds, 0.5)
})

const bad: { name: string; input: unknown; field: string }[] = [
  { name: 'no url', input: { type: 'prometheus' }, field: 'url' },
  { name: 'a host without a scheme', input: { type: 'prometheus', url: '127.0.0.1:9090' }, field: 'url' },
  { name: 'credentials in the URL', input: { type: 'prometheus', url: 'http://admin:admin@127.0.0.1:9090' }, field: 'url' },
  { name: 'a negative timeout', input: { type: 'prometheus', url: 'http://h:9090', timeoutSeconds: -1 }, field: 'timeoutSeconds' },
  { name: 'an unknown field', input: { type: 'prometheus', url: 'http://h:9090', query: 'up' }, field: '' },
]
for (const c of bad) {
  test(`the prometheus schema refuses ${c.name}`, () => {
    const r = PrometheusSourceSchema.safeParse(c.input)
    assert.equal(r.success, false)
    assert.equal(r.error.issues[0]?.path.join('.'), c.field)
  })
}

test('the registry knows every source type, alphabetical, and refuses an unknown one', () => {
  assert.deepEqual(EXTERNAL_SOURCE_TYPES, [...EXTERNAL_SOURCE_TYPES].sort())
  for (const type of EXTERNAL_SOURCE_TYPES) assert.equal(ExternalSourceSchema.safeParse({ type, url: 'http://127.0.0.1:1' }).success, true, type)
  assert.equal(ExternalSourceSchema.safeParse({ type: 'datadog', url: 'http://127.0.0.1:1' }).success, false)
  assert.equal(describeSource(ExternalSourceSchema.parse({ type: 'prometheus', url: 'http://127.0.0.1:9090' })), 'prometheus http://127.0.0.1:9090')
})
