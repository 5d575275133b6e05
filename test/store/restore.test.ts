import assert from 'node:assert/strict'
import { once } from 'node:events'
import { readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import Database from 'better-sqlite3'
import type { StoredGroupState } from '../../src/store/state-store.ts'
import { isStoreError } from '../../src/store/errors.ts'
import { LATEST_SCHEMA_VERSION } from '../../src/store/migrations.ts'
import { restoreStore } from '../../src/store/restore.ts'
import { SqliteStore } from '../../src/store/sqlite-store.ts'
import { readLock } from '../../src/store/store-lock.ts'
import { finish, startFixture } from './child.ts'
import { tempDir } from './temp-dir.ts'

const T = Date.UTC(2026, 10, 11, 12, 0, 0)

function state(desiredReplicas: number): StoredGroupState {
  return { desiredReplicas, size: { cpu: 1, memoryMiB: 512 }, history: { recommendations: [{ atMs: T, replicas: desiredReplicas }], scaleUpEvents: [], scaleDownEvents: [], stepFiredAtMs: {} }, drainingIds: [], protectedIds: [] }
}

/** Everything a store holds that a restore must bring back. */
function snapshot(store: SqliteStore) {
  return {
    groups: store.listGroups().map((g) => [g, store.loadGroupState(g)]),
    events: store.queryEvents({ order: 'asc', limit: 10_000 }),
    rps: store.queryMetric('web', 'rps', T, T + 60_000, 1000),
    instances: store.listInstances('web'),
  }
}

async function storeWithBackup(dir: string) {
  const path = join(dir, 'tide.db')
  const store = SqliteStore.open(path)
  store.saveGroupState('web', state(4))
  for (let s = 0; s < 30; s++) store.recordMetric('web', 'rps', T + s * 1000, 100 + s)
  store.append({ atMs: T, group: 'web', type: 'launch', message: 'launched i-1' })
  store.upsertInstance({ id: 'i-1', group: 'web', status: 'running', size: { cpu: 1, memoryMiB: 512 }, launchedAtMs: T })
  const backupPath = join(dir, 'backup.db')
  await store.backup(backupPath)
  const before = snapshot(store)
  store.close()
  return { path, backupPath, before }
}

test('restore brings back exactly what the backup held', async (t) => {
  const dir = tempDir(t)
  const { path, backupPath, before } = await storeWithBackup(dir)
  const later = SqliteStore.open(path)
  later.saveGroupState('web', state(9))
  later.saveGroupState('api', state(2))
  later.append({ atMs: T + 5000, group: 'web', type: 'terminate', message: 'terminated i-1' })
  later.recordMetric('web', 'rps', T + 40_000, 999)
  later.removeInstance('web', 'i-1')
  later.close()

  const result = await restoreStore(backupPath, path)
  assert.deepEqual(result, { fromVersion: LATEST_SCHEMA_VERSION, toVersion: LATEST_SCHEMA_VERSION })
  const restored = SqliteStore.open(path)
  t.after(() => { restored.close(); })
  assert.deepEqual(snapshot(restored), before)
  assert.deepEqual(
    readdirSync(dir).filter((f) => f.includes('.tmp')),
    [],
    'no temporary file left',
  )
})

test('restore into a path with no store creates it', async (t) => {
  const dir = tempDir(t)
  const { backupPath, before } = await storeWithBackup(dir)
  const fresh = join(dir, 'fresh.db')
  await restoreStore(backupPath, fresh)
  const restored = SqliteStore.open(fresh)
  t.after(() => { restored.close(); })
  assert.deepEqual(snapshot(restored), before)
})

const badBackups = [
  {
    name: 'a text file',
    write: (p: string) => { writeFileSync(p, 'definitely not sqlite\n'.repeat(100)); },
    code: 'TIDE_ERR_STORE_NOT_A_STORE',
  },
  {
    name: 'another SQLite database',
    write: (p: string) => {
      const db = new Database(p)
      db.exec('CREATE TABLE orders (id INTEGER)')
      db.close()
    },
    code: 'TIDE_ERR_STORE_NOT_A_STORE',
  },
  {
    name: 'a store from a newer tide',
    write: (p: string) => {
      const s = SqliteStore.open(p)
      s.database.prepare('INSERT INTO schema_migrations VALUES (?, ?)').run(LATEST_SCHEMA_VERSION + 1, 'future')
      s.close()
    },
    code: 'TIDE_ERR_STORE_VERSION',
  },
] as const
for (const c of badBackups) {
  test(`restore refuses ${c.name} and leaves the store untouched`, async (t) => {
    const dir = tempDir(t)
    const { path, before } = await storeWithBackup(dir)
    const bytes = readFileSync(path)
    const bad = join(dir, 'bad.db')
    c.write(bad)
    await assert.rejects(restoreStore(bad, path), (err: unknown) => isStoreError(err, c.code) && err.message.includes(bad))
    assert.deepEqual(readFileSync(path), bytes)
    const store = SqliteStore.open(path)
    t.after(() => { store.close(); })
    assert.deepEqual(snapshot(store), before)
  })
}

test('restore refuses while a running tide holds the store, and --force overrides', async (t) => {
  const dir = tempDir(t)
  const { path, backupPath, before } = await storeWithBackup(dir)
  const tide = await startFixture(t, 'hold-lock', [path])
  await assert.rejects(restoreStore(backupPath, path), (err: unknown) => isStoreError(err, 'TIDE_ERR_STORE_LOCKED') && err.message.includes(String(tide.proc.pid)) && err.message.includes('--force'))
  const result = await restoreStore(backupPath, path, { force: true })
  assert.equal(result.overriddenHolder?.pid, tide.proc.pid)
  tide.proc.kill('SIGKILL')
  await once(tide.proc, 'exit')
  const restored = SqliteStore.open(path)
  t.after(() => { restored.close(); })
  assert.equal(readLock(restored.database), undefined, 'the restored store is not locked')
  assert.deepEqual(snapshot(restored), before)
})

test('a lock left by a killed tide does not block restore', async (t) => {
  const dir = tempDir(t)
  const { path, backupPath } = await storeWithBackup(dir)
  const tide = await startFixture(t, 'hold-lock', [path])
  tide.proc.kill('SIGKILL')
  await once(tide.proc, 'exit')
  await restoreStore(backupPath, path)
  const restored = SqliteStore.open(path)
  t.after(() => { restored.close(); })
  assert.equal(restored.loadGroupState('web')?.desiredReplicas, 4)
})

test('a tide that stops cleanly releases its lock', async (t) => {
  const dir = tempDir(t)
  const { path, backupPath } = await storeWithBackup(dir)
  const tide = await startFixture(t, 'hold-lock', [path])
  assert.equal(await finish(tide), 0)
  const check = new Database(path, { readonly: true })
  assert.equal(readLock(check), undefined)
  check.close()
  await restoreStore(backupPath, path)
})

/** Corruptions a backup may carry that SQLite's integrity check passes, each with the message it must give. */
const malformed: { name: string; sql: string; want: RegExp }[] = [
  { name: 'history that is not JSON', sql: `UPDATE group_state SET history_json = '{oops'`, want: /group_state row "web": history_json: is not valid JSON/ },
  { name: 'history of the wrong shape', sql: `UPDATE group_state SET history_json = '{"recommendations":5}'`, want: /group_state row "web": history_json: recommendations: / },
  { name: 'a desired count that is text', sql: `UPDATE group_state SET desired_replicas = 'many'`, want: /group_state row "web": desired_replicas: / },
  { name: 'a negative desired count', sql: `UPDATE group_state SET desired_replicas = -3`, want: /group_state row "web": desired_replicas: / },
  { name: 'a size without cpu', sql: `UPDATE group_state SET size_json = '{"memoryMiB":512}'`, want: /group_state row "web": size_json: cpu: / },
  { name: 'draining ids that are numbers', sql: `UPDATE group_state SET draining_json = '[1,2]'`, want: /group_state row "web": draining_json: 0: / },
  { name: 'an instance record without an id', sql: `UPDATE instances SET record_json = '{"group":"web"}'`, want: /instances row "web\/i-1": record_json: id: / },
  { name: 'an event with a text time', sql: `UPDATE events SET at_ms = 'yesterday'`, want: /events row "1": at_ms: / },
  { name: 'a metric sum that is text', sql: `UPDATE metric_seconds SET sum = 'x' WHERE at_s = (SELECT MIN(at_s) FROM metric_seconds)`, want: /metric_seconds row "web\/rps@\d+": sum: / },
  { name: 'a local instance with port 0', sql: `INSERT INTO local_instances VALUES ('web', 'i-9', '{"id":"i-9","group":"web","pid":5,"startTime":"1","port":0,"size":{"cpu":1,"memoryMiB":1},"launchedAtMs":1,"logPath":"/x"}')`, want: /local_instances row "web\/i-9": entry_json: port: / },
]

for (const c of malformed) {
  test(`a backup with ${c.name} is refused, naming the row, and the store is untouched`, async (t) => {
    const dir = tempDir(t)
    const { path, backupPath } = await storeWithBackup(dir)
    const edit = new Database(backupPath)
    edit.exec(c.sql)
    edit.close()
    const storeBefore = readFileSync(path)
    await assert.rejects(restoreStore(backupPath, path), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'TIDE_ERR_STORE_NOT_A_STORE')
      assert.match(err.message, /backup\.db has malformed rows, so nothing was restored:\n {2}/)
      assert.match(err.message, c.want)
      return true
    })
    assert.deepEqual(readFileSync(path), storeBefore)
    assert.deepEqual(readdirSync(dir).filter((f) => f.includes('restore')), [], 'no temporary file left')
  })
}

test('a backup with many malformed rows lists ten and counts the rest', async (t) => {
  const dir = tempDir(t)
  const { path, backupPath } = await storeWithBackup(dir)
  const edit = new Database(backupPath)
  edit.exec(`UPDATE metric_seconds SET sum = 'x'`)
  edit.close()
  await assert.rejects(restoreStore(backupPath, path), /metric_seconds row[^\n]*\n(?:.*\n){9} {2}… and 20 more$/)
})
