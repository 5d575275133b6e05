import { test } from 'node:test'
import assert from 'node:assert/strict'
import { patternRate } from '../../src/loadgen/patterns.ts'

const o = { baseRps: 10, peakRps: 100, durationSeconds: 600 }

const cases = [
  // flash-sale: quiet until 20 % (120 s), ramp over min(60, 60) s, hold 40 % (240 s), ebb 10 % (60 s)
  { name: 'flash-sale is quiet before the sale', pattern: 'flash-sale', t: 100, want: 10 },
  { name: 'flash-sale is halfway up the ramp at 150 s', pattern: 'flash-sale', t: 150, want: 55 }, // 10 + 30/60 × 90
  { name: 'flash-sale holds the peak', pattern: 'flash-sale', t: 300, want: 100 },
  { name: 'flash-sale ebbs back to base', pattern: 'flash-sale', t: 590, want: 10 },
  { name: 'diurnal starts at base', pattern: 'diurnal', t: 0, want: 10 },
  { name: 'diurnal peaks mid-run', pattern: 'diurnal', t: 300, want: 100 },
  { name: 'step is base in its first third', pattern: 'step', t: 199, want: 10 },
  { name: 'step is peak after', pattern: 'step', t: 200, want: 100 },
] as const

for (const c of cases) {
  test(c.name, () => {
    assert.ok(Math.abs(patternRate(c.pattern, o)(c.t) - c.want) < 1e-9)
  })
}

test('flash-sale multiplies load tenfold within a minute', () => {
  const rate = patternRate('flash-sale', o)
  assert.equal(rate(180) / rate(119), 10)
})
