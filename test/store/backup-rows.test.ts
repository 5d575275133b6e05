import { test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { malformedRows } from '../../src/store/backup-rows.ts'
import { SqliteStore } from '../../src/store/sqlite-store.ts'
import { tempDir } from './temp-dir.ts'

const T = Date.UTC(2026, 10, 11)

function filledStore(path: string): void {
  const store = SqliteStore.open(path)
  store.saveGroupState('web', { desiredReplicas: 2, size: { cpu: 1, memoryMiB: 512 }, history: { recommendations: [{ atMs: T, replicas: 2 }], scaleUpEvents: [{ atMs: T, delta: 1 }], scaleDownEvents: [], stepFiredAtMs: { 0: T } }, drainingIds: ['i-1'], protectedIds: [] })
  store.saveGroupStatus('web', { group: 'web', atMs: T })
  store.append({ atMs: T, group: 'web', type: 'launch', message: 'launched i-1', instanceId: 'i-1' })
  store.upsertInstance({ id: 'i-1', group: 'web', status: 'running', size: { cpu: 1, memoryMiB: 512 }, launchedAtMs: T, address: { host: '127.0.0.1', port: 8081 }, meta: { pid: '5' } })
  store.recordMetric('web', 'rps', T, 10)
  store.close()
}

test('every row tide writes passes; an empty store has nothing to report', (t) => {
  const dir = tempDir(t)
  const path = join(dir, 'tide.db')
  filledStore(path)
  const db = new Database(path, { readonly: true })
  t.after(() => db.close())
  assert.deepEqual(malformedRows(db), [])
  const empty = new Database(':memory:')
  assert.deepEqual(malformedRows(empty), [], 'tables a store lacks are skipped')
  empty.close()
})

test('a malformed row is named by table, key and field', (t) => {
  const dir = tempDir(t)
  const path = join(dir, 'tide.db')
  filledStore(path)
  const db = new Database(path)
  t.after(() => db.close())
  db.exec(`UPDATE group_status SET status_json = '{"group":"web"}'`)
  db.exec(`UPDATE group_state SET protected_json = 'null'`)
  const [state, status, ...rest] = malformedRows(db)
  assert.match(state ?? '', /^group_state row "web": protected_json: .*expected array/)
  assert.match(status ?? '', /^group_status row "web": status_json: atMs: .*expected number/)
  assert.deepEqual(rest, [])
})
