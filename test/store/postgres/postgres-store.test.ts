// The PostgreSQL store against a real, throwaway PostgreSQL (test/support/postgres.ts): the
// TideStore contract, one round trip per flush (counted by the server's statement log), the
// fence, a killed connection, a database away (bounded buffering), migrations run concurrently,
// and no password in any message.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { isStoreError } from '../../../src/store/errors.ts'
import { assertCurrentPostgres, migratePostgres, PG_SCHEMA_VERSION, pgMigrations } from '../../../src/store/postgres/migrations.ts'
import { PostgresStore } from '../../../src/store/postgres/postgres-store.ts'
import type { StoredGroupState } from '../../../src/store/state-store.ts'
import { startPostgres, type TestPostgres } from '../../support/postgres.ts'
import { missingBinary } from '../../support/system-binaries.ts'
import { storeContract } from '../tide-store.contract.ts'
import pg from 'pg'

const skip = missingBinary('postgres')
let server: TestPostgres | undefined

before(async () => {
  if (skip === false) server = await startPostgres({ logStatements: true })
})
after(async () => {
  await server?.stop()
})

function db(): TestPostgres {
  if (server === undefined) throw new Error('no PostgreSQL started')
  return server
}

const STATE: StoredGroupState = { desiredReplicas: 2, size: { cpu: 1, memoryMiB: 256 }, history: { recommendations: [], scaleEvents: [] } as unknown as StoredGroupState['history'], drainingIds: [], protectedIds: [] }

storeContract(
  'postgres',
  {
    async fresh() {
      const url = await db().createDatabase()
      return { store: await PostgresStore.open(url), reopen: () => PostgresStore.open(url) }
    },
  },
  { skip },
)

test('a flush is one round trip: one statement on the server, however many writes it carries', { skip }, async () => {
  const url = await db().createDatabase()
  const store = await PostgresStore.open(url)
  try {
    // The store's connections are named 'tide' (application_name); the tests of this file run one at a time.
    const before = db().statements('tide').length
    for (let tick = 0; tick < 3; tick++) {
      for (let g = 0; g < 5; g++) {
        store.saveGroupState(`g${g}`, { ...STATE, desiredReplicas: tick + 1 })
        store.saveGroupStatus(`g${g}`, { group: `g${g}`, atMs: tick })
        store.append({ atMs: tick, group: `g${g}`, type: 'decision', message: `tick ${tick}` })
        store.recordMetric(`g${g}`, 'rps', 1_800_000_000_000 + tick * 1000, 10)
        store.instanceRegistry().put({ id: `i${g}`, group: `g${g}`, pid: 1, startTime: '1', port: 1, size: { cpu: 1, memoryMiB: 1 }, launchedAtMs: tick, logPath: '/dev/null' })
      }
      await store.flush()
    }
    // Nothing pending: no round trip at all.
    await store.flush()
    const ran = db().statements('tide').slice(before)
    assert.equal(ran.length, 3, ran.join('\n'))
    assert.ok(ran.every((l) => l.includes('tide_flush(')), ran.join('\n'))
    assert.equal(store.counters.roundTrips, 3)
    const rows = await db().query<{ n: string }>(url, "SELECT count(*) AS n FROM tide_events WHERE message LIKE 'tick %'")
    assert.equal(Number(rows[0]?.n), 15)
  } finally {
    await store.close()
  }
})

test('a fenced flush with a stale epoch applies nothing and rejects with FencedError; the holder at the current epoch writes', { skip }, async () => {
  const url = await db().createDatabase()
  const store = await PostgresStore.open(url)
  try {
    await db().query(url, "INSERT INTO tide_lease (name, holder, epoch, renewed_at, duration_ms) VALUES ('tide', 'b', 7, now(), 15000)")
    store.saveGroupState('web', STATE)
    store.append({ atMs: 1, group: 'web', type: 'launch', message: 'from a deposed leader' })
    await assert.rejects(store.flush({ lease: 'tide', holder: 'a', epoch: 6 }), (err: unknown) => {
      assert.ok(isStoreError(err, 'TIDE_ERR_STORE_FENCED'), String(err))
      assert.match((err as Error).message, /expected held by a at epoch 6, but it is held by b at epoch 7; nothing was written/)
      return true
    })
    assert.deepEqual(await db().query(url, 'SELECT * FROM tide_group_kv'), [])
    assert.deepEqual(await db().query(url, 'SELECT * FROM tide_events'), [])
    // The fenced batch is dropped, not kept for later.
    assert.equal(store.pendingWrites, false)
    // Same holder, stale epoch: fenced too; a lease that does not exist: fenced.
    store.append({ atMs: 2, group: 'web', type: 'launch', message: 'stale epoch' })
    await assert.rejects(store.flush({ lease: 'tide', holder: 'b', epoch: 6 }), (err: unknown) => isStoreError(err, 'TIDE_ERR_STORE_FENCED'))
    store.append({ atMs: 3, group: 'web', type: 'launch', message: 'no lease' })
    await assert.rejects(store.flush({ lease: 'other', holder: 'b', epoch: 7 }), /there is no such lease/)
    store.append({ atMs: 4, group: 'web', type: 'launch', message: 'the leader' })
    await store.flush({ lease: 'tide', holder: 'b', epoch: 7 })
    assert.deepEqual((await store.readEvents()).map((e) => e.message), ['the leader'])
  } finally {
    await store.close()
  }
})

test('a killed connection does not crash tide, and a database that refuses connections keeps the batch for the next flush', { skip }, async () => {
  const url = await db().createDatabase()
  const name = new URL(url).pathname.slice(1)
  const lines: string[] = []
  const store = await PostgresStore.open(url, { log: (l) => lines.push(l) })
  try {
    store.append({ atMs: 1, group: 'web', type: 'launch', message: 'one' })
    await store.flush()
    // Kill the store's connections (idle in the pool): an 'error' on a pooled client, which must be handled.
    await db().query(db().url, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND application_name = 'tide'`, [name])
    await db().query(db().url, `ALTER DATABASE ${name} ALLOW_CONNECTIONS false`)
    store.append({ atMs: 2, group: 'web', type: 'launch', message: 'two' })
    store.saveGroupState('web', STATE)
    await assert.rejects(store.flush(), (err: unknown) => isStoreError(err, 'TIDE_ERR_STORE_IO'))
    assert.equal(store.pendingWrites, true)
    store.append({ atMs: 3, group: 'web', type: 'launch', message: 'three' })
    await assert.rejects(store.flush(), (err: unknown) => isStoreError(err, 'TIDE_ERR_STORE_IO'))
    assert.equal(lines.filter((l) => l.includes('flush failed')).length, 1, `once per failure streak: ${lines.join(' | ')}`)
    await db().query(db().url, `ALTER DATABASE ${name} ALLOW_CONNECTIONS true`)
    await store.flush()
    assert.deepEqual((await store.readEvents({ order: 'asc' })).map((e) => e.message), ['one', 'two', 'three'])
    assert.deepEqual((await db().query<{ value: StoredGroupState }>(url, "SELECT value FROM tide_group_kv WHERE kind = 'state'"))[0]?.value, STATE)
    assert.match(lines.at(-1) ?? '', /flushing again after failures since .*nothing was lost/)
    assert.equal(store.counters.failedFlushes, 2)
  } finally {
    await db().query(db().url, `ALTER DATABASE ${name} ALLOW_CONNECTIONS true`)
    await store.close()
  }
})

test('while the database is away, buffering is bounded: the oldest events and per-second buckets past their caps are dropped and counted', { skip }, async () => {
  const url = await db().createDatabase()
  const name = new URL(url).pathname.slice(1)
  const lines: string[] = []
  const store = await PostgresStore.open(url, { limits: { events: 5, seconds: 10 }, log: (l) => lines.push(l) })
  try {
    await db().query(db().url, `ALTER DATABASE ${name} ALLOW_CONNECTIONS false`)
    await db().query(db().url, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND application_name = 'tide'`, [name])
    const t0 = 1_800_000_000_000
    for (let i = 0; i < 12; i++) {
      store.append({ atMs: i, group: 'web', type: 'launch', message: `e${i}` })
      store.recordMetric('web', 'rps', t0 + i * 1000, i)
      if (i % 4 === 3) await assert.rejects(store.flush())
    }
    assert.equal(store.counters.dropped.events, 7)
    assert.equal(store.counters.dropped.seconds, 2)
    await db().query(db().url, `ALTER DATABASE ${name} ALLOW_CONNECTIONS true`)
    await store.flush()
    assert.deepEqual((await store.readEvents({ order: 'asc' })).map((e) => e.message), ['e7', 'e8', 'e9', 'e10', 'e11'])
    const secs = await store.readMetric('web', 'rps', t0, t0 + 12_000, 1000)
    assert.deepEqual(secs.points.map((p) => p.avg), [2, 3, 4, 5, 6, 7, 8, 9, 10, 11])
    // The minute tier kept every sample.
    const mins = await store.readMetric('web', 'rps', t0 - 60_000 * 90, t0 + 60_000, 60_000)
    assert.equal(mins.points.reduce((n, p) => n + p.count, 0), 12)
    assert.match(lines.at(-1) ?? '', /9 buffered items were dropped meanwhile/)
  } finally {
    await db().query(db().url, `ALTER DATABASE ${name} ALLOW_CONNECTIONS true`)
    await store.close()
  }
})

test('tide_flush applies a resent batch once: a (writer, seq) already applied is skipped', { skip }, async () => {
  const url = await db().createDatabase()
  const store = await PostgresStore.open(url)
  await store.close()
  const batch = { writer: 'w1', batches: [{ seq: 1, deleteGroups: [], kv: [], instances: [], events: [{ at: 1, g: 'web', t: 'launch', m: 'once', i: null, d: null }], seconds: [{ g: 'web', s: 'rps', t: 5, sum: 1, n: 1, lo: 1, hi: 1 }], minutes: [], deliveries: [], prune: null }] }
  const first = await db().query<{ r: unknown }>(url, 'SELECT tide_flush($1::jsonb, NULL) AS r', [JSON.stringify(batch)])
  const again = await db().query<{ r: unknown }>(url, 'SELECT tide_flush($1::jsonb, NULL) AS r', [JSON.stringify(batch)])
  assert.deepEqual(first[0]?.r, { applied: 1, skipped: 0 })
  assert.deepEqual(again[0]?.r, { applied: 0, skipped: 1 })
  assert.deepEqual(await db().query(url, 'SELECT message FROM tide_events'), [{ message: 'once' }])
  assert.deepEqual(await db().query(url, 'SELECT count FROM tide_metric_seconds'), [{ count: 1 }])
})

test('migrations: four processes opening a fresh database at once migrate it once; reopening applies nothing; a newer schema is refused', { skip }, async () => {
  const url = await db().createDatabase()
  const stores = await Promise.all([0, 1, 2, 3].map(() => PostgresStore.open(url)))
  await Promise.all(stores.map((s) => s.close()))
  const rows = await db().query<{ version: number }>(url, 'SELECT version FROM tide_schema_migrations ORDER BY version')
  assert.deepEqual(rows.map((r) => r.version), Array.from({ length: PG_SCHEMA_VERSION }, (_, i) => i + 1))
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    assert.deepEqual(await migratePostgres(client, 'x'), [])
    await client.query(`INSERT INTO tide_schema_migrations (version, name) VALUES (${PG_SCHEMA_VERSION + 1}, 'from the future')`)
  } finally {
    await client.end()
  }
  await assert.rejects(PostgresStore.open(url), (err: unknown) => isStoreError(err, 'TIDE_ERR_STORE_VERSION') && /newer than this tide knows/.test((err as Error).message))
})

test('a reader (migrate: false) changes nothing: it refuses a database without tide and creates nothing, refuses an older schema and applies nothing, reads a current one', { skip }, async () => {
  const empty = await db().createDatabase()
  await assert.rejects(PostgresStore.open(empty, { migrate: false }), (err: unknown) => isStoreError(err, 'TIDE_ERR_STORE_NOT_A_STORE') && /holds no tide store/.test((err as Error).message))
  assert.deepEqual(await db().query(empty, `SELECT tablename FROM pg_tables WHERE schemaname = 'public'`), [], 'no table created')

  // An older schema: this tide's migrations checked as a tide with one more would check them
  // (there is one PostgreSQL migration so far).
  const old = await db().createDatabase()
  const next = [...pgMigrations, { version: PG_SCHEMA_VERSION + 1, name: 'next', sql: 'CREATE TABLE tide_next (x int)' }]
  const client = new pg.Client({ connectionString: old })
  await client.connect()
  try {
    assert.deepEqual(await migratePostgres(client, 'x'), pgMigrations.map((m) => m.version))
    await assert.rejects(
      assertCurrentPostgres(client, 'the store', next),
      (err: unknown) => isStoreError(err, 'TIDE_ERR_STORE_VERSION') && new RegExp(`schema version ${PG_SCHEMA_VERSION}, older than this tide's ${PG_SCHEMA_VERSION + 1}; a reader does not migrate`).test((err as Error).message),
    )
  } finally {
    await client.end()
  }
  const versions = await db().query<{ version: number }>(old, 'SELECT version FROM tide_schema_migrations')
  assert.deepEqual(versions.map((r) => r.version), pgMigrations.map((m) => m.version), 'not migrated')
  assert.deepEqual(await db().query(old, `SELECT tablename FROM pg_tables WHERE tablename = 'tide_next'`), [])

  const current = await db().createDatabase()
  const writer = await PostgresStore.open(current)
  writer.saveGroupState('web', STATE)
  await writer.flush()
  await writer.close()
  const reader = await PostgresStore.open(current, { migrate: false })
  try {
    assert.equal(reader.loadGroupState('web')?.desiredReplicas, 2)
  } finally {
    await reader.close()
  }
})

test('a password in the URL reaches no message: open errors and the location are redacted', { skip }, async () => {
  const password = 'hunter2-Secret'
  const port = db().port
  const bad = `postgres://postgres:${password}@127.0.0.1:${port}/no_such_database`
  await assert.rejects(PostgresStore.open(bad, { log: (l) => { assert.ok(!l.includes(password), l) } }), (err: unknown) => {
    assert.ok(isStoreError(err, 'TIDE_ERR_STORE_IO'), String(err))
    const e = err as Error & { path: string; cause?: Error }
    assert.ok(!e.message.includes(password), e.message)
    assert.ok(!String(e.cause?.message).includes(password))
    assert.ok(!e.path.includes(password))
    assert.match(e.message, /postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:\d+\/no_such_database/)
    return true
  })
  const url = (await db().createDatabase()).replace('postgres@', `postgres:${password}@`)
  const store = await PostgresStore.open(url)
  try {
    assert.ok(!store.location.includes(password))
    assert.match(store.location, /:\*\*\*@/)
  } finally {
    await store.close()
  }
})
