import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { runCommandLine, type CommandIo } from '../../src/cli/args.ts'
import { command as backup } from '../../src/cli/backup.ts'
import { command as restore } from '../../src/cli/restore.ts'
import { SqliteStore } from '../../src/store/sqlite-store.ts'
import { tempDir } from '../store/temp-dir.ts'

function io(): CommandIo & { out: () => string; err: () => string } {
  let out = ''
  let err = ''
  return {
    stdout: { write: (s: string) => (out += s) },
    stderr: { write: (s: string) => (err += s) },
    env: {},
    out: () => out,
    err: () => err,
  }
}

const table = { backup, restore }

function groupState(desiredReplicas: number) {
  return { desiredReplicas, size: { cpu: 1, memoryMiB: 512 }, history: { recommendations: [], scaleUpEvents: [], scaleDownEvents: [], stepFiredAtMs: {} }, drainingIds: [], protectedIds: [] }
}

test('tide backup then tide restore round-trips the store named by --store', async (t) => {
  const dir = tempDir(t)
  const store = join(dir, 'tide.db')
  const s = SqliteStore.open(store)
  s.saveGroupState('web', groupState(3))
  s.close()
  const copy = join(dir, 'copy.db')
  const b = io()
  assert.equal(await runCommandLine(table, ['backup', copy, '--store', store], b), 0, b.err())
  assert.match(b.out(), /backed up .*tide\.db to .*copy\.db/)

  const later = SqliteStore.open(store)
  later.saveGroupState('web', groupState(8))
  later.close()
  const r = io()
  assert.equal(await runCommandLine(table, ['restore', copy, '--store', store], r), 0, r.err())
  assert.match(r.out(), /restored .*tide\.db from .*copy\.db/)
  const back = SqliteStore.open(store)
  t.after(() => { back.close(); })
  assert.equal(back.loadGroupState('web')?.desiredReplicas, 3)
})

test('the store path comes from global.store.path of -c tide.yaml', async (t) => {
  const dir = tempDir(t)
  const store = join(dir, 'from-config.db')
  SqliteStore.open(store).close()
  const config = join(dir, 'tide.yaml')
  writeFileSync(config, `store: { path: ${JSON.stringify(store)} }\n---\ngroup: web\nprovider: sim\nreplicas: { min: 1, max: 3 }\n`)
  const b = io()
  const code = await runCommandLine(table, ['backup', join(dir, 'copy.db'), '-c', config], b)
  assert.equal(code, 0, b.err())
  assert.ok(b.out().includes(store), b.out())
})

const failures = [
  { name: 'backup of a missing store', argv: (d: string) => ['backup', join(d, 'c.db'), '--store', join(d, 'none.db')], code: 1, err: /cannot open store .*none\.db/ },
  { name: 'backup onto the store itself', argv: (d: string) => ['backup', join(d, 'tide.db'), '--store', join(d, 'tide.db')], code: 2, err: /the store itself/ },
  { name: 'restore of a missing file', argv: (d: string) => ['restore', join(d, 'none.db'), '--store', join(d, 'tide.db')], code: 2, err: /no such file/ },
  { name: 'restore of a file that is not a store', argv: (d: string) => ['restore', join(d, 'notes.txt'), '--store', join(d, 'tide.db')], code: 1, err: /not a tide store/ },
] as const
for (const c of failures) {
  test(`${c.name} fails with a clear message`, async (t) => {
    const dir = tempDir(t)
    SqliteStore.open(join(dir, 'tide.db')).close()
    writeFileSync(join(dir, 'notes.txt'), 'shopping list\n'.repeat(50))
    const x = io()
    assert.equal(await runCommandLine(table, [...c.argv(dir)], x), c.code)
    assert.match(x.err(), c.err)
  })
}

// A PostgreSQL store is backed up with pg_dump: tide refuses rather than half-doing it, and the password stays out of the message.
const postgresCases = [
  { name: 'backup --store URL', argv: ['backup', 'out.db', '--store', 'postgres://tide:Pw-s3cret@127.0.0.1:1/tide'] },
  { name: 'restore --store URL', argv: ['restore', 'in.db', '--store', 'postgres://tide:Pw-s3cret@127.0.0.1:1/tide'] },
] as const
for (const c of postgresCases) {
  test(`tide ${c.name} refuses a PostgreSQL store, naming pg_dump`, async (t) => {
    const dir = tempDir(t)
    writeFileSync(join(dir, 'in.db'), '')
    const out = io()
    const code = await runCommandLine(table, c.argv.map((a) => (a.endsWith('.db') ? join(dir, a) : a)), out)
    assert.notEqual(code, 0)
    assert.match(out.err(), /TIDE_ERR_STORE_UNSUPPORTED|works on a SQLite store file/)
    assert.match(out.err(), /pg_dump/)
    assert.match(out.err(), /postgres:\/\/tide:\*\*\*@127\.0\.0\.1:1\/tide/)
    assert.ok(!out.err().includes('Pw-s3cret'), out.err())
  })
}
