import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { loadTrace, parseTrace, rateAt, rowAt, traceDurationSeconds, traceStats, TraceError } from '../../src/core/trace.ts'
import { isTideError } from '../../src/errors.ts'

// The traces the repository ships (bench/traces, made by its generate.ts): tests read nothing outside the repository.
const tracesDir = fileURLToPath(new URL('../../bench/traces/', import.meta.url))

test('parses seconds from start as a step function', () => {
  const t = parseTrace('seconds,rps\n0,10\n5,20\n10,0\n', 'x.csv')
  assert.deepEqual([...t.seconds], [0, 5, 10])
  assert.deepEqual([...t.rps], [10, 20, 0])
  assert.equal(t.startMs, 0)
  assert.equal(t.name, 'x.csv')
  // median step 5 → the last row holds 10..15
  assert.equal(traceDurationSeconds(t), 15)
})

const rateCases = [
  { name: 'before the start is 0', second: -1, want: 0 },
  { name: 'at the first row', second: 0, want: 10 },
  { name: 'between rows holds the earlier rate', second: 4.99, want: 10 },
  { name: 'exactly at a row takes that row', second: 5, want: 20 },
  { name: 'inside the last step holds the last rate', second: 13, want: 7 },
  { name: 'at the end is 0', second: 15, want: 0 },
  { name: 'after the end is 0', second: 100, want: 0 },
] as const
for (const c of rateCases) {
  test(`rateAt: ${c.name}`, () => {
    const t = parseTrace('t,r\n0,10\n5,20\n10,7\n', 'x.csv')
    assert.equal(rateAt(t, c.second), c.want)
  })
}

test('rowAt returns -1 before the first row and the last row past the end', () => {
  const t = parseTrace('t,r\n0,1\n1,2\n2,3\n', 'x.csv')
  assert.equal(rowAt(t, -0.5), -1)
  assert.equal(rowAt(t, 1.5), 1)
  assert.equal(rowAt(t, 99), 2)
})

test('unix seconds are converted to seconds from the first row', () => {
  const t = parseTrace('time,rps\n1700000000,5\n1700000060,6\n', 'u.csv')
  assert.deepEqual([...t.seconds], [0, 60])
  assert.equal(t.startMs, 1_700_000_000_000)
  assert.equal(traceDurationSeconds(t), 120)
})

test('ISO-8601 timestamps with zones are converted, offsets respected', () => {
  const t = parseTrace('time,rps\n2026-11-11T12:00:00+08:00,5\n2026-11-11T04:00:30Z,6\n', 'iso.csv')
  assert.deepEqual([...t.seconds], [0, 30])
  assert.equal(t.startMs, Date.UTC(2026, 10, 11, 4, 0, 0))
})

const isoForms = [
  { name: 'space instead of T', first: '2026-11-11 12:00:00+08:00' },
  { name: 'offset without colon', first: '2026-11-11T12:00:00+0800' },
  { name: 'minutes only, in UTC', first: '2026-11-11T04:00Z' },
  { name: 'fractional seconds', first: '2026-11-11T04:00:00.000Z' },
] as const
for (const c of isoForms) {
  test(`ISO-8601 form accepted: ${c.name}`, () => {
    const t = parseTrace(`time,rps\n${c.first},1\n2026-11-11T04:01:00Z,2\n`, 'iso.csv')
    assert.equal(t.startMs, Date.UTC(2026, 10, 11, 4, 0, 0))
    assert.deepEqual([...t.seconds], [0, 60])
  })
}

test('CRLF, a BOM, comments, blank lines and extra named columns are accepted', () => {
  const t = parseTrace('\ufeffseconds,rps,note\r\n# a comment\r\n0,1,a\r\n\r\n1,2,b\r\n', 'w.csv')
  assert.deepEqual([...t.rps], [1, 2])
})

test('a single-row trace lasts one second', () => {
  const t = parseTrace('s,r\n0,3\n', 'one.csv')
  assert.equal(traceDurationSeconds(t), 1)
  assert.equal(rateAt(t, 0.5), 3)
})

test('the median step ignores one long gap', () => {
  // steps 1,1,1,100 → median 1; last row at 103 holds until 104
  const t = parseTrace('s,r\n0,1\n1,1\n2,1\n3,1\n103,1\n', 'gap.csv')
  assert.equal(traceDurationSeconds(t), 104)
})

const badCases = [
  { name: 'empty file', text: '', line: 0, match: /empty trace/ },
  { name: 'header only', text: 'seconds,rps\n', line: 0, match: /no rows/ },
  { name: 'missing header', text: '0,1\n1,2\n', line: 1, match: /missing header/ },
  { name: 'one-column header', text: 'seconds\n0\n', line: 1, match: /at least two columns/ },
  { name: 'too few columns', text: 'seconds,rps\n0,1\n1\n', line: 3, match: /expected 2 columns.*found 1/ },
  { name: 'too many columns', text: 'seconds,rps\n0,1,2\n', line: 2, match: /expected 2 columns.*found 3/ },
  { name: 'non-numeric rate', text: 'seconds,rps\n0,abc\n', line: 2, match: /rate "abc" is not a number/ },
  { name: 'NaN rate', text: 'seconds,rps\n0,1\n1,NaN\n', line: 3, match: /rate "NaN" is not a number/ },
  { name: 'infinite rate', text: 'seconds,rps\n0,1e999\n', line: 2, match: /not finite/ },
  { name: 'empty rate', text: 'seconds,rps\n0,\n', line: 2, match: /empty rate/ },
  { name: 'hex time', text: 'seconds,rps\n0x10,1\n', line: 2, match: /neither seconds/ },
  { name: 'negative rate', text: 'seconds,rps\n0,1\n1,-2\n', line: 3, match: /negative rate -2/ },
  { name: 'unsorted time', text: 'seconds,rps\n0,1\n5,1\n3,1\n', line: 4, match: /backwards/ },
  { name: 'duplicate time', text: 'seconds,rps\n0,1\n5,1\n5,2\n', line: 4, match: /duplicate time/ },
  { name: 'timestamp without zone', text: 't,r\n2026-11-11T12:00:00,1\n', line: 2, match: /no time zone/ },
  { name: 'mixed time forms', text: 't,r\n2026-11-11T12:00:00Z,1\n60,1\n', line: 3, match: /not an ISO-8601/ },
  { name: 'an impossible date', text: 't,r\n2026-02-27T00:00:00Z,1\n2026-02-30T00:00:00Z,1\n', line: 3, match: /not an ISO-8601/ },
  { name: 'relative then unix', text: 't,r\n0,1\n1700000000,1\n', line: 3, match: /mixed time forms/ },
] as const
for (const c of badCases) {
  test(`rejects ${c.name} with the line number`, () => {
    assert.throws(
      () => parseTrace(c.text, 'bad.csv'),
      (err: unknown) => {
        assert.ok(err instanceof TraceError, String(err))
        assert.ok(isTideError(err, 'TIDE_ERR_TRACE'))
        assert.equal(err.line, c.line)
        assert.match(err.message, c.match)
        assert.ok(err.message.startsWith(c.line > 0 ? `bad.csv:${c.line}: ` : 'bad.csv: '), err.message)
        return true
      },
    )
  })
}

test('loadTrace names the file when it cannot be read', () => {
  assert.throws(() => loadTrace('/nonexistent/trace.csv'), /cannot read \/nonexistent\/trace\.csv: ENOENT/)
})

/** Independent reading of a trace (times in seconds or ISO-8601 with a zone): rows, last time from the first, median step. */
function expectedOf(text: string): { rows: number; last: number; step: number; sum: number } {
  const rows = text.trim().split('\n').slice(1).map((l) => l.split(',').map((f, i) => (i === 0 && f.includes('T') ? Date.parse(f) / 1000 : Number(f))))
  const times = rows.map((r) => r[0]!)
  const steps = times.slice(1).map((t, i) => t - times[i]!).sort((a, b) => a - b)
  return {
    rows: rows.length,
    last: times[times.length - 1]! - times[0]!,
    step: steps[Math.floor(steps.length / 2)]!,
    sum: rows.reduce((s, r) => s + r[1]!, 0),
  }
}

const shipped = readdirSync(tracesDir).filter((f) => f.endsWith('.csv'))
test('the repository ships traces to parse', () => {
  assert.ok(shipped.length >= 3, `traces in bench/traces: ${shipped.join(', ')}`)
})
for (const file of shipped) {
  test(`parses the shipped trace ${file}`, () => {
    const path = join(tracesDir, file)
    const want = expectedOf(readFileSync(path, 'utf8'))
    const t = loadTrace(path)
    assert.equal(t.seconds.length, want.rows)
    assert.equal(t.seconds[t.seconds.length - 1], want.last)
    assert.equal(traceDurationSeconds(t), want.last + want.step)
    assert.equal(t.rps.reduce((s, r) => s + r, 0), want.sum)
  })
}

test('a million rows parse, and every row is kept', () => {
  const n = 1_000_000
  const lines = ['seconds,rps']
  for (let i = 0; i < n; i++) lines.push(`${i},${i % 97}`)
  const t = parseTrace(lines.join('\n'), 'big.csv')
  assert.equal(t.seconds.length, n)
  assert.equal(rateAt(t, 999_999.5), 999_999 % 97)
  assert.equal(traceDurationSeconds(t), n)
})

test('traceStats integrates the step function', () => {
  // rows at 0, 10, 20 (step 10, so the end is 30): 5 req/s for 10 s, 20 for 10 s, 2 for 10 s
  const s = traceStats(parseTrace('s,r\n0,5\n10,20\n20,2\n', 'x.csv'))
  assert.deepEqual(s, {
    rows: 3,
    durationSeconds: 30,
    stepSeconds: 10,
    minRps: 2,
    maxRps: 20,
    peakSecond: 10,
    totalRequests: 50 + 200 + 20,
    meanRps: 270 / 30,
  })
})

test('traceStats of a per-second trace: total equals the sum of the rates', () => {
  // 105 minutes a second at a time, as a recorded web log counted per second: a slow drift, then a surge to ×10.
  const lines = ['seconds,rps']
  for (let i = 0; i < 6300; i++) lines.push(`${i},${(i < 4000 ? 9 + (i % 7) : 90 + (i % 13)) + (i % 3) * 0.5}`)
  const text = lines.join('\n') + '\n'
  const want = expectedOf(text)
  assert.equal(want.step, 1)
  const s = traceStats(parseTrace(text, 'per-second.csv'))
  assert.equal(s.totalRequests, want.sum)
  assert.equal(s.rows, want.rows)
  assert.equal(s.durationSeconds, 6300)
})

test('a trace with more rows than the limit is refused at the first row too many, naming it', () => {
  const rows = Array.from({ length: 11 }, (_, i) => `${i},1`).join('\n')
  assert.equal(parseTrace(`seconds,rps\n${rows}\n`, 't.csv', { maxRows: 11 }).seconds.length, 11)
  assert.throws(
    () => parseTrace(`seconds,rps\n${rows}\n`, 't.csv', { maxRows: 10 }),
    (err: TraceError) => err.code === 'TIDE_ERR_TRACE' && err.line === 12 && /^t\.csv:12: more than 10 rows/.test(err.message),
  )
})
