import { test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { MemoryStateStore, type StateStore, type StoredBackupRun, type StoredLearnedState, type StoredOperation } from '../../src/store/state-store.ts'
import { SqliteStore } from '../../src/store/sqlite-store.ts'
import { tempDir } from './temp-dir.ts'

const T = Date.UTC(2026, 10, 11)
const learned: StoredLearnedState = { atMs: T, startupsMs: [1500, 1200], crashLoop: { failures: 2, untilMs: T + 2000 }, lastDecision: { reason: 'MetricAboveTarget' } }
const op: StoredOperation = { id: `launch-${T}-0`, kind: 'launch', why: 'scale-out', decisionAtMs: T, startedAtMs: T, state: 'pending', count: 2, size: { cpu: 1, memoryMiB: 256 }, instanceIds: [] }
const run: StoredBackupRun = { instanceId: 'i-1', state: 'running', startedAtMs: T, pid: 1234, startTime: '98765', statusFile: '/state/backups/web/i-1.status' }

/** The same cases against both implementations of the port: what one keeps, the other keeps too. */
const stores: { name: string; open: (t: import('node:test').TestContext) => { store: StateStore; reopen: () => StateStore } }[] = [
  {
    name: 'MemoryStateStore',
    open: () => {
      const store = new MemoryStateStore()
      return { store, reopen: () => store }
    },
  },
  {
    name: 'SqliteStore',
    open: (t) => {
      const path = join(tempDir(t), 'tide.db')
      const store = SqliteStore.open(path)
      let next: SqliteStore | undefined
      t.after(() => {
        store.close()
        next?.close()
      })
      return {
        store,
        reopen: () => {
          store.close()
          next = SqliteStore.open(path)
          return next
        },
      }
    },
  },
]

for (const s of stores) {
  test(`${s.name}: learned state, operations and backup runs are kept per group and survive a reopen`, (t) => {
    const { store, reopen } = s.open(t)
    assert.equal(store.loadLearnedState('web'), undefined)
    assert.deepEqual(store.loadOperations('web'), [])
    assert.deepEqual(store.loadBackupRuns('web'), [])
    store.saveLearnedState('web', learned)
    store.saveOperations('web', [op])
    store.saveBackupRuns('web', [run])
    store.saveOperations('api', [{ ...op, id: 'other' }])
    const again = reopen()
    assert.deepEqual(again.loadLearnedState('web'), learned)
    assert.deepEqual(again.loadOperations('web'), [op])
    assert.deepEqual(again.loadBackupRuns('web'), [run])
    assert.deepEqual(
      again.loadOperations('api').map((o) => o.id),
      ['other'],
    )
  })

  test(`${s.name}: a saved list is a copy, an empty list removes it, and deleting the group removes every record`, (t) => {
    const { store } = s.open(t)
    const ops = [op]
    store.saveOperations('web', ops)
    ops.push({ ...op, id: 'later' })
    assert.equal(store.loadOperations('web').length, 1, 'changing the caller’s list after saving changes nothing kept')
    store.saveOperations('web', [])
    assert.deepEqual(store.loadOperations('web'), [])
    store.saveOperations('web', [op])
    store.saveBackupRuns('web', [run])
    store.saveLearnedState('web', learned)
    store.saveBackupRuns('api', [run])
    store.deleteGroupState('web')
    assert.deepEqual(store.loadOperations('web'), [])
    assert.deepEqual(store.loadBackupRuns('web'), [])
    assert.equal(store.loadLearnedState('web'), undefined)
    assert.equal(store.loadBackupRuns('api').length, 1, 'another group keeps its own')
  })
}

test('SqliteStore: a record whose JSON is broken is a StoreError naming the group and the record', (t) => {
  const path = join(tempDir(t), 'tide.db')
  const store = SqliteStore.open(path)
  t.after(() => {
    store.close()
  })
  store.saveOperations('web', [op])
  store.database.exec(`UPDATE group_records SET record_json = '{' WHERE kind = 'operations'`)
  assert.throws(() => {
    store.loadOperations('web')
  }, /operations of group 'web' is not valid JSON/)
})
