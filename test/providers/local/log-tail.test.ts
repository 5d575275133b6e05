import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { logTail } from '../../../src/providers/local/log-tail.ts'

const dir = mkdtempSync(join(tmpdir(), 'tide-logtail-'))
test.after(() => {
  rmSync(dir, { recursive: true, force: true })
})

const lines = (n: number, prefix = 'line'): string => Array.from({ length: n }, (_, i) => `${prefix} ${i + 1}`).join('\n') + '\n'

const cases = [
  { name: 'a short log, whole, blank lines left out', text: 'starting\n\nlistening\n', want: 'starting\nlistening' },
  { name: 'the last 10 lines of a long one', text: lines(25), want: lines(25).trim().split('\n').slice(-10).join('\n') },
  { name: 'CRLF line ends', text: 'a\r\nb\r\n', want: 'a\nb' },
  {
    name: 'a stack trace longer than the tail keeps the error line on top',
    text: `node:internal/modules/cjs/loader:1228\nError: Cannot find module '/tmp/x/server.js'\n${lines(12, '    at frame')}Node.js v20.20.2\n`,
    want: ["Error: Cannot find module '/tmp/x/server.js'", '…', ...lines(12, '    at frame').trim().split('\n').slice(-7), 'Node.js v20.20.2'].join('\n'),
  },
  { name: 'a very long line is cut', text: `${'x'.repeat(500)}\n`, want: `${'x'.repeat(239)}…` },
  { name: 'an empty log', text: '', want: '' },
] as const
for (const c of cases) {
  test(`logTail: ${c.name}`, () => {
    const path = join(dir, `${c.name.replace(/\W+/g, '-')}.log`)
    writeFileSync(path, c.text)
    assert.equal(logTail(path), c.want)
  })
}

test('logTail: a missing file is empty, not an error', () => {
  assert.equal(logTail(join(dir, 'absent.log')), '')
})

test('logTail: reads only the end of a big file; the cut first line is dropped', () => {
  const path = join(dir, 'big.log')
  writeFileSync(path, `${'y'.repeat(1_000_000)}\nlast words\n`)
  assert.equal(logTail(path, 10, 100), 'last words')
})
