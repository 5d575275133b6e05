import { test } from 'node:test'
import assert from 'node:assert/strict'
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runBackup } from '../../src/runtime/local-drainer.ts'

test('runBackup runs in the given folder: ./flush.sh is found there, and its relative paths are there', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tide-backup-'))
  try {
    writeFileSync(join(dir, 'flush.sh'), '#!/bin/sh\npwd > flushed.txt\necho "$TIDE_INSTANCE_ID" >> flushed.txt\n')
    chmodSync(join(dir, 'flush.sh'), 0o755)
    const r = await runBackup(['./flush.sh'], { TIDE_INSTANCE_ID: 'web-1' }, 5000, dir)
    assert.deepEqual(r, { ok: true, detail: 'succeeded' })
    assert.equal(readFileSync(join(dir, 'flushed.txt'), 'utf8'), `${dir}\nweb-1\n`)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('runBackup reports a missing program, a failure with its stderr, and a timeout', async () => {
  const missing = await runBackup(['./nope.sh'], {}, 5000, tmpdir())
  assert.equal(missing.ok, false)
  assert.match(missing.detail, /ENOENT/)
  const failing = await runBackup([process.execPath, '-e', "console.error('disk full'); process.exit(4)"], {}, 5000)
  assert.deepEqual(failing, { ok: false, detail: 'failed (4): disk full' })
  const slow = await runBackup([process.execPath, '-e', 'setTimeout(() => {}, 10000)'], {}, 200)
  assert.deepEqual(slow, { ok: false, detail: 'timed out after 200 ms' })
})
