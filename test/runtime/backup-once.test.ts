import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { systemClock } from '../../src/core/clock.ts'
import { BackupRunner } from '../../src/runtime/backup-once.ts'
import { MemoryEventLog } from '../../src/store/events.ts'
import { MemoryStateStore } from '../../src/store/state-store.ts'
import { SqliteStore } from '../../src/store/sqlite-store.ts'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))

function dirFor(t: import('node:test').TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'tide-backup-once-'))
  t.after(() => {
    rmSync(dir, { recursive: true, force: true })
  })
  return dir
}

/** A backup command that appends one line to `count` (each run is counted), then waits `ms`. */
function counting(count: string, ms = 0, exitCode = 0): string[] {
  return [process.execPath, '-e', `require('fs').appendFileSync(${JSON.stringify(count)}, 'run\\n'); setTimeout(() => { if (${exitCode}) { console.error('disk full'); process.exit(${exitCode}) } }, ${ms})`]
}

const runs = (count: string) => (existsSync(count) ? readFileSync(count, 'utf8').split('\n').filter(Boolean).length : 0)

test('a backup runs once: its result is recorded, and asking again for the instance reports it without running it', async (t) => {
  const dir = dirFor(t)
  const count = join(dir, 'count')
  const store = new MemoryStateStore()
  const events = new MemoryEventLog()
  const runner = new BackupRunner({ store, stateDir: dir, events, clock: systemClock, pollMs: 20 })
  const cmd = { argv: counting(count), env: { TIDE_INSTANCE_ID: 'web-1' }, timeoutMs: 10_000 }
  assert.deepEqual(await runner.run('web', 'web-1', cmd), { ok: true, detail: 'succeeded' })
  assert.equal(store.loadBackupRuns('web')[0]?.state, 'done')
  assert.deepEqual(await runner.run('web', 'web-1', cmd), { ok: true, detail: 'succeeded' })
  assert.equal(runs(count), 1, 'ran once')
  assert.match(events.list().at(-1)?.message ?? '', /backup of web-1 already ran \(succeeded\); not run again/)
  // Another instance gets its own run; the gone instance's record is dropped with it.
  await runner.run('web', 'web-2', cmd, new Set(['web-2']))
  assert.equal(runs(count), 2)
  assert.deepEqual(
    store.loadBackupRuns('web').map((r) => r.instanceId),
    ['web-2'],
  )
})

test('a failing, a missing and a slow command: said as runBackup says it, each once', async (t) => {
  const dir = dirFor(t)
  const runner = new BackupRunner({ store: new MemoryStateStore(), stateDir: dir, events: new MemoryEventLog(), clock: systemClock, pollMs: 20 })
  const failing = await runner.run('web', 'a', { argv: counting(join(dir, 'c'), 0, 4), env: {}, timeoutMs: 10_000 })
  assert.deepEqual(failing, { ok: false, detail: 'failed (4): disk full' })
  const missing = await runner.run('web', 'b', { argv: ['./no-such-backup.sh'], env: {}, timeoutMs: 10_000, cwd: dir })
  assert.deepEqual(missing, { ok: false, detail: 'failed (ENOENT)' })
  const slow = await runner.run('web', 'c', { argv: [process.execPath, '-e', 'setTimeout(() => {}, 10000)'], env: {}, timeoutMs: 300 })
  assert.deepEqual(slow, { ok: false, detail: 'timed out after 300 ms' })
})

test('tide killed while the backup runs: the next tide adopts the run still going, waits for its result, never starts a second', async (t) => {
  const dir = dirFor(t)
  const count = join(dir, 'count')
  const storePath = join(dir, 'tide.db')
  SqliteStore.open(storePath).close()
  // A tide that starts the backup (1.5 s long) and is killed at scale-in:backup-running.
  const script = `
    import { BackupRunner } from './src/runtime/backup-once.ts'
    import { SqliteStore } from './src/store/sqlite-store.ts'
    import { MemoryEventLog } from './src/store/events.ts'
    import { systemClock } from './src/core/clock.ts'
    const store = SqliteStore.open(${JSON.stringify(storePath)})
    const runner = new BackupRunner({ store, stateDir: ${JSON.stringify(dir)}, events: new MemoryEventLog(), clock: systemClock })
    await runner.run('web', 'web-1', { argv: ${JSON.stringify(counting(count, 1500))}, env: {}, timeoutMs: 10000 })
    process.stdout.write('not killed\\n')`
  const killed = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT, env: { ...process.env, TIDE_CRASH_AT: 'scale-in:backup-running' }, encoding: 'utf8', timeout: 30_000 })
  assert.equal(killed.signal, 'SIGKILL', killed.stderr)
  assert.equal(killed.stdout, '')
  const store = SqliteStore.open(storePath)
  t.after(() => {
    store.close()
  })
  const [recorded] = store.loadBackupRuns('web')
  assert.equal(recorded?.state, 'running')
  assert.ok(recorded.pid !== undefined && recorded.startTime !== undefined, 'the wrapper recorded with its /proc start time')
  const events = new MemoryEventLog()
  const runner = new BackupRunner({ store, stateDir: dir, events, clock: systemClock, pollMs: 20 })
  const result = await runner.run('web', 'web-1', { argv: counting(count, 1500), env: {}, timeoutMs: 10_000 })
  assert.deepEqual(result, { ok: true, detail: 'succeeded' })
  assert.equal(runs(count), 1, 'the backup ran exactly once')
  assert.match(events.list()[0]?.message ?? '', new RegExp(`adopted the backup of web-1 still running \\(pid ${recorded.pid}\\)`))
  assert.equal(store.loadBackupRuns('web')[0]?.state, 'done')
})

test('a recorded run whose wrapper is gone without a result is a failed backup, not run again; one that never started runs now', async (t) => {
  const dir = dirFor(t)
  const count = join(dir, 'count')
  const store = new MemoryStateStore()
  const events = new MemoryEventLog()
  const runner = new BackupRunner({ store, stateDir: dir, events, clock: systemClock, pollMs: 20 })
  const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' })
  const deadPid = Number(gone.stdout)
  store.saveBackupRuns('web', [
    { instanceId: 'web-1', state: 'running', startedAtMs: 1, pid: deadPid, startTime: '1', statusFile: join(dir, 'web-1.status') },
    { instanceId: 'web-2', state: 'running', startedAtMs: 1, statusFile: join(dir, 'web-2.status') },
    { instanceId: 'web-3', state: 'running', startedAtMs: 1, statusFile: join(dir, 'web-3.status') },
  ])
  writeFileSync(join(dir, 'web-3.status'), JSON.stringify({ ok: true, detail: 'succeeded' }))
  const cmd = { argv: counting(count), env: {}, timeoutMs: 10_000 }
  const r1 = await runner.run('web', 'web-1', cmd)
  assert.equal(r1.ok, false)
  assert.match(r1.detail, /ended without a result .*not run again/)
  assert.equal(runs(count), 0)
  assert.deepEqual(await runner.run('web', 'web-3', cmd), { ok: true, detail: 'succeeded' }, 'finished while tide was down: its result read')
  assert.equal(runs(count), 0)
  assert.deepEqual(await runner.run('web', 'web-2', cmd), { ok: true, detail: 'succeeded' }, 'tide died between the record and the spawn: the first run is now')
  assert.equal(runs(count), 1)
})
