import { test } from 'node:test'
import assert from 'node:assert/strict'
import { daysFromCivil, isoToEpochMs, isoToEpochMsOrThrow } from '../../src/core/iso-time.ts'

// core/ may use Date; these tests use it as the reference (Date.parse), which the engine and
// forecasting may not. Both entry points share one parser, so every case runs through both.
const valid = [
  '2026-11-11T12:00:00+08:00',
  '2026-11-11T04:00:00Z',
  '2024-02-29T23:59:59.999-05:00',
  '2024-02-29T23:59:59.123-05:30',
  '1970-01-01T00:00:00Z',
  '1970-01-01T00:00Z',
  '1969-12-31T23:00:00Z',
  '1969-12-31T23:00:00-01:30',
  '2000-03-01T00:00Z',
  '2000-03-01T00:00:00+01:00',
  '2100-02-28T12:34:56.7+14:00',
  '2100-12-31T23:59:59.5Z',
  '2026-11-11T12:00:00.123456789Z',
] as const
for (const text of valid) {
  test(`parses ${text} as Date.parse does`, () => {
    assert.equal(isoToEpochMs(text), Date.parse(text))
    assert.equal(isoToEpochMsOrThrow(text), Date.parse(text))
  })
}

test('offsets without a colon, hours-only offsets and a lower-case z', () => {
  for (const parse of [isoToEpochMs, isoToEpochMsOrThrow]) {
    assert.equal(parse('2026-11-11T12:00:00+0800'), Date.parse('2026-11-11T12:00:00+08:00'))
    assert.equal(parse('2026-11-11T12:00:00-03'), Date.parse('2026-11-11T12:00:00-03:00'))
    assert.equal(parse('2026-11-11T12:00:00z'), Date.parse('2026-11-11T12:00:00Z'))
  }
})

const invalid = [
  { name: 'no offset', text: '2026-11-11T12:00:00' },
  { name: 'a date only', text: '2026-11-11' },
  { name: 'a space for the T', text: '2026-11-11 12:00:00Z' },
  { name: 'a word', text: 'tomorrow' },
  { name: 'month 13', text: '2026-13-01T00:00:00Z' },
  { name: 'February 30', text: '2026-02-30T00:00:00Z' },
  { name: 'February 29 of a common year', text: '2025-02-29T00:00:00Z' },
  { name: 'hour 24', text: '2026-01-01T24:00:00Z' },
  { name: 'offset hour 25', text: '2026-01-01T00:00:00+25:00' },
] as const
for (const c of invalid) {
  test(`rejects ${c.name}: undefined from isoToEpochMs, a RangeError naming the text from isoToEpochMsOrThrow`, () => {
    assert.equal(isoToEpochMs(c.text), undefined)
    assert.throws(() => isoToEpochMsOrThrow(c.text), (err: unknown) => err instanceof RangeError && err.message.includes(c.text.slice(-6)))
  })
}

test('isoToEpochMs gives the same answer for a string seen before (memoised)', () => {
  assert.equal(isoToEpochMs('2026-11-11T12:00:00+08:00'), isoToEpochMs('2026-11-11T12:00:00+08:00'))
  assert.equal(isoToEpochMs('tomorrow'), undefined)
  assert.equal(isoToEpochMs('tomorrow'), undefined)
})

test('daysFromCivil: 1970-01-01 is day 0 and 2000-03-01 is day 11017', () => {
  assert.equal(daysFromCivil(1970, 1, 1), 0)
  assert.equal(daysFromCivil(2000, 3, 1), Date.UTC(2000, 2, 1) / 86_400_000)
})
