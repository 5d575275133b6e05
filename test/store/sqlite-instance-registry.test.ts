import assert from 'node:assert/strict'
import { join } from 'node:path'
import { test } from 'node:test'
import { isProviderError } from '../../src/providers/errors.ts'
import type { LocalInstanceEntry } from '../../src/providers/local/instance-registry.ts'
import { SqliteInstanceRegistry } from '../../src/store/sqlite-instance-registry.ts'
import { SqliteStore } from '../../src/store/sqlite-store.ts'
import { tempDir } from './temp-dir.ts'

function entry(id: string, over: Partial<LocalInstanceEntry> = {}): LocalInstanceEntry {
  return { id, group: 'web', pid: 4000, startTime: '12345', port: 41000, size: { cpu: 1, memoryMiB: 512 }, launchedAtMs: 1000, logPath: `/tmp/${id}.log`, ...over }
}

test('entries survive a restart, in launch order, with replace and remove', (t) => {
  const path = join(tempDir(t), 'tide.db')
  const a = SqliteStore.open(path)
  const reg = new SqliteInstanceRegistry(a)
  reg.put(entry('i-1'))
  reg.put(entry('i-2', { port: 41001 }))
  reg.put(entry('i-1', { readyAtMs: 3000 }))
  reg.put(entry('i-7', { group: 'api' }))
  a.close()

  const b = SqliteStore.open(path)
  t.after(() => { b.close(); })
  const again = new SqliteInstanceRegistry(b)
  assert.deepEqual(again.list('web'), [entry('i-1', { readyAtMs: 3000 }), entry('i-2', { port: 41001 })])
  again.remove('web', 'i-1')
  again.remove('web', 'never-there')
  assert.deepEqual(
    again.list('web').map((e) => e.id),
    ['i-2'],
  )
  assert.deepEqual(
    again.list('api').map((e) => e.id),
    ['i-7'],
  )
})

test('a closed store raises a retryable RegistryError naming the store', () => {
  const store = SqliteStore.open(':memory:')
  const reg = new SqliteInstanceRegistry(store)
  store.close()
  assert.throws(
    () => { reg.put(entry('i-1')); },
    (err: unknown) => isProviderError(err, 'TIDE_ERR_PROVIDER_REGISTRY') && err.retryable && err.message.includes(':memory:'),
  )
})
