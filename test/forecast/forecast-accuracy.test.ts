import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ForecastAccuracy } from '../../src/forecast/forecast-accuracy.ts'

const close = (a: number | undefined, b: number, what: string) => {
  assert.ok(a !== undefined && Math.abs(a - b) < 1e-9, `${what}: ${a} ≠ ${b}`)
}

test('WAPE, MAPE and bias by hand', () => {
  const acc = new ForecastAccuracy()
  for (const [f, a] of [[110, 100], [90, 100], [50, 40], [0, 0]] as const) acc.record(f, a)
  const s = acc.summary()
  assert.equal(s.count, 4)
  close(s.wapePercent, (100 * 30) / 240, 'WAPE') // |e| 10 + 10 + 10 + 0 over Σ|a| 240 = 12.5 %
  close(s.mapePercent, (100 * (0.1 + 0.1 + 0.25)) / 3, 'MAPE') // the (0, 0) pair has no percentage
  close(s.biasPercent, (100 * 10) / 240, 'bias') // +10 −10 +10 +0 → runs 4.17 % high
})

test('the window keeps only the newest pairs', () => {
  const acc = new ForecastAccuracy({ windowSize: 2 })
  for (const [f, a] of [[110, 100], [90, 100], [50, 40]] as const) acc.record(f, a)
  close(acc.summary().wapePercent, (100 * 20) / 140, 'WAPE of the last two') // 10 + 10 over 100 + 40
  assert.equal(acc.summary().count, 2)
})

test('nothing recorded, or no traffic: percentages are undefined, not NaN', () => {
  assert.deepEqual(new ForecastAccuracy().summary(), { count: 0, wapePercent: undefined, mapePercent: undefined, biasPercent: undefined })
  const zero = new ForecastAccuracy()
  zero.record(5, 0)
  assert.equal(zero.summary().wapePercent, undefined)
})

test('expect/observe pairs forecasts with the buckets they were for', () => {
  const acc = new ForecastAccuracy()
  acc.expect(300, 120)
  acc.expect(600, 80)
  acc.expect(600, 90) // a later forecast for the same bucket replaces the earlier one
  assert.equal(acc.observe(300, 100), true)
  assert.equal(acc.observe(600, 100), true)
  assert.equal(acc.observe(900, 50), false, 'no forecast was made for 900')
  close(acc.summary().wapePercent, (100 * (20 + 10)) / 200, 'WAPE')
})

test('observing a bucket forgets expectations for earlier buckets', () => {
  const acc = new ForecastAccuracy()
  acc.expect(300, 1)
  acc.expect(600, 2)
  acc.observe(600, 2)
  assert.equal(acc.observe(300, 1), false)
  assert.equal(acc.summary().count, 1)
})

const reliability = [
  { name: 'too few pairs yet', pairs: 3, max: 50, want: false },
  { name: 'enough pairs, WAPE 12.5 % ≤ 20 %', pairs: 4, max: 20, want: true },
  { name: 'enough pairs, WAPE 12.5 % > 10 %', pairs: 4, max: 10, want: false },
] as const
for (const c of reliability) {
  test(`isReliable: ${c.name}`, () => {
    const acc = new ForecastAccuracy()
    const pairs = [[110, 100], [90, 100], [50, 40], [0, 0]] as const
    for (const [f, a] of pairs.slice(0, c.pairs)) acc.record(f, a)
    assert.equal(acc.isReliable(c.max, 4), c.want)
  })
}

test('running sums do not drift over many windows', () => {
  const acc = new ForecastAccuracy({ windowSize: 10 })
  const pairs: [number, number][] = []
  for (let i = 0; i < 1003; i++) pairs.push([100 + ((i * 37) % 23) + 0.1, 100 + ((i * 17) % 19) + 0.3])
  for (const [f, a] of pairs) acc.record(f, a)
  const last = pairs.slice(-10)
  const err = last.reduce((s, [f, a]) => s + Math.abs(f - a), 0)
  const act = last.reduce((s, [, a]) => s + a, 0)
  close(acc.summary().wapePercent, (100 * err) / act, 'WAPE of the last 10')
})

test('ratioQuantile: how far the demand ran above the forecast at a share of the buckets', () => {
  const a = new ForecastAccuracy({ windowSize: 10 })
  assert.equal(a.ratioQuantile(0.9), undefined)
  // actual ÷ forecast = 0.8, 0.9, 1.0, …, 1.7 (forecast 100 each); a zero forecast is left out
  for (let i = 0; i < 10; i++) a.record(100, 80 + 10 * i)
  a.record(0, 50) // evicts the first pair (0.8) and is itself left out
  assert.equal(a.ratioQuantile(1), 1.7)
  assert.equal(a.ratioQuantile(0.5), 1.3) // 9 ratios 0.9…1.7: the ⌈4.5⌉ = 5th
  assert.equal(a.ratioQuantile(0.995), 1.7)
})
