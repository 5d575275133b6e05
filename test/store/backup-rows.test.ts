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
  store.saveOperatorState('web', { pausedSinceMs: T, standby: [{ id: 'i-1', sinceMs: T, decremented: false }] })
  store.saveLearnedState('web', {
    atMs: T,
    startupsMs: [1200, 900],
    crashLoop: { failures: 1, untilMs: T + 1000 },
    usage: { cpuCores: { version: 1, options: { maxValue: 1000, firstBucketSize: 0.01, ratio: 1.05, epsilon: 0.0001 }, halfLifeMs: 86_400_000, referenceMs: 0, buckets: [[3, 1.5]] }, memoryMiB: { version: 1, options: { maxValue: 1048576, firstBucketSize: 10, ratio: 1.05, epsilon: 0.0001 }, halfLifeMs: 86_400_000, referenceMs: 0, buckets: [] }, samples: 4 },
    slo: { days: [{ day: 20_000, measured: 60, violated: 0 }] },
  })
  store.saveOperations('web', [{ id: 'launch-1-0', kind: 'launch', why: 'scale-out', decisionAtMs: T, startedAtMs: T, state: 'pending', count: 2, size: { cpu: 1, memoryMiB: 512 }, instanceIds: [] }])
  store.saveBackupRuns('web', [{ instanceId: 'i-1', state: 'running', startedAtMs: T, pid: 42, startTime: '123', statusFile: '/tmp/x.status' }])
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

test('group records and operator state are checked by kind, naming the field', (t) => {
  const dir = tempDir(t)
  const path = join(dir, 'tide.db')
  filledStore(path)
  const db = new Database(path)
  t.after(() => db.close())
  db.exec(`UPDATE group_records SET record_json = '[{"id":"x","kind":"launch","why":"scale-out","decisionAtMs":1,"startedAtMs":1,"state":"maybe","instanceIds":[]}]' WHERE kind = 'operations'`)
  db.exec(`UPDATE group_records SET record_json = '[{"instanceId":"i-1","state":"running","startedAtMs":1,"statusFile":"","pid":-3}]' WHERE kind = 'backups'`)
  db.exec(`UPDATE group_records SET record_json = '{"atMs":"soon"}' WHERE kind = 'learned'`)
  db.exec(`UPDATE group_operator SET state_json = '{"standby":[{"id":""}]}'`)
  const rows = malformedRows(db)
  assert.equal(rows.length, 4, rows.join('\n'))
  assert.ok(rows.some((r) => /^group_operator row "web": state_json: standby\.0\.id/.test(r)), rows.join('\n'))
  assert.ok(rows.some((r) => /^group_records row "web\/operations": record_json: 0\.state/.test(r)), rows.join('\n'))
  assert.ok(rows.some((r) => /^group_records row "web\/backups": record_json: 0\.statusFile/.test(r)), rows.join('\n'))
  assert.ok(rows.some((r) => /^group_records row "web\/learned": record_json: atMs/.test(r)), rows.join('\n'))
})
