import assert from 'node:assert/strict'
import { once } from 'node:events'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import Database from 'better-sqlite3'
import { ManualClock } from '../../src/core/clock.ts'
import type { TideEvent } from '../../src/store/events.ts'
import type { MetricsSource } from '../../src/controller/metrics-source.ts'
import { Controller } from '../../src/controller/reconciler.ts'
import { sameBackend } from '../../src/controller/backend.ts'
import type { StoredGroupState } from '../../src/store/state-store.ts'
import type { Decision } from '../../src/engine/types.ts'
import type { InstanceRecord } from '../../src/providers/provider.ts'
import { isStoreError } from '../../src/store/errors.ts'
import { LATEST_SCHEMA_VERSION, migrations, TIDE_APPLICATION_ID } from '../../src/store/migrations.ts'
import { SqliteStore } from '../../src/store/sqlite-store.ts'
import { GroupSchema } from '../../src/spec/schema.ts'
import { FakeProvider } from '../support/fake-provider.ts'
import { startFixture } from './child.ts'
import { storeContract } from './tide-store.contract.ts'
import { tempDir } from './temp-dir.ts'

const state: StoredGroupState = {
  desiredReplicas: 5,
  size: { cpu: 1, memoryMiB: 512 },
  history: {
    recommendations: [{ atMs: 1000, replicas: 4 }, { atMs: 16_000, replicas: 5 }],
    scaleUpEvents: [{ atMs: 16_000, delta: 1 }],
    scaleDownEvents: [],
    stepFiredAtMs: { 0: 16_000 },
  },
  drainingIds: ['i-3'],
  protectedIds: ['i-1'],
}

function decision(over: Partial<Decision> = {}): Decision {
  return {
    group: 'web',
    atMs: 5000,
    kind: 'scale',
    from: 4,
    to: 7,
    reason: 'ScaleUpLimit',
    explanation: 'scaled 4→7: p95 latency 340 ms > 200 ms target; capped by +4/15 s',
    recommendations: [{ policy: 'target-tracking', replicas: 9, reason: 'MetricAboveTarget', detail: 'p95 340 ms > 200 ms' }],
    limits: [{ guard: 'rate', from: 9, to: 7, detail: '+4/15 s' }],
    scaleInCandidates: [],
    history: state.history,
    ...over,
  }
}

test('group state survives close and reopen', (t) => {
  const path = join(tempDir(t), 'tide.db')
  const a = SqliteStore.open(path)
  assert.equal(a.loadGroupState('web'), undefined)
  a.saveGroupState('web', state)
  a.saveGroupState('api', { ...state, desiredReplicas: 2 })
  a.close()
  const b = SqliteStore.open(path)
  t.after(() => { b.close(); })
  assert.deepEqual(b.loadGroupState('web'), state)
  assert.equal(b.loadGroupState('api')?.desiredReplicas, 2)
  assert.deepEqual(b.listGroups(), ['api', 'web'])
})

test('saving again replaces the whole state', (t) => {
  const store = SqliteStore.open(':memory:')
  t.after(() => { store.close(); })
  store.saveGroupState('web', state)
  const next = { ...state, desiredReplicas: 7, drainingIds: [], protectedIds: [] }
  store.saveGroupState('web', next)
  assert.deepEqual(store.loadGroupState('web'), next)
  store.deleteGroupState('web')
  assert.equal(store.loadGroupState('web'), undefined)
})

test('the latest status per group survives close and reopen; saving replaces it; deleting the group removes it', (t) => {
  const path = join(tempDir(t), 'tide.db')
  const status = { group: 'web', atMs: 15_000, desiredReplicas: 3, conditions: [{ type: 'AbleToScale', status: 'True', reason: 'ReadyForNewScale', message: 'ok', lastTransitionMs: 0 }] }
  const a = SqliteStore.open(path)
  assert.equal(a.loadGroupStatus('web'), undefined)
  a.saveGroupStatus('web', { ...status, atMs: 0 })
  a.saveGroupStatus('web', status)
  a.saveGroupStatus('api', { group: 'api', atMs: 5 })
  a.close()
  const b = SqliteStore.open(path)
  t.after(() => { b.close(); })
  assert.deepEqual(b.loadGroupStatus('web'), status, 'the latest one')
  assert.deepEqual(b.listGroupStatuses(), ['api', 'web'])
  assert.equal(b.database.prepare(`SELECT at_ms FROM group_status WHERE group_name = 'web'`).pluck().get(), 15_000)
  b.saveGroupState('web', state)
  b.deleteGroupState('web')
  assert.equal(b.loadGroupStatus('web'), undefined)
  assert.equal(b.loadGroupState('web'), undefined)
  assert.deepEqual(b.loadGroupStatus('api'), { group: 'api', atMs: 5 })
})

/** A store file as the first tide wrote it: migration 1 only. Open; the caller closes it. */
function schemaV1Store(path: string): Database.Database {
  const v1 = migrations[0]
  assert.ok(v1)
  const raw = new Database(path)
  raw.exec(v1.sql)
  raw.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL)')
  raw.prepare('INSERT INTO schema_migrations VALUES (?, ?)').run(1, v1.name)
  raw.pragma(`application_id = ${TIDE_APPLICATION_ID}`)
  return raw
}

test('a store of schema version 1 is migrated: its state kept, the status table added', (t) => {
  const path = join(tempDir(t), 'tide.db')
  const raw = schemaV1Store(path)
  raw.prepare(`INSERT INTO group_state VALUES ('web', 4, '{"cpu":1,"memoryMiB":512}', ?, '[]', '[]')`).run(JSON.stringify(state.history))
  raw.close()
  const store = SqliteStore.open(path)
  t.after(() => { store.close(); })
  assert.equal(store.loadGroupState('web')?.desiredReplicas, 4)
  assert.equal(store.loadGroupStatus('web'), undefined)
  store.saveGroupStatus('web', { group: 'web', atMs: 1 })
  assert.deepEqual(store.loadGroupStatus('web'), { group: 'web', atMs: 1 })
  assert.deepEqual(store.database.prepare('SELECT version FROM schema_migrations ORDER BY version').pluck().all(), [1, 2, 3, 4])
  assert.equal(store.loadOperatorState('web'), undefined, 'migration 3: no operator state yet')
  assert.deepEqual(store.loadOperations('web'), [], 'migration 4: no group records yet')
})

test('a reader (migrate: false) changes nothing: it reads a current store, refuses an older one and leaves it at its version, refuses an empty file', (t) => {
  const dir = tempDir(t)
  const current = join(dir, 'current.db')
  const writer = SqliteStore.open(current)
  writer.saveGroupState('web', state)
  writer.close()
  const reader = SqliteStore.open(current, { migrate: false })
  assert.equal(reader.loadGroupState('web')?.desiredReplicas, 5)
  reader.close()

  const old = join(dir, 'old.db')
  schemaV1Store(old).close()
  assert.throws(
    () => SqliteStore.open(old, { migrate: false }),
    (err: unknown) => isStoreError(err, 'TIDE_ERR_STORE_VERSION') && new RegExp(`schema version 1, older than this tide's ${LATEST_SCHEMA_VERSION}; a reader does not migrate`).test((err as Error).message),
  )
  const after = new Database(old, { readonly: true })
  assert.deepEqual(after.prepare('SELECT version FROM schema_migrations').pluck().all(), [1], 'not migrated')
  after.close()

  const empty = join(dir, 'empty.db')
  new Database(empty).close()
  assert.throws(() => SqliteStore.open(empty, { migrate: false }), (err: unknown) => isStoreError(err, 'TIDE_ERR_STORE_NOT_A_STORE'))
  const untouched = new Database(empty, { readonly: true })
  assert.deepEqual(untouched.prepare(`SELECT name FROM sqlite_master`).pluck().all(), [], 'no table created')
  untouched.close()
})

test('operator state: kept across a reopen, removed when it sets nothing, deleted with the group', (t) => {
  const path = join(tempDir(t), 'tide.db')
  const a = SqliteStore.open(path)
  const set = { pausedSinceMs: 1000, override: { desired: 5, sinceMs: 1000, untilMs: 901_000 }, standby: [{ id: 'web-1', sinceMs: 2000, decremented: true }] }
  a.saveOperatorState('web', set)
  a.saveOperatorState('api', { pausedSinceMs: 7 })
  a.close()
  const b = SqliteStore.open(path)
  t.after(() => { b.close(); })
  assert.deepEqual(b.loadOperatorState('web'), set)
  b.saveOperatorState('web', { standby: [] })
  assert.equal(b.loadOperatorState('web'), undefined, 'nothing set: no row')
  b.deleteGroupState('api')
  assert.equal(b.loadOperatorState('api'), undefined)
})

test('a new file is a tide store in WAL mode at the latest schema version', (t) => {
  const path = join(tempDir(t), 'tide.db')
  SqliteStore.open(path).close()
  const raw = new Database(path, { readonly: true })
  t.after(() => raw.close())
  assert.equal(raw.pragma('application_id', { simple: true }), TIDE_APPLICATION_ID)
  assert.equal(raw.pragma('journal_mode', { simple: true }), 'wal')
  assert.deepEqual(raw.prepare('SELECT version FROM schema_migrations ORDER BY version').pluck().all(), Array.from({ length: LATEST_SCHEMA_VERSION }, (_, i) => i + 1))
})

test('reopening does not apply migrations twice', (t) => {
  const path = join(tempDir(t), 'tide.db')
  SqliteStore.open(path).close()
  SqliteStore.open(path).close()
  const raw = new Database(path, { readonly: true })
  t.after(() => raw.close())
  assert.equal(raw.prepare('SELECT COUNT(*) FROM schema_migrations').pluck().get(), LATEST_SCHEMA_VERSION)
})

const refusals = [
  {
    name: 'a foreign SQLite database is refused',
    prepare: (db: Database.Database) => db.exec('CREATE TABLE customers (id INTEGER)'),
    code: 'TIDE_ERR_STORE_NOT_A_STORE',
  },
  {
    name: 'a store from a newer tide is refused',
    prepare: (db: Database.Database) => {
      db.pragma(`application_id = ${TIDE_APPLICATION_ID}`)
      db.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL)')
      db.prepare('INSERT INTO schema_migrations VALUES (?, ?)').run(LATEST_SCHEMA_VERSION + 1, 'future')
    },
    code: 'TIDE_ERR_STORE_VERSION',
  },
] as const
for (const c of refusals) {
  test(c.name, (t) => {
    const path = join(tempDir(t), 'other.db')
    const raw = new Database(path)
    c.prepare(raw)
    raw.close()
    assert.throws(
      () => SqliteStore.open(path),
      (err: unknown) => isStoreError(err, c.code) && err.message.includes(path),
    )
  })
}

test('a file that is not SQLite is refused with the file named', (t) => {
  const path = join(tempDir(t), 'notes.txt')
  writeFileSync(path, 'this is not a database\n'.repeat(200))
  assert.throws(
    () => SqliteStore.open(path),
    (err: unknown) => isStoreError(err, 'TIDE_ERR_STORE_NOT_A_STORE') && err.message.includes(path),
  )
})

test('events are stored with the decision explanation but not its history', (t) => {
  const store = SqliteStore.open(':memory:')
  t.after(() => { store.close(); })
  const d = decision()
  store.append({ atMs: 5000, group: 'web', type: 'decision', message: d.explanation, decision: d })
  const [e] = store.queryEvents()
  assert.ok(e)
  assert.ok(e.decision)
  assert.equal(e.decision.explanation, d.explanation)
  assert.deepEqual(e.decision.limits, d.limits)
  assert.equal('history' in e.decision, false)
  assert.equal(e.instanceId, undefined)
})

test('event queries filter by group, type, time range and limit', async (t) => {
  const store = SqliteStore.open(':memory:')
  t.after(() => { store.close(); })
  const events: TideEvent[] = [
    { atMs: 1000, group: 'web', type: 'launch', message: 'launched 1' },
    { atMs: 2000, group: 'web', type: 'instance-unhealthy', message: 'i-1 unhealthy', instanceId: 'i-1' },
    { atMs: 3000, group: 'api', type: 'launch', message: 'launched api' },
    { atMs: 4000, group: 'web', type: 'terminate', message: 'terminated i-1', instanceId: 'i-1' },
    { atMs: 5000, group: 'web', type: 'launch', message: 'launched 2' },
  ]
  for (const e of events) store.append(e)
  const cases = [
    { name: 'all, newest first', q: {}, want: ['launched 2', 'terminated i-1', 'launched api', 'i-1 unhealthy', 'launched 1'] },
    { name: 'by group', q: { group: 'api' }, want: ['launched api'] },
    { name: 'by types', q: { types: ['launch', 'terminate'] as const, order: 'asc' as const }, want: ['launched 1', 'launched api', 'terminated i-1', 'launched 2'] },
    { name: 'time range is [from, to)', q: { fromMs: 2000, toMs: 4000, order: 'asc' as const }, want: ['i-1 unhealthy', 'launched api'] },
    { name: 'limit keeps the newest', q: { group: 'web', limit: 2 }, want: ['launched 2', 'terminated i-1'] },
    { name: 'empty type list matches nothing', q: { types: [] }, want: [] },
  ]
  for (const c of cases) {
    await t.test(c.name, () => {
      assert.deepEqual(
        store.queryEvents(c.q).map((e) => e.message),
        c.want,
      )
    })
  }
  await t.test('afterId tails the log', () => {
    const [newest] = store.queryEvents({ limit: 1 })
    assert.ok(newest)
    store.append({ atMs: 6000, group: 'web', type: 'launch', message: 'launched 3' })
    assert.deepEqual(
      store.queryEvents({ afterId: newest.id }).map((e) => e.message),
      ['launched 3'],
    )
  })
  await t.test('beforeId pages back from the newest', () => {
    const firstPage = store.queryEvents({ group: 'web', limit: 2 })
    const last = firstPage.at(-1)
    assert.ok(last)
    assert.deepEqual(
      store.queryEvents({ group: 'web', limit: 2, beforeId: last.id }).map((e) => e.message),
      ['terminated i-1', 'i-1 unhealthy'], // after 'launched 3' (the test before) and 'launched 2'
    )
  })
  await t.test('a bad limit is a query error', () => {
    assert.throws(() => store.queryEvents({ limit: 0 }), (err: unknown) => isStoreError(err, 'TIDE_ERR_STORE_QUERY'))
  })
})

test('append after close counts the event as dropped instead of throwing', () => {
  const store = SqliteStore.open(':memory:')
  store.close()
  store.append({ atMs: 1, group: 'web', type: 'launch', message: 'late' })
  assert.equal(store.droppedEvents, 1)
  assert.ok(store.lastAppendError)
})

test('prune ages out old events and delivery records', (t) => {
  const day = 24 * 3600_000
  const store = SqliteStore.open(':memory:', { eventRetentionMs: 10 * day })
  t.after(() => { store.close(); })
  store.append({ atMs: 0, group: 'web', type: 'launch', message: 'old' })
  store.append({ atMs: 5 * day, group: 'web', type: 'launch', message: 'recent' })
  store.recordDelivery({ deliveryId: 'd1', atMs: 0, group: 'web', alert: 'scaled', eventType: 'decision', url: 'http://127.0.0.1/h', attempt: 1, outcome: 'delivered', status: 200 })
  store.prune(12 * day)
  assert.deepEqual(
    store.queryEvents().map((e) => e.message),
    ['recent'],
  )
  assert.deepEqual(store.queryDeliveries(), [])
})

test('instance records are upserted, listed in first-insert order, and removed', (t) => {
  const path = join(tempDir(t), 'tide.db')
  const rec = (id: string, status: InstanceRecord['status']): InstanceRecord => ({
    id,
    group: 'web',
    status,
    size: { cpu: 1, memoryMiB: 512 },
    launchedAtMs: 1000,
    address: { host: '127.0.0.1', port: 4000 },
    meta: { pid: '123' },
  })
  const a = SqliteStore.open(path)
  a.upsertInstance(rec('i-1', 'starting'))
  a.upsertInstance(rec('i-2', 'running'))
  a.upsertInstance(rec('i-1', 'running'))
  a.upsertInstance({ ...rec('i-9', 'running'), group: 'api' })
  a.close()
  const b = SqliteStore.open(path)
  t.after(() => { b.close(); })
  assert.deepEqual(b.listInstances('web'), [rec('i-1', 'running'), rec('i-2', 'running')])
  b.removeInstance('web', 'i-1')
  b.removeInstance('web', 'absent')
  assert.deepEqual(
    b.listInstances('web').map((r) => r.id),
    ['i-2'],
  )
  assert.equal(b.listInstances('api').length, 1)
})

test('delivery attempts are recorded and queried newest first', (t) => {
  const store = SqliteStore.open(':memory:')
  t.after(() => { store.close(); })
  store.recordDelivery({ deliveryId: 'd1', atMs: 10, group: 'web', alert: 'scaled', eventType: 'decision', url: 'http://127.0.0.1/h', attempt: 1, outcome: 'retrying', status: 500, error: 'HTTP 500' })
  store.recordDelivery({ deliveryId: 'd1', atMs: 20, group: 'web', alert: 'scaled', eventType: 'decision', url: 'http://127.0.0.1/h', attempt: 2, outcome: 'delivered', status: 200 })
  store.recordDelivery({ deliveryId: 'd2', atMs: 30, group: 'api', alert: 'at-max-capacity', eventType: 'at-max-capacity', url: 'http://127.0.0.1/h', attempt: 1, outcome: 'delivered', status: 204 })
  assert.deepEqual(
    store.queryDeliveries({ deliveryId: 'd1' }).map((d) => [d.attempt, d.outcome, d.status, d.error]),
    [
      [2, 'delivered', 200, undefined],
      [1, 'retrying', 500, 'HTTP 500'],
    ],
  )
  assert.deepEqual(
    store.queryDeliveries({ group: 'api' }).map((d) => d.deliveryId),
    ['d2'],
  )
})

test('as the controller store and event log: a restarted controller continues from the saved state', async (t) => {
  const path = join(tempDir(t), 'tide.db')
  const T0 = Date.parse('2026-11-11T00:00:00Z')
  const clock = new ManualClock(T0)
  const provider = new FakeProvider(clock)
  const spec = GroupSchema.parse({ group: 'shop-web', provider: 'sim', replicas: { min: 2, max: 10 }, warmupSeconds: 0, metrics: [{ type: 'cpu', target: { averageUtilization: 60 } }] })
  let cpuRatio = 0.6
  const metrics: MetricsSource = {
    // An instantaneous cpu reading at the read's time, which the HPA's cpu rule counts once an instance is ready.
    read: (_s, instances, nowMs) => ({ atMs: nowMs, instances: new Map(instances.map((i) => [i.id, { cpuRatio, cpuAtMs: nowMs, cpuWindowMs: 0 }])), group: {} }),
  }
  const first = SqliteStore.open(path, { lock: true })
  const c1 = new Controller({ groups: [spec], backend: sameBackend({ provider, signals: metrics }), clock, store: first, events: first })
  await c1.reconcileOnce()
  for (const r of provider.instances.values()) if (r.status === 'starting') provider.markRunning(r.id)
  clock.advance(15_000)
  cpuRatio = 0.9
  await c1.reconcileOnce()
  const saved = first.loadGroupState('shop-web')
  assert.ok(saved)
  assert.ok(saved.desiredReplicas > 2, `scaled out, desired ${saved.desiredReplicas}`)
  const status = c1.status('shop-web')
  assert.ok(status)
  first.close()

  const second = SqliteStore.open(path, { lock: true })
  t.after(() => { second.close(); })
  assert.deepEqual(second.loadGroupState('shop-web'), saved)
  assert.deepEqual(second.loadGroupStatus('shop-web'), status, "the last tick's status, for a restarted tide or `tide status`")
  const scale = second.queryEvents({ types: ['decision'] }).find((e) => e.decision?.kind === 'scale' && e.decision.to === saved.desiredReplicas)
  assert.ok(scale, 'the scale decision is in the log')
  assert.equal(scale.message, scale.decision?.explanation)
  const c2 = new Controller({ groups: [spec], backend: sameBackend({ provider, signals: metrics }), clock, store: second, events: second })
  const launchedBefore = provider.instances.size
  clock.advance(1000)
  await c2.reconcileOnce()
  assert.equal(provider.instances.size, launchedBefore, 'nothing launched twice after the restart')
})

test('a writer killed with SIGKILL mid-stream leaves no half-applied transaction', async (t) => {
  const path = join(tempDir(t), 'tide.db')
  SqliteStore.open(path).close()
  const writer = await startFixture(t, 'writer', [path])
  writer.proc.kill('SIGKILL')
  await once(writer.proc, 'exit')
  const store = SqliteStore.open(path)
  t.after(() => { store.close(); })
  assert.equal(store.database.pragma('quick_check', { simple: true }), 'ok')
  const events = store.database.prepare('SELECT COUNT(*) FROM events').pluck().get() as number
  // The writer sets desiredReplicas to the event count in the same transaction.
  assert.ok(events >= 20)
  assert.equal(store.loadGroupState('counter')?.desiredReplicas, events)
})

// The store contract every kind of store keeps (test/store/tide-store.contract.ts), here on a file.
storeContract('sqlite', {
  fresh() {
    const dir = mkdtempSync(join(tmpdir(), 'tide-contract-'))
    const path = join(dir, 'tide.db')
    process.once('exit', () => {
      rmSync(dir, { recursive: true, force: true })
    })
    return Promise.resolve({ store: SqliteStore.open(path), reopen: () => Promise.resolve(SqliteStore.open(path)) })
  },
})
