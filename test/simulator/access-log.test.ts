import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { gzipSync } from 'node:zlib'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { AccessLogError, MAX_ACCESS_LOG_LINE, accessLogSeconds, accessLogTraceCsv, countAccessLog, readAccessLog } from '../../src/simulator/access-log.ts'
import { parseTrace, traceDurationSeconds } from '../../src/core/trace.ts'

// Examples from the Apache httpd log documentation (Common and Combined Log Format).
const common = '127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326'
const combined = `${common} "http://www.example.com/start.html" "Mozilla/4.08 [en] (Win98; I ;Nav)"`

const timeCases = [
  // 13:55:36 at -07:00 is 20:55:36 UTC
  { name: 'common format, negative offset', line: common, want: Date.UTC(2000, 9, 10, 20, 55, 36) / 1000 },
  { name: 'combined format', line: combined, want: Date.UTC(2000, 9, 10, 20, 55, 36) / 1000 },
  {
    name: 'nginx combined with an escaped quote and a trailing request time',
    line: '10.0.0.1 - - [11/Nov/2026:12:00:00 +0800] "GET /a?q=\\"x\\" HTTP/1.1" 503 - "-" "curl/8" 0.012',
    // 12:00 at +08:00 is 04:00 UTC
    want: Date.UTC(2026, 10, 11, 4, 0, 0) / 1000,
  },
  { name: 'not a log line', line: 'hello world', want: undefined },
  { name: 'an impossible date', line: common.replace('10/Oct', '31/Feb'), want: undefined },
  { name: 'an unknown month', line: common.replace('Oct', 'Okt'), want: undefined },
  { name: 'a missing status', line: '1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.0"', want: undefined },
] as const
for (const c of timeCases) {
  test(`accessLogSeconds: ${c.name}`, () => {
    assert.equal(accessLogSeconds(c.line), c.want)
  })
}

/** A log line at second `s` after 2026-11-11T00:00:00Z. */
function lineAt(s: number): string {
  const d = new Date(Date.UTC(2026, 10, 11) + s * 1000)
  const hh = String(d.getUTCHours()).padStart(2, '0')
  const mm = String(d.getUTCMinutes()).padStart(2, '0')
  const ss = String(d.getUTCSeconds()).padStart(2, '0')
  return `1.2.3.4 - - [${String(d.getUTCDate()).padStart(2, '0')}/Nov/2026:${hh}:${mm}:${ss} +0000] "GET / HTTP/1.1" 200 12`
}

test('counts per second, fills gaps with 0 rows, tolerates out-of-order lines', () => {
  const seconds = [0, 0, 1, 0, 4, 4, 4] // second 0 ×3, 1 ×1, 2–3 none, 4 ×3
  const counts = countAccessLog(seconds.map(lineAt).join('\n'), 'a.log', { stepSeconds: 1, skipBad: false })
  assert.deepEqual([...counts.counts], [3, 1, 0, 0, 3])
  assert.equal(counts.requests, 7)
  assert.equal(counts.startMs, Date.UTC(2026, 10, 11))
  assert.equal(accessLogTraceCsv(counts), 'seconds,rps\n0,3\n1,1\n2,0\n3,0\n4,3\n')
})

test('a step of 10 s divides counts by 10 and aligns to the step', () => {
  const seconds = [5, 12, 13, 19, 25]
  const counts = countAccessLog(seconds.map(lineAt).join('\n'), 'a.log', { stepSeconds: 10, skipBad: false })
  // buckets [0,10): 1, [10,20): 3, [20,30): 1
  assert.deepEqual([...counts.counts], [1, 3, 1])
  assert.equal(accessLogTraceCsv(counts), 'seconds,rps\n0,0.1\n10,0.3\n20,0.1\n')
})

test('the CSV is a trace that parseTrace reads back with the same request total', () => {
  const seconds = Array.from({ length: 300 }, (_, i) => (i * 7) % 120)
  const counts = countAccessLog(seconds.map(lineAt).join('\n'), 'a.log', { stepSeconds: 5, skipBad: false })
  const trace = parseTrace(accessLogTraceCsv(counts), 'a.csv')
  const total = trace.rps.reduce((sum, r) => sum + r * 5, 0)
  assert.equal(Math.round(total), seconds.length)
  assert.equal(traceDurationSeconds(trace), 120)
})

test('a malformed line is an error with its line number', () => {
  const text = [lineAt(0), '', 'garbage here', lineAt(1)].join('\n')
  assert.throws(
    () => countAccessLog(text, 'a.log', { stepSeconds: 1, skipBad: false }),
    (err: unknown) => err instanceof AccessLogError && err.line === 3 && err.message.startsWith('a.log:3: not a common or combined log line: "garbage here"'),
  )
})

test('skipBad counts malformed lines and keeps the rest', () => {
  const text = [lineAt(0), 'garbage', lineAt(1), 'more garbage'].join('\n')
  const counts = countAccessLog(text, 'a.log', { stepSeconds: 1, skipBad: true })
  assert.equal(counts.skipped, 2)
  assert.equal(counts.firstSkippedLine, 2)
  assert.deepEqual([...counts.counts], [1, 1])
})

test('a log without requests is an error', () => {
  assert.throws(() => countAccessLog('', 'e.log', { stepSeconds: 1, skipBad: false }), /e\.log: no requests found: the log is empty/)
  assert.throws(() => countAccessLog('x\ny\n', 'e.log', { stepSeconds: 1, skipBad: true }), /all 2 non-blank lines were malformed/)
})

test('readAccessLog streams plain and gzip files alike', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tide-access-'))
  const text = [0, 1, 1, 3].map(lineAt).join('\n') + '\n'
  writeFileSync(join(dir, 'a.log'), text)
  writeFileSync(join(dir, 'a.log.gz'), gzipSync(text))
  for (const name of ['a.log', 'a.log.gz']) {
    const counts = await readAccessLog(join(dir, name), { stepSeconds: 1, skipBad: false })
    assert.deepEqual([...counts.counts], [1, 2, 0, 1], name)
  }
})

test('readAccessLog names a missing file', async () => {
  await assert.rejects(readAccessLog('/nonexistent/a.log', { stepSeconds: 1, skipBad: false }), /cannot read \/nonexistent\/a\.log: ENOENT/)
})

// ── hostile logs (issue 13): each refused with its file and line, in bounded time and memory ──

test('a 100 MB line is refused with its file and line, without being held whole', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tide-access-'))
  t.after(() => { rmSync(dir, { recursive: true, force: true }); })
  const file = join(dir, 'huge.log')
  writeFileSync(file, `${common}\n${'"'.repeat(100 * 1024 * 1024)}\n${common}\n`)
  const before = process.memoryUsage().rss
  await assert.rejects(readAccessLog(file, { stepSeconds: 1, skipBad: false }), (err: AccessLogError) => {
    assert.equal(err.code, 'TIDE_ERR_ACCESS_LOG')
    assert.equal(err.line, 2)
    assert.match(err.message, /huge\.log:2: the line is longer than 65536 characters/)
    return true
  })
  // Held whole, the line alone would take 100 MB (200 MB as a JavaScript string); a generous bound.
  assert.ok(process.memoryUsage().rss - before < 150 * 1024 * 1024)
  // With --skip-bad it is skipped and counted; the lines around it count.
  const counts = await readAccessLog(file, { stepSeconds: 1, skipBad: true })
  assert.equal(counts.requests, 2)
  assert.equal(counts.skipped, 1)
  assert.equal(counts.firstSkippedLine, 2)
})

test('a line longer than the limit given in memory is refused too (countAccessLog)', () => {
  assert.throws(() => countAccessLog(`${common}\n${'x'.repeat(MAX_ACCESS_LOG_LINE + 1)}\n`, 'mem.log', { stepSeconds: 1, skipBad: false }), /mem\.log:2: the line is longer than 65536/)
})

test('two lines two years apart are refused with the span and a step that fits, not a 63-million-row array', () => {
  const early = '1.2.3.4 - - [01/Jan/2024:00:00:00 +0000] "GET / HTTP/1.1" 200 1'
  const late = '1.2.3.4 - - [01/Jan/2026:00:00:00 +0000] "GET / HTTP/1.1" 200 1'
  assert.throws(
    () => countAccessLog(`${early}\n${late}\n`, 'years.log', { stepSeconds: 1, skipBad: false }),
    (err: AccessLogError) => {
      assert.equal(err.code, 'TIDE_ERR_ACCESS_LOG')
      assert.equal(
        err.message,
        'years.log: the requests span 2024-01-01T00:00:00.000Z to 2026-01-01T00:00:00.000Z: 63158401 rows of 1 s, more than the 5000000 a trace may have; use --step 13 or more, or split the log',
      )
      return true
    },
  )
  // The step it names fits.
  assert.ok(countAccessLog(`${early}\n${late}\n`, 'years.log', { stepSeconds: 13, skipBad: false }).counts.length <= 5_000_000)
})

test('the series limit is the option given (maxRows)', () => {
  const a = '1.2.3.4 - - [01/Jan/2024:00:00:00 +0000] "GET / HTTP/1.1" 200 1'
  const b = '1.2.3.4 - - [01/Jan/2024:00:00:10 +0000] "GET / HTTP/1.1" 200 1'
  assert.equal(countAccessLog(`${a}\n${b}\n`, 'x', { stepSeconds: 1, skipBad: false, maxRows: 11 }).counts.length, 11)
  assert.throws(() => countAccessLog(`${a}\n${b}\n`, 'x', { stepSeconds: 1, skipBad: false, maxRows: 10 }), /11 rows of 1 s, more than the 10/)
})
