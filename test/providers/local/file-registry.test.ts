import assert from 'node:assert/strict'
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { isProviderError } from '../../../src/providers/errors.ts'
import { FileInstanceRegistry } from '../../../src/providers/local/file-registry.ts'
import { MemoryInstanceRegistry } from '../../../src/providers/local/instance-registry.ts'
import type { InstanceRegistry, LocalInstanceEntry } from '../../../src/providers/local/instance-registry.ts'

const dir = mkdtempSync(join(tmpdir(), 'tide-registry-'))
after(() => {
  rmSync(dir, { recursive: true, force: true })
})

function entry(id: string, group = 'web', extra: Partial<LocalInstanceEntry> = {}): LocalInstanceEntry {
  return { id, group, pid: 1000, startTime: '12345', port: 40000, size: { cpu: 1, memoryMiB: 256 }, launchedAtMs: 5, logPath: `/x/${id}.log`, ...extra }
}

const registries: { name: string; make: (n: number) => InstanceRegistry }[] = [
  { name: 'file', make: (n) => new FileInstanceRegistry(join(dir, `reg-${n}`, 'sub', 'instances.json')) },
  { name: 'memory', make: () => new MemoryInstanceRegistry() },
]
let n = 0
for (const r of registries) {
  test(`${r.name} registry: put inserts, put replaces by group+id, remove is idempotent, groups are separate`, () => {
    const reg = r.make(n++)
    assert.deepEqual(reg.list('web'), [])
    reg.put(entry('a'))
    reg.put(entry('b'))
    reg.put(entry('a', 'api'))
    reg.put(entry('a', 'web', { readyAtMs: 9 }))
    assert.deepEqual(reg.list('web').map((e) => [e.id, e.readyAtMs]), [['a', 9], ['b', undefined]])
    assert.deepEqual(reg.list('api').map((e) => e.id), ['a'])
    reg.remove('web', 'a')
    reg.remove('web', 'a')
    reg.remove('web', 'never')
    assert.deepEqual(reg.list('web').map((e) => e.id), ['b'])
    assert.deepEqual(reg.list('api').map((e) => e.id), ['a'])
  })
}

test('file registry: a second object over the same file sees every change at once; no temp files left', () => {
  const path = join(dir, 'both', 'instances.json')
  const a = new FileInstanceRegistry(path)
  const b = new FileInstanceRegistry(path)
  a.put(entry('x'))
  assert.deepEqual(b.list('web'), [entry('x')])
  b.remove('web', 'x')
  assert.deepEqual(a.list('web'), [])
  assert.deepEqual(readdirSync(join(dir, 'both')), ['instances.json'])
  assert.deepEqual(JSON.parse(readFileSync(path, 'utf8')), { version: 1, instances: [] })
})

const corrupt = [
  { name: 'not JSON', text: '{"version": 1, "inst', message: /not valid JSON/ },
  { name: 'another version', text: '{"version": 2, "instances": []}', message: /not a version 1 registry/ },
  { name: 'a bad record', text: '{"version": 1, "instances": [{"id": "a"}]}', message: /instances\[0\] is not an instance record/ },
] as const
for (const c of corrupt) {
  test(`file registry: a file that is ${c.name} is a RegistryError naming the file`, () => {
    const path = join(dir, `corrupt-${c.name.replace(/\W/g, '')}.json`)
    writeFileSync(path, c.text)
    const reg = new FileInstanceRegistry(path)
    assert.throws(
      () => reg.list('web'),
      (err: unknown) => isProviderError(err, 'TIDE_ERR_PROVIDER_REGISTRY') && c.message.test(err.message) && err.message.includes(path),
    )
  })
}

test('file registry: an unwritable location is a RegistryError', () => {
  writeFileSync(join(dir, 'a-file'), '')
  const reg = new FileInstanceRegistry(join(dir, 'a-file', 'instances.json')) // a directory under a regular file
  assert.throws(() => {
    reg.put(entry('a'))
  }, (err: unknown) => isProviderError(err, 'TIDE_ERR_PROVIDER_REGISTRY') && err.retryable)
})
