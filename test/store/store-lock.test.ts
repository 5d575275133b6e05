import assert from 'node:assert/strict'
import { once } from 'node:events'
import { join } from 'node:path'
import { test } from 'node:test'
import { isStoreError } from '../../src/store/errors.ts'
import { SqliteStore } from '../../src/store/sqlite-store.ts'
import { currentHolder, isHolderAlive, processStartTime, readLock } from '../../src/store/store-lock.ts'
import { startFixture } from './child.ts'
import { tempDir } from './temp-dir.ts'

test('a second tide cannot lock a store a live tide holds; a dead one is taken over', async (t) => {
  const path = join(tempDir(t), 'tide.db')
  const other = await startFixture(t, 'hold-lock', [path])
  assert.throws(
    () => SqliteStore.open(path, { lock: true }),
    (err: unknown) => isStoreError(err, 'TIDE_ERR_STORE_LOCKED') && err.message.includes(path) && err.message.includes(String(other.proc.pid)),
  )
  // Reading without the lock is always allowed (the API, `tide backup`).
  SqliteStore.open(path).close()
  other.proc.kill('SIGKILL')
  await once(other.proc, 'exit')
  const store = SqliteStore.open(path, { lock: true })
  assert.equal(readLock(store.database)?.pid, process.pid)
  store.close()
  const after = SqliteStore.open(path)
  t.after(() => { after.close(); })
  assert.equal(readLock(after.database), undefined, 'close releases the lock')
})

const holders = [
  { name: 'this process is alive', holder: () => currentHolder(), alive: true },
  { name: 'a recycled pid (other start time) is not', holder: () => ({ ...currentHolder(), startTime: '1' }), alive: processStartTime(process.pid) === undefined },
  { name: 'another host counts as alive (cannot be checked)', holder: () => ({ pid: 1, hostname: 'elsewhere.invalid' }), alive: true },
] as const
for (const c of holders) {
  test(`lock holder: ${c.name}`, () => {
    assert.equal(isHolderAlive(c.holder()), c.alive)
  })
}
