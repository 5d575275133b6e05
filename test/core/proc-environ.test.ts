import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { parseEnviron, processesWithEnv } from '../../src/core/proc-environ.ts'

test('parseEnviron reads NUL-separated NAME=value entries; a value may hold = and be empty', () => {
  assert.deepEqual(parseEnviron('A=1\0B=x=y\0EMPTY=\0NOEQUALS\0\0'), { A: '1', B: 'x=y', EMPTY: '' })
  assert.deepEqual(parseEnviron(''), {})
})

test('processesWithEnv finds a live process by its environment, and only the ones whose every variable matches', { skip: process.platform !== 'linux' && 'reads /proc' }, async () => {
  const mark = `proc-environ-${String(process.pid)}-${String(Date.now())}`
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30_000)'], { env: { ...process.env, TIDE_TEST_MARK: mark, TIDE_TEST_ROLE: 'a' }, stdio: 'ignore' })
  try {
    await new Promise((resolve) => child.once('spawn', resolve))
    const found = processesWithEnv({ TIDE_TEST_MARK: mark })
    assert.deepEqual(found.map((p) => p.pid), [child.pid])
    assert.equal(found[0]?.env.TIDE_TEST_ROLE, 'a')
    assert.deepEqual(processesWithEnv({ TIDE_TEST_MARK: mark, TIDE_TEST_ROLE: 'b' }), [], 'every variable must match')
    assert.deepEqual(processesWithEnv({ TIDE_TEST_MARK: `${mark}-other` }), [])
  } finally {
    child.kill('SIGKILL')
  }
})

test('processesWithEnv skips what it cannot read and a missing /proc', (t) => {
  const root = mkdtempSync(join(tmpdir(), 'tide-proc-'))
  t.after(() => {
    rmSync(root, { recursive: true, force: true })
  })
  mkdirSync(join(root, '12'))
  writeFileSync(join(root, '12', 'environ'), 'X=1\0')
  mkdirSync(join(root, '13')) // no environ: gone meanwhile, or another user's
  mkdirSync(join(root, 'self'))
  assert.deepEqual(processesWithEnv({ X: '1' }, root), [{ pid: 12, env: { X: '1' } }])
  assert.deepEqual(processesWithEnv({ X: '1' }, join(root, 'missing')), [])
})
