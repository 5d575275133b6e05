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
