import { test } from 'node:test'
import assert from 'node:assert/strict'
import { isoToEpochMs } from '../../src/forecast/iso-time.ts'

// Expected values come from the platform's own parser (Date.parse), which tests may use.
const valid = [
  '2026-11-11T12:00:00+08:00',
  '1970-01-01T00:00Z',
  '2024-02-29T23:59:59.123-05:30',
  '1969-12-31T23:00:00Z',
  '2000-03-01T00:00:00+01:00',
  '2100-12-31T23:59:59.5Z',
]
for (const text of valid) {
  test(`parses ${text} as Date.parse does`, () => {
    assert.equal(isoToEpochMs(text), Date.parse(text))
  })
}

test('offsets without a colon and hours-only offsets', () => {
  assert.equal(isoToEpochMs('2026-11-11T12:00:00+0800'), Date.parse('2026-11-11T12:00:00+08:00'))
  assert.equal(isoToEpochMs('2026-11-11T12:00:00-03'), Date.parse('2026-11-11T12:00:00-03:00'))
})

const invalid = [
  { name: 'no offset', text: '2026-11-11T12:00:00' },
  { name: 'a date only', text: '2026-11-11' },
  { name: 'month 13', text: '2026-13-01T00:00:00Z' },
  { name: 'February 29 of a common year', text: '2025-02-29T00:00:00Z' },
  { name: 'hour 24', text: '2026-01-01T24:00:00Z' },
  { name: 'offset hour 25', text: '2026-01-01T00:00:00+25:00' },
] as const
for (const c of invalid) {
  test(`rejects ${c.name}, naming the text`, () => {
    assert.throws(() => isoToEpochMs(c.text), (err: unknown) => err instanceof RangeError && err.message.includes(c.text.slice(-6)))
  })
}
