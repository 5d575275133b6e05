import { test } from 'node:test'
import assert from 'node:assert/strict'
import { daysFromCivil, isoToEpochMs } from '../../src/engine/iso-time.ts'

// The engine may not use Date; the tests may, as the reference.
const cases = [
  '2026-11-11T12:00:00+08:00',
  '2026-11-11T04:00:00Z',
  '2024-02-29T23:59:59.999-05:00',
  '1970-01-01T00:00:00Z',
  '1969-12-31T23:00:00-01:30',
  '2000-03-01T00:00Z',
  '2100-02-28T12:34:56.7+14:00',
] as const

for (const text of cases) {
  test(`isoToEpochMs matches Date.parse: ${text}`, () => {
    assert.equal(isoToEpochMs(text), Date.parse(text))
  })
}

const invalid = ['2026-02-30T00:00:00Z', '2026-13-01T00:00:00Z', '2026-11-11 12:00:00Z', '2026-11-11T12:00:00', 'tomorrow'] as const
for (const text of invalid) {
  test(`isoToEpochMs rejects ${text}`, () => {
    assert.equal(isoToEpochMs(text), undefined)
  })
}

test('daysFromCivil: 1970-01-01 is day 0 and 2000-03-01 is day 11017', () => {
  assert.equal(daysFromCivil(1970, 1, 1), 0)
  assert.equal(daysFromCivil(2000, 3, 1), Date.UTC(2000, 2, 1) / 86_400_000)
})
