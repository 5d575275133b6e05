/**
 * Fuzzing the access-log reader with fast-check: binary garbage, random text, log-shaped lines
 * with random fields (dates, offsets, quotes and escapes), in memory (countAccessLog) and
 * streamed from files, plain and gzip (readAccessLog, with random chunking of line ends). Each
 * gives counts or an AccessLogError naming the file (a FileError for a broken gzip), never another
 * exception, in bounded time. Fixed seed.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import fc from 'fast-check'
import { isTideError } from '../../src/errors.ts'
import { AccessLogError, countAccessLog, readAccessLog, type AccessLogCounts } from '../../src/simulator/access-log.ts'

const SEED = 1315
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec', 'Foo', 'jan']

const quoted = fc.string({ maxLength: 30 }).map((s) => `"${s.replace(/"/g, '\\"')}"`)
const logLine = fc
  .record({
    host: fc.constantFrom('127.0.0.1', '-', '::1', 'a b'),
    day: fc.integer({ min: 0, max: 39 }),
    month: fc.constantFrom(...MONTHS),
    year: fc.oneof(fc.integer({ min: 1990, max: 2030 }), fc.integer({ min: 0, max: 9999 })),
    hh: fc.integer({ min: 0, max: 29 }),
    mm: fc.integer({ min: 0, max: 65 }),
    ss: fc.integer({ min: 0, max: 65 }),
    sign: fc.constantFrom('+', '-', '~'),
    offset: fc.integer({ min: 0, max: 2400 }),
    request: fc.oneof(quoted, fc.constant('"GET / HTTP/1.1"'), fc.string({ maxLength: 10 })),
    status: fc.oneof(fc.integer({ min: 100, max: 599 }).map(String), fc.constantFrom('-', '2000', 'ok')),
    bytes: fc.oneof(fc.nat().map(String), fc.constant('-')),
    rest: fc.oneof(fc.constant(''), quoted.map((q) => ` ${q} ${q}`), fc.string({ maxLength: 20 })),
  })
  .map((l) => {
    const p2 = (n: number) => String(n).padStart(2, '0')
    return `${l.host} - - [${p2(l.day)}/${l.month}/${String(l.year).padStart(4, '0')}:${p2(l.hh)}:${p2(l.mm)}:${p2(l.ss)} ${l.sign}${String(l.offset).padStart(4, '0')}] ${l.request} ${l.status} ${l.bytes}${l.rest}`
  })
const logs = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 500 }),
  fc.uint8Array({ maxLength: 500 }).map((b) => Buffer.from(b).toString('latin1')),
  fc.array(logLine, { maxLength: 30 }).map((lines) => lines.join('\n')),
  fc.array(fc.oneof(logLine, fc.string({ maxLength: 40 })), { maxLength: 30 }).map((lines) => lines.join('\r\n')),
)

/** Counts that hold together: as many requests counted as lines accepted, none negative. */
function wellFormed(c: AccessLogCounts): void {
  let sum = 0
  for (const n of c.counts) {
    assert.ok(n >= 0)
    sum += n
  }
  assert.equal(sum, c.requests)
  assert.ok(c.counts.length <= 5_000_000)
}

function cleanly(run: () => AccessLogCounts, file: string): void {
  try {
    wellFormed(run())
  } catch (err) {
    if (!(err instanceof AccessLogError)) throw err
    assert.ok(err.message.startsWith(`${file}:`) || err.message.startsWith(`${file} `) || err.message.startsWith(file), err.message)
  }
}

test('countAccessLog: any text gives consistent counts or an AccessLogError naming the file', () => {
  fc.assert(
    fc.property(logs, fc.boolean(), fc.integer({ min: 1, max: 3600 }), (text, skipBad, stepSeconds) => {
      const started = performance.now()
      cleanly(() => countAccessLog(text, 'fuzz.log', { stepSeconds, skipBad }), 'fuzz.log')
      assert.ok(performance.now() - started < 10_000)
    }),
    { seed: SEED, numRuns: 1500 },
  )
})

test('readAccessLog: files, plain or gzip (or broken gzip), give counts or a TIDE_ERR_* error', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tide-fuzz-'))
  t.after(() => { rmSync(dir, { recursive: true, force: true }); })
  let n = 0
  await fc.assert(
    fc.asyncProperty(logs, fc.constantFrom('plain', 'gzip', 'broken-gzip'), fc.boolean(), async (text, form, skipBad) => {
      const file = join(dir, `f${n++}${form === 'plain' ? '.log' : '.log.gz'}`)
      const gz = gzipSync(text)
      writeFileSync(file, form === 'plain' ? text : form === 'gzip' ? gz : gz.subarray(0, Math.max(1, gz.length >> 1)))
      try {
        wellFormed(await readAccessLog(file, { stepSeconds: 1, skipBad }))
      } catch (err) {
        if (!isTideError(err)) throw err
        assert.ok(err.code === 'TIDE_ERR_ACCESS_LOG' || err.code === 'TIDE_ERR_FILE', err.code)
        assert.ok(err.message.includes(file), err.message)
      }
      // The same text streamed and in memory agree.
      if (form === 'plain') {
        let streamed: unknown
        let inMemory: unknown
        try {
          streamed = await readAccessLog(file, { stepSeconds: 1, skipBad })
        } catch (err) {
          streamed = (err as Error).message
        }
        try {
          inMemory = countAccessLog(text, file, { stepSeconds: 1, skipBad })
        } catch (err) {
          inMemory = (err as Error).message
        }
        assert.deepEqual(streamed, inMemory)
      }
    }),
    { seed: SEED + 1, numRuns: 200 },
  )
})
