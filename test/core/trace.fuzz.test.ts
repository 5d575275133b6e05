/**
 * Fuzzing the trace parser with fast-check: binary garbage, random text, CSV-shaped rows with
 * random fields (numbers of every form, timestamps, blanks, extra commas). Each input gives a
 * well-formed Trace (times from 0 strictly increasing, rates finite and ≥ 0) or a TraceError
 * naming the file, never another exception, in bounded time. Fixed seed.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { parseTrace, TraceError } from '../../src/core/trace.ts'

const SEED = 1314

const field = fc.oneof(
  fc.double({ noNaN: false }).map(String),
  fc.integer().map(String),
  fc.constantFrom('', ' ', '-0', '1e308', '1e309', '-1', 'NaN', 'Infinity', '0x10', '1_000', '2026-11-11T12:00:00Z', '2026-02-30T00:00:00+08:00', '2026-11-11', '１２', '\u0000'),
  fc.string({ maxLength: 12 }),
)
const row = fc.array(field, { minLength: 1, maxLength: 4 }).map((f) => f.join(','))
const csv = fc
  .record({ header: fc.oneof(fc.constant('seconds,rps'), row), rows: fc.array(row, { maxLength: 40 }), eol: fc.constantFrom('\n', '\r\n'), bom: fc.boolean() })
  .map(({ header, rows, eol, bom }) => `${bom ? '\ufeff' : ''}${[header, ...rows].join(eol)}${eol}`)
const increasing = fc
  .array(fc.tuple(fc.double({ min: 0.001, max: 1e6, noNaN: true }), fc.double({ min: 0, max: 1e9, noNaN: true })), { minLength: 1, maxLength: 50 })
  .map((steps) => {
    let t = 0
    return `seconds,rps\n${steps.map(([dt, r]) => `${(t += dt)},${r}`).join('\n')}\n`
  })
const texts = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 500 }),
  fc.uint8Array({ maxLength: 500 }).map((b) => Buffer.from(b).toString('latin1')),
  csv,
  increasing,
)

test('parseTrace: any text gives a well-formed trace or a TraceError naming the file', () => {
  fc.assert(
    fc.property(texts, (text) => {
      const started = performance.now()
      try {
        const t = parseTrace(text, 'fuzz.csv')
        assert.equal(t.seconds[0], 0)
        assert.equal(t.seconds.length, t.rps.length)
        for (let i = 1; i < t.seconds.length; i++) assert.ok(t.seconds[i]! > t.seconds[i - 1]!, 'strictly increasing')
        for (const r of t.rps) assert.ok(Number.isFinite(r) && r >= 0, 'finite, non-negative rates')
      } catch (err) {
        if (!(err instanceof TraceError)) throw err
        assert.match(err.message, /^fuzz\.csv(:\d+)?: /)
      }
      assert.ok(performance.now() - started < 10_000)
    }),
    { seed: SEED, numRuns: 1500 },
  )
})

test('parseTrace: long lines and many rows are parsed or refused in bounded time', () => {
  const big = fc.constantFrom(
    `seconds,rps\n0,${'9'.repeat(5_000_000)}\n`,
    `seconds,rps\n${'0,'.repeat(1_000_000)}1\n`,
    `seconds,rps\n${Array.from({ length: 200_000 }, (_, i) => `${i},${i % 7}`).join('\n')}\n`,
    `${','.repeat(2_000_000)}\n`,
  )
  fc.assert(
    fc.property(big, (text) => {
      try {
        parseTrace(text, 'big.csv', { maxRows: 100_000 })
      } catch (err) {
        if (!(err instanceof TraceError)) throw err
      }
    }),
    { seed: SEED + 1, numRuns: 4 },
  )
})
