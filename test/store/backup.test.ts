import assert from 'node:assert/strict'
import { existsSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import Database from 'better-sqlite3'
import { backupStoreFile } from '../../src/store/backup.ts'
import { isStoreError } from '../../src/store/errors.ts'
import { TIDE_APPLICATION_ID } from '../../src/store/migrations.ts'
import { SqliteStore } from '../../src/store/sqlite-store.ts'
import { readLock } from '../../src/store/store-lock.ts'
import { restoreStore } from '../../src/store/restore.ts'
import { finish, startFixture } from './child.ts'
import { tempDir } from './temp-dir.ts'

test('a backup taken while another process writes is one consistent snapshot', async (t) => {
  const dir = tempDir(t)
  const path = join(dir, 'tide.db')
  SqliteStore.open(path).close()
  const writer = await startFixture(t, 'writer', [path])
  const counts: number[] = []
  for (let i = 0; i < 3; i++) {
    const dest = join(dir, `backup-${i}.db`)
    await backupStoreFile(path, dest)
    const copy = new Database(dest, { readonly: true })
    try {
      assert.equal(copy.pragma('quick_check', { simple: true }), 'ok')
      const events = copy.prepare('SELECT COUNT(*) FROM events').pluck().get() as number
      const desired = copy.prepare(`SELECT desired_replicas FROM group_state WHERE group_name = 'counter'`).pluck().get() as number
      // The writer sets desired_replicas to the event count in the same transaction.
      assert.equal(desired, events, `backup ${i}: group state and event log from one moment`)
      assert.ok(events >= 20, `backup ${i} holds the writer's first commits`)
      counts.push(events)
    } finally {
      copy.close()
    }
  }
  assert.equal(await finish(writer), 0)
  const total = Number(/done (\d+)/.exec(writer.output)?.[1])
  assert.ok(counts.every((c) => c <= total))
  assert.deepEqual(
    counts,
    [...counts].sort((a, b) => a - b),
    'later backups never go back in time',
  )
  // Restore the last backup over the store the writer left, and compare.
  await restoreStore(join(dir, 'backup-2.db'), path)
  const restored = SqliteStore.open(path)
  t.after(() => { restored.close(); })
  assert.equal(restored.loadGroupState('counter')?.desiredReplicas, counts[2])
  assert.equal(restored.database.prepare('SELECT COUNT(*) FROM events').pluck().get(), counts[2])
})

test('the backup of a locked store carries no lock and no WAL', async (t) => {
  const dir = tempDir(t)
  const path = join(dir, 'tide.db')
  const store = SqliteStore.open(path, { lock: true })
  t.after(() => { store.close(); })
  store.saveGroupState('web', { desiredReplicas: 3, size: { cpu: 1, memoryMiB: 512 }, history: { recommendations: [], scaleUpEvents: [], scaleDownEvents: [], stepFiredAtMs: {} }, drainingIds: [], protectedIds: [] })
  assert.ok(readLock(store.database), 'the live store is locked')
  const dest = join(dir, 'copy.db')
  const result = await store.backup(dest)
  assert.equal(result.path, dest)
  assert.ok(result.pages > 0)
  const copy = new Database(dest, { readonly: true })
  t.after(() => copy.close())
  assert.equal(readLock(copy), undefined)
  assert.equal(copy.pragma('journal_mode', { simple: true }), 'delete')
  assert.equal(copy.pragma('application_id', { simple: true }), TIDE_APPLICATION_ID)
  assert.equal(copy.prepare(`SELECT desired_replicas FROM group_state WHERE group_name = 'web'`).pluck().get(), 3)
  assert.deepEqual(
    readdirSync(dir).filter((f) => f.includes('.tmp')),
    [],
    'no temporary file left',
  )
})

test('an in-memory store can be backed up to a file', async (t) => {
  const dir = tempDir(t)
  const store = SqliteStore.open(':memory:')
  t.after(() => { store.close(); })
  store.append({ atMs: 1, group: 'web', type: 'launch', message: 'launched' })
  await store.backup(join(dir, 'mem.db'))
  const back = SqliteStore.open(join(dir, 'mem.db'))
  t.after(() => { back.close(); })
  assert.deepEqual(
    back.queryEvents().map((e) => e.message),
    ['launched'],
  )
})

test('backing up a file that is not a tide store fails and writes nothing', async (t) => {
  const dir = tempDir(t)
  const foreign = join(dir, 'foreign.db')
  const raw = new Database(foreign)
  raw.exec('CREATE TABLE customers (id INTEGER)')
  raw.close()
  const dest = join(dir, 'copy.db')
  await assert.rejects(backupStoreFile(foreign, dest), (err: unknown) => isStoreError(err, 'TIDE_ERR_STORE_NOT_A_STORE') && err.message.includes(foreign))
  writeFileSync(join(dir, 'text.db'), 'not sqlite at all, just text\n'.repeat(100))
  await assert.rejects(backupStoreFile(join(dir, 'text.db'), dest), (err: unknown) => isStoreError(err, 'TIDE_ERR_STORE_NOT_A_STORE'))
  await assert.rejects(backupStoreFile(join(dir, 'missing.db'), dest), (err: unknown) => isStoreError(err, 'TIDE_ERR_STORE_IO') && err.message.includes('missing.db'))
  assert.equal(existsSync(dest), false)
})
