// ExternalSignals: one poll per sync period, failures counted per group and query, the fallback
// count from the threshold on, values and failures merged into the group's signals.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ExternalSignals, externalQueries } from '../../../src/metrics/external/external-signals.ts'
import { SourceError } from '../../../src/metrics/external/http-get.ts'
import type { ExternalSource } from '../../../src/spec/sources/index.ts'
import { GroupSchema, type GroupSpec } from '../../../src/spec/schema.ts'

const PROM = { type: 'prometheus', url: 'http://127.0.0.1:9090' }
const JSON_SRC = { type: 'http-json', url: 'http://127.0.0.1:8080/stats' }

function group(name = 'worker', fallback?: { failureThreshold: number; replicas: number }): GroupSpec {
  return GroupSchema.parse({
    group: name,
    provider: 'sim',
    syncPeriodSeconds: 15,
    metrics: [
      { type: 'external', query: 'sum(q)', source: PROM, ...(fallback === undefined ? {} : { fallback }), target: { averageValue: 10 } },
      { type: 'cpu', target: { averageUtilization: 60 } },
    ],
    steps: [
      { metric: { type: 'external', query: 'sum(q)', source: PROM }, above: 100, change: { type: 'Pods', value: 1 } },
      { metric: { type: 'external', query: '$.depth', source: JSON_SRC }, above: 5, change: { type: 'Pods', value: 1 } },
    ],
  })
}

/** A reader the test scripts: per query, a value or an error; counts calls. */
function scripted() {
  const answers = new Map<string, number | string>()
  const calls: string[] = []
  const read = (source: ExternalSource, query: string): Promise<number> => {
    calls.push(`${source.type} ${query}`)
    const a = answers.get(query)
    return typeof a === 'number' ? Promise.resolve(a) : Promise.reject(new SourceError(a ?? 'unset'))
  }
  return { answers, calls, read }
}

test('externalQueries: each query once, metrics first, then step rules, with the metric\'s fallback', () => {
  const qs = externalQueries(group('w', { failureThreshold: 2, replicas: 5 }))
  assert.deepEqual(
    qs.map((q) => [q.query, q.source.type, q.fallback?.replicas]),
    [
      ['sum(q)', 'prometheus', 5],
      ['$.depth', 'http-json', undefined],
    ],
  )
})

test('values are merged into the signals beside what the inner source read', async () => {
  const r = scripted()
  r.answers.set('sum(q)', 40).set('$.depth', 3)
  const ext = new ExternalSignals({ read: r.read })
  const spec = group()
  await ext.refresh(spec, 0)
  const inner = { atMs: 0, instances: new Map([['i-1', { cpuRatio: 0.5 }]]), group: { rps: 12 } }
  const merged = ext.merge(spec, inner, 0)
  assert.ok(merged)
  assert.deepEqual(merged.group, { rps: 12, external: { 'sum(q)': 40, '$.depth': 3 } })
  assert.equal(merged.instances, inner.instances)
  // No inner signals: the external values still reach the engine.
  assert.deepEqual(ext.merge(spec, undefined, 5)?.group, { external: { 'sum(q)': 40, '$.depth': 3 } })
})

test('one poll per sync period: a tick sooner than that reads the last values', async () => {
  const r = scripted()
  r.answers.set('sum(q)', 1).set('$.depth', 1)
  const ext = new ExternalSignals({ read: r.read })
  const spec = group()
  await ext.refresh(spec, 0)
  await ext.refresh(spec, 5_000)
  assert.equal(r.calls.length, 2)
  r.answers.set('sum(q)', 2)
  await ext.refresh(spec, 14_000) // 90 % of 15 s: a tick a little early still polls
  assert.equal(r.calls.length, 4)
  assert.equal(ext.merge(spec, undefined, 14_000)?.group.external?.['sum(q)'], 2)
})

test('failures: hold (no value, the error) until the threshold, then the fallback count; an answer resets', async () => {
  const r = scripted()
  r.answers.set('sum(q)', 50).set('$.depth', 1)
  const ext = new ExternalSignals({ read: r.read })
  const spec = group('worker', { failureThreshold: 3, replicas: 6 })
  const at = (n: number): number => n * 15_000
  await ext.refresh(spec, at(0))
  r.answers.set('sum(q)', 'timeout after 5 s')
  const seen: unknown[] = []
  for (let i = 1; i <= 4; i++) {
    await ext.refresh(spec, at(i))
    const g = ext.merge(spec, undefined, at(i))?.group
    assert.equal(g?.external?.['sum(q)'], undefined, 'a failed poll leaves no stale value')
    seen.push(g?.externalFailures?.['sum(q)'])
  }
  assert.deepEqual(seen, [
    { failures: 1, error: 'timeout after 5 s' },
    { failures: 2, error: 'timeout after 5 s' },
    { failures: 3, error: 'timeout after 5 s', fallbackReplicas: 6 },
    { failures: 4, error: 'timeout after 5 s', fallbackReplicas: 6 },
  ])
  r.answers.set('sum(q)', 70)
  await ext.refresh(spec, at(5))
  assert.deepEqual(ext.merge(spec, undefined, at(5))?.group, { external: { 'sum(q)': 70, '$.depth': 1 } })
  assert.equal(ext.failures('worker').size, 0)
})

test('failures are counted per group: one group\'s failing source does not touch another\'s', async () => {
  const r = scripted()
  r.answers.set('$.depth', 1)
  const ext = new ExternalSignals({ read: r.read })
  const a = group('a', { failureThreshold: 1, replicas: 4 })
  const b = GroupSchema.parse({ group: 'b', provider: 'sim', metrics: [{ type: 'external', query: '$.depth', source: JSON_SRC, target: { value: 1 } }] })
  await ext.refresh(a, 0)
  await ext.refresh(b, 0)
  assert.deepEqual(ext.merge(a, undefined, 0)?.group.externalFailures, { 'sum(q)': { failures: 1, error: 'unset', fallbackReplicas: 4 } })
  assert.deepEqual(ext.merge(b, undefined, 0)?.group, { external: { '$.depth': 1 } })
})

test('a reader that rejects with something else, or answers NaN, is a failure too; a group without external metrics is untouched', async () => {
  const ext = new ExternalSignals({ read: (_s, q) => (q === 'sum(q)' ? Promise.resolve(Number.NaN) : Promise.reject(new Error('boom'))) })
  const spec = group()
  await ext.refresh(spec, 0)
  assert.deepEqual(ext.merge(spec, undefined, 0)?.group.externalFailures, { 'sum(q)': { failures: 1, error: 'value NaN is not finite' }, '$.depth': { failures: 1, error: 'boom' } })
  const plain = GroupSchema.parse({ group: 'plain', provider: 'sim' })
  await ext.refresh(plain, 0)
  assert.equal(ext.merge(plain, undefined, 0), undefined)
})
