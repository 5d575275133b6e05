// Files a user hands tide to read: only regular files, bounded in size, and never a read that
// blocks (a FIFO without a writer) or never ends (a device). Every reader of user files goes
// through src/core/input-file.ts, so each is tried here with a FIFO and a device.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestContext } from 'node:test'
import { openRegularFile, readRegularFile } from '../../src/core/input-file.ts'
import { loadTrace } from '../../src/core/trace.ts'
import { readAccessLog } from '../../src/simulator/access-log.ts'
import { loadConfig } from '../../src/spec/load.ts'
import { runTide } from '../support/run-tide.ts'

function fifo(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'tide-input-'))
  t.after(() => { rmSync(dir, { recursive: true, force: true }); })
  const path = join(dir, 'pipe')
  execFileSync('mkfifo', [path])
  return path
}

const fileErr = (path: string, kind: RegExp) => (err: Error & { code?: string }) => {
  assert.equal(err.code, 'TIDE_ERR_FILE')
  assert.ok(err.message.includes(path), err.message)
  assert.match(err.message, kind)
  return true
}

/** Every reader of a user's file, by what it reads. */
const readers: { name: string; read: (path: string) => unknown }[] = [
  { name: 'readRegularFile', read: (p) => readRegularFile(p, 1024) },
  { name: 'a trace (loadTrace)', read: (p) => loadTrace(p) },
  { name: 'tide.yaml (loadConfig)', read: (p) => loadConfig(p) },
  { name: 'an access log (readAccessLog)', read: (p) => readAccessLog(p, { stepSeconds: 1, skipBad: false }) },
]

for (const r of readers) {
  test(`${r.name} refuses a FIFO at once instead of blocking`, async (t) => {
    const path = fifo(t)
    await assert.rejects(() => Promise.resolve().then(() => r.read(path)), fileErr(path, /it is a FIFO \(named pipe\); tide reads only regular files/))
  })
  test(`${r.name} refuses a character device (/dev/zero never ends)`, async () => {
    await assert.rejects(() => Promise.resolve().then(() => r.read('/dev/zero')), fileErr('/dev/zero', /it is a character device; tide reads only regular files/))
  })
  test(`${r.name} refuses a directory`, async () => {
    await assert.rejects(() => Promise.resolve().then(() => r.read('/tmp')), fileErr('/tmp', /cannot read \/tmp: (it is a directory|EISDIR)/))
  })
}

test('a missing file is FileError with the system reason', () => {
  assert.throws(() => openRegularFile('/nonexistent/x'), fileErr('/nonexistent/x', /ENOENT/))
})

test('readRegularFile refuses a file over its limit before reading it, and reads one at the limit', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tide-input-'))
  t.after(() => { rmSync(dir, { recursive: true, force: true }); })
  const path = join(dir, 'f')
  writeFileSync(path, 'x'.repeat(1025))
  assert.throws(() => readRegularFile(path, 1024), fileErr(path, /it is 1025 bytes, more than the 1024 bytes tide reads/))
  writeFileSync(path, 'é'.repeat(512))
  assert.equal(readRegularFile(path, 1024), 'é'.repeat(512))
})

test('tide load --pattern trace:FIFO exits at once with the error (it used to block forever)', async (t) => {
  const path = fifo(t)
  const r = await runTide(['load', '--url', 'http://127.0.0.1:9/', '--pattern', `trace:${path}`, '--duration', '1'])
  assert.equal(r.status, 1)
  assert.match(r.stderr, /^tide: cannot read .*pipe: it is a FIFO/)
})

test('commands refuse a FIFO given as a file flag or argument', async (t) => {
  const path = fifo(t)
  for (const argv of [
    ['simulate', '--trace', path],
    ['validate', '-c', path],
    ['trace', 'info', path],
    ['trace', 'from-access-log', path],
    ['import', path],
  ]) {
    const r = await runTide(argv)
    assert.notEqual(r.status, 0, argv.join(' '))
    assert.match(r.stderr, /not a regular file|it is a FIFO/, argv.join(' '))
  }
})
