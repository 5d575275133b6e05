import { test } from 'node:test'
import assert from 'node:assert/strict'
import { GlobalSchema, GroupSchema, STORE_URL_NOT_POSTGRES } from '../../src/spec/schema.ts'

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

// store.url selects the PostgreSQL store (issue 13); anything but a PostgreSQL URL is refused, never ignored.
const storeCases = [
  { name: 'no store: the default file', input: {}, ok: true, path: 'tide.db' },
  { name: 'a path alone', input: { store: { path: 'x.db' } }, ok: true, path: 'x.db' },
  { name: 'a PostgreSQL url', input: { store: { url: 'postgres://tide@db/tide' } }, ok: true, path: 'tide.db', url: 'postgres://tide@db/tide' },
  { name: 'a postgresql:// url beside a path', input: { store: { path: 'x.db', url: 'postgresql://db:5433/tide' } }, ok: true, path: 'x.db', url: 'postgresql://db:5433/tide' },
  { name: 'a MySQL url is refused', input: { store: { url: 'mysql://db/tide' } }, ok: false },
  { name: 'a file path as url is refused', input: { store: { url: 'tide.db' } }, ok: false },
  { name: 'an unparsable url is refused', input: { store: { url: 'postgres://[bad' } }, ok: false },
] as const
for (const c of storeCases) {
  test(`global store: ${c.name}`, () => {
    const r = GlobalSchema.safeParse(c.input)
    assert.equal(r.success, c.ok)
    if (r.success) {
      assert.equal(r.data.store.path, 'path' in c ? c.path : 'unexpected success')
      assert.equal(r.data.store.url, 'url' in c ? c.url : undefined)
    } else assert.deepEqual(r.error.issues.map((i) => [i.path.join('.'), i.message]), [['store.url', STORE_URL_NOT_POSTGRES]])
  })
}

const backupCases: { name: string; backup: unknown; error?: RegExp }[] = [
  { name: 'instances', backup: { instances: [{ host: '127.0.0.1', port: 9001 }, { host: 'spare.internal', port: 80 }] } },
  { name: 'an IPv6 instance', backup: { instances: [{ host: '::1', port: 9001 }] } },
  { name: 'a url with a prefix', backup: { url: 'http://127.0.0.1:9000/fallback' } },
  { name: 'a url without port', backup: { url: 'http://static.internal' } },
  { name: 'both instances and url', backup: { instances: [{ host: '127.0.0.1', port: 9001 }], url: 'http://127.0.0.1:9000' }, error: /either instances \(fixed servers\) or url \(an upstream\), not both/ },
  { name: 'neither', backup: {}, error: /needs instances \(a list of \{ host, port \}\) or url/ },
  { name: 'no instance', backup: { instances: [] }, error: /too_small|>=1/i },
  { name: '17 instances', backup: { instances: Array.from({ length: 17 }, (_, i) => ({ host: '127.0.0.1', port: 9000 + i })) }, error: /too_big|<=16/i },
  { name: 'a port out of range', backup: { instances: [{ host: '127.0.0.1', port: 70000 }] }, error: /too_big|<=65535/i },
  { name: 'a host with a space', backup: { instances: [{ host: 'a b', port: 1 }] }, error: /must be a host name or IP address/ },
  { name: 'https', backup: { url: 'https://127.0.0.1:9000' }, error: /must be http:\/\/host:port\[\/prefix\]/ },
  { name: 'a query', backup: { url: 'http://127.0.0.1:9000/a?b=1' }, error: /no credentials, query or fragment/ },
  { name: 'credentials', backup: { url: 'http://user:pw@127.0.0.1:9000' }, error: /no credentials, query or fragment/ },
  { name: 'a fragment', backup: { url: 'http://127.0.0.1:9000/#top' }, error: /no credentials, query or fragment/ },
  { name: 'not a url', backup: { url: 'backup-host:9000' }, error: /must be http:\/\/host:port/ },
  { name: 'an unknown field', backup: { url: 'http://127.0.0.1:9000', weight: 2 }, error: /weight/ },
]

for (const c of backupCases) {
  test(`routing.backup: ${c.name} is ${c.error ? 'refused' : 'accepted'}`, () => {
    const r = GroupSchema.safeParse({ group: 'shop', provider: 'sim', routing: { backup: c.backup } })
    if (c.error === undefined) {
      assert.ok(r.success, JSON.stringify(r.error?.issues))
      assert.deepEqual(r.data.routing.backup, c.backup)
    } else {
      assert.ok(!r.success)
      assert.match(JSON.stringify(r.error.issues), c.error)
    }
  })
}

test('routing.backup is absent by default', () => {
  assert.equal(GroupSchema.parse({ group: 'shop', provider: 'sim' }).routing.backup, undefined)
})
