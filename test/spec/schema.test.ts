import { test } from 'node:test'
import assert from 'node:assert/strict'
import { GlobalSchema, GroupSchema, STORE_URL_UNSUPPORTED } from '../../src/spec/schema.ts'

test('a minimal sim group gets the HPA behavior defaults', () => {
  const g = GroupSchema.parse({ group: 'shop', provider: 'sim' })
  assert.equal(g.behavior.scaleDown.stabilizationWindowSeconds, 300)
  assert.deepEqual(g.behavior.scaleUp.policies, [
    { type: 'Percent', value: 100, periodSeconds: 15 },
    { type: 'Pods', value: 4, periodSeconds: 15 },
  ])
  assert.equal(g.syncPeriodSeconds, 15)
})

test('unknown fields are errors', () => {
  const r = GroupSchema.safeParse({ group: 'shop', provider: 'sim', replcas: { min: 1 } })
  assert.equal(r.success, false)
})

test('disk and network metrics: per-instance MiB/s targets, direction total by default', () => {
  const g = GroupSchema.parse({
    group: 'shop',
    provider: 'sim',
    metrics: [
      { type: 'disk', target: { averageValueMiBPerSecond: 20 } },
      { type: 'network', direction: 'out', target: { averageValueMiBPerSecond: 0.5 } },
    ],
    steps: [{ metric: { type: 'disk', direction: 'write' }, above: 50, change: { type: 'Pods', value: 1 } }],
  })
  assert.deepEqual(g.metrics, [
    { type: 'disk', direction: 'total', target: { averageValueMiBPerSecond: 20 } },
    { type: 'network', direction: 'out', target: { averageValueMiBPerSecond: 0.5 } },
  ])
  assert.deepEqual(g.steps[0]?.metric, { type: 'disk', direction: 'write' })
})

const badByteMetrics = [
  { name: 'a zero target', metric: { type: 'disk', target: { averageValueMiBPerSecond: 0 } } },
  { name: 'a negative target', metric: { type: 'network', target: { averageValueMiBPerSecond: -1 } } },
  { name: 'a byte count without its unit', metric: { type: 'network', target: { averageValue: 1048576 } } },
  { name: 'a network direction on disk', metric: { type: 'disk', direction: 'in', target: { averageValueMiBPerSecond: 1 } } },
  { name: 'a disk direction on network', metric: { type: 'network', direction: 'read', target: { averageValueMiBPerSecond: 1 } } },
] as const
for (const c of badByteMetrics) {
  test(`disk and network metrics refuse ${c.name}`, () => {
    assert.equal(GroupSchema.safeParse({ group: 'shop', provider: 'sim', metrics: [c.metric] }).success, false)
  })
}

// Nothing reads store.url until the PostgreSQL store exists (issue 13): setting it is refused, never ignored.
const storeCases = [
  { name: 'no store: the default file', input: {}, ok: true, path: 'tide.db' },
  { name: 'a path alone', input: { store: { path: 'x.db' } }, ok: true, path: 'x.db' },
  { name: 'a PostgreSQL url is refused', input: { store: { url: 'postgres://tide@db/tide' } }, ok: false },
  { name: 'a url beside a path is refused too', input: { store: { path: 'x.db', url: 'postgres://db/tide' } }, ok: false },
] as const
for (const c of storeCases) {
  test(`global store: ${c.name}`, () => {
    const r = GlobalSchema.safeParse(c.input)
    assert.equal(r.success, c.ok)
    if (r.success) assert.equal(r.data.store.path, 'path' in c ? c.path : 'unexpected success')
    else assert.deepEqual(r.error.issues.map((i) => [i.path.join('.'), i.message]), [['store.url', STORE_URL_UNSUPPORTED]])
  })
}
