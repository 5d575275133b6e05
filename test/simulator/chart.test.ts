import { test } from 'node:test'
import assert from 'node:assert/strict'
import { CHART_MAX_POINTS, CHART_SERIES, ChartBuilder, violationSpans } from '../../src/simulator/chart.ts'
import type { SimulationResult, TickRow } from '../../src/simulator/simulate.ts'

/** A step of a steady run: load 100 req/s, capacity 200, 2 instances, unless `over` says otherwise. */
function row(t: number, over: Partial<TickRow> = {}): TickRow {
  return { t, offeredRps: 100, servedRps: 100, failedRps: 0, instancesBilled: 2, costBilled: 2, instancesInService: 2, capacityRps: 200, p95Ms: 50, desired: 2, violation: false, ...over }
}

function resultOf(durationSeconds: number): SimulationResult {
  return {
    policy: 'configured', trace: 'unit', group: 'app', durationSeconds, tickSeconds: 1, instanceHours: 7, oracleInstanceHours: 6, costRatio: 7 / 6,
    sloViolationSeconds: 1, sloViolationRatio: 1 / durationSeconds, totalRequests: 1e6, servedRequests: 1e6, failedRequests: 0, scaleOutActions: 3, scaleInActions: 2,
    instanceCapacityRps: 100, startupSeconds: 30, sloP95Ms: 200, requestTimeoutSeconds: 10, maxInstances: 4, p95Ms: 51, costHours: 7, resizeActions: 0,
  }
}

/** A builder fed `steps` 1 s steps with `maxPoints` buckets; `over(t)` changes a step. */
function built(steps: number, maxPoints: number, over: (t: number) => Partial<TickRow> = () => ({})): ChartBuilder {
  const c = new ChartBuilder(maxPoints)
  c.begin(steps, 1)
  for (let t = 0; t < steps; t++) c.tick(row(t, over(t)))
  return c
}

/** The rectangles of a named rect mark in the SVG: Vega writes each as `M x,y h w v h h -w Z`. */
function rects(svg: string, mark: string): { x: number; y: number; w: number; h: number; opacity: number }[] {
  const group = new RegExp(`<g class="mark-rect role-mark ${mark}"[^>]*>(.*?)</g>`, 's').exec(svg)
  assert.ok(group, `the ${mark} mark exists`)
  return [...(group[1] ?? '').matchAll(/<path d="M([\d.e-]+),([\d.e-]+)h([\d.e-]+)v([\d.e-]+)h[^"]*"[^>]*?(?:opacity="([\d.e-]+)")?\/>/g)].map((m) => ({
    x: Number(m[1]),
    y: Number(m[2]),
    w: Number(m[3]),
    h: Number(m[4]),
    opacity: m[5] === undefined ? 1 : Number(m[5]),
  }))
}

// Each case: steps, buckets, the violating seconds, and the share each bucket must get.
const shareCases = [
  // 1200 steps in 2 buckets of 600: 1 s violated in bucket 0 → 1/600, not 1.
  { name: 'one violated second of a 600 s bucket is a share of 1/600', steps: 1200, maxPoints: 2, violated: [100], want: [1 / 600, 0] },
  { name: 'a whole violated bucket is a share of 1', steps: 1200, maxPoints: 2, violated: Array.from({ length: 600 }, (_, i) => 600 + i), want: [0, 1] },
  // 1000 steps, 3 buckets of ⌈1000/3⌉ = 334 s: the last holds 332; its 166 violated seconds are half of it.
  { name: 'a short last bucket is shared over its own steps', steps: 1000, maxPoints: 3, violated: Array.from({ length: 166 }, (_, i) => 668 + i), want: [0, 0, 0.5] },
  { name: 'one step per bucket is a share of 0 or 1', steps: 4, maxPoints: 10, violated: [2], want: [0, 0, 1, 0] },
] as const

for (const c of shareCases) {
  test(`violated share: ${c.name}`, () => {
    const violated = new Set<number>(c.violated)
    const s = built(c.steps, c.maxPoints, (t) => ({ violation: violated.has(t) })).series()
    assert.deepEqual([...s.violatedShare], c.want)
    // The shaded area (share × bucket seconds) is the violated time, exactly.
    const area = s.violatedShare.reduce((sum, share, i) => sum + share * (s.seconds[i] ?? 0), 0)
    assert.ok(Math.abs(area - c.violated.length) < 1e-9, `area ${area} s, violated ${c.violated.length} s`)
  })
}

test('the SVG shades one violated second of a 600 s bucket 1/600 of the bar and tint, not the whole bucket', async () => {
  const svg = await built(1200, 2, (t) => ({ violation: t === 100 })).toSvg(resultOf(1200))
  const bars = rects(svg, 'violationShare')
  assert.equal(bars.length, 1)
  // A full bar is 72 px high (the 80 px panel less the 8 px strip above it): 72 / 600 = 0.12 px.
  // It spans bucket 0, the left half of the 840 px plot.
  assert.ok(Math.abs((bars[0]?.h ?? 0) - 72 / 600) < 1e-6, `bar height ${bars[0]?.h}`)
  assert.ok(Math.abs((bars[0]?.w ?? 0) - 420) < 1e-6, `bar width ${bars[0]?.w}`)
  const tint = rects(svg, 'violationTint')
  assert.equal(tint.length, 1)
  assert.ok(Math.abs((tint[0]?.opacity ?? 1) - 0.3 / 600) < 1e-6, `tint opacity ${tint[0]?.opacity}`) // 0.3 × 1/600
  // The strip still marks where: one mark over bucket 0, a few pixels high.
  const strip = rects(svg, 'anyViolation')
  assert.equal(strip.length, 1)
  assert.ok((strip[0]?.h ?? 99) <= 6)
})

test('the SVG bars add up to the violated time: area ÷ full area = violated share of the run', async () => {
  // 3600 s in 840-point buckets of ⌈3600/840⌉ = 5 s; violations: 2 s, 5 s (a whole bucket), 1 s.
  const violated = new Set([10, 11, 500, 501, 502, 503, 504, 3000])
  const svg = await built(3600, CHART_MAX_POINTS, (t) => ({ violation: violated.has(t) })).toSvg(resultOf(3600))
  const area = rects(svg, 'violationShare').reduce((sum, r) => sum + r.w * r.h, 0)
  // The full area is 840 px × 72 px; the run's width is 3600 s.
  assert.ok(Math.abs(area / (840 * 72) - violated.size / 3600) < 1e-9, `area share ${area / (840 * 72)}`)
})

test('a one-second load spike is kept as the bucket max, beside the bucket mean and min', async () => {
  // 1200 s in 2 buckets of 600 s; t = 300 offers 1000 req/s, the rest 100: mean 100 + 900/600 = 101.5.
  const c = built(1200, 2, (t) => (t === 300 ? { offeredRps: 1000 } : t === 301 ? { offeredRps: 40 } : {}))
  const s = c.series()
  assert.deepEqual([...s.offeredMaxRps], [1000, 100])
  assert.deepEqual([...s.offeredMinRps], [40, 100])
  assert.equal(s.offeredRps[0], 100 + (900 - 60) / 600) // the spike adds 900, the dip takes 60
  const svg = await c.toSvg(resultOf(1200))
  assert.match(svg, /class="mark-area role-mark loadRange"/)
  // The requests/s axis reaches the spike: its top label is 1,000.
  assert.match(svg, />1,000<\/text>/)
})

test('the chart downsamples long runs to at most CHART_MAX_POINTS buckets of means', () => {
  // 10 000 steps → ⌈10000 / 840⌉ = 12 steps per bucket, ⌈10000 / 12⌉ = 834 buckets.
  const s = built(10_000, CHART_MAX_POINTS, (t) => ({ offeredRps: 100 + (t % 50), instancesBilled: 2 + (t % 3) })).series()
  assert.ok(s.t.length <= CHART_MAX_POINTS)
  assert.equal(s.t.length, 834)
  assert.equal(s.bucketSeconds, 12)
  // Bucket 0 holds t = 0…11: offered 100…111 → mean 105.5; billed 2,3,4 four times → 3.
  assert.equal(s.offeredRps[0], 105.5)
  assert.equal(s.instancesBilled[0], 3)
  // The last bucket holds t = 9996…9999: 4 s.
  assert.equal(s.seconds.at(-1), 4)
})

test('every series is named in full in the legends (none cut off)', async () => {
  const long = await built(10_000, CHART_MAX_POINTS, (t) => ({ violation: t === 5000 })).toSvg(resultOf(10_000))
  for (const name of [CHART_SERIES.loadMean, CHART_SERIES.loadRange, CHART_SERIES.capacity, CHART_SERIES.instances, CHART_SERIES.violatedShare, CHART_SERIES.anyViolation]) {
    assert.ok(long.includes(`>${name}</text>`), `legend has "${name}"`)
  }
  assert.ok(!long.includes('…'), 'no label is truncated')
  // One step per point: no band, and the load is named plainly.
  const short = await built(600, CHART_MAX_POINTS).toSvg(resultOf(600))
  assert.ok(short.includes(`>${CHART_SERIES.load}</text>`))
  assert.ok(!short.includes(CHART_SERIES.loadRange))
  assert.match(short, /one point per 1 s step/)
})

test('capacity and instances are drawn in separate panels on their own scales', async () => {
  const svg = await built(600, CHART_MAX_POINTS).toSvg(resultOf(600))
  const panel = (name: string) => new RegExp(`<g class="mark-group role-scope ${name}".*?(?=<g class="mark-group role-scope |$)`, 's').exec(svg)?.[0] ?? ''
  assert.match(panel('rpsPanel'), /role-mark capacity/)
  assert.match(panel('rpsPanel'), />requests\/s<\/text>/)
  assert.doesNotMatch(panel('rpsPanel'), /role-mark instances/)
  assert.match(panel('instancesPanel'), /role-mark instances/)
  assert.match(panel('instancesPanel'), />instances<\/text>/)
  assert.match(panel('violationPanel'), />SLO violated<\/text>/)
})

test('violationSpans merges adjacent buckets of equal share, and every violating run for the strip', () => {
  // Buckets of 60 s with shares 0, ½, ½, 1, 0, ¼: x in minutes.
  const shares = [0, 0.5, 0.5, 1, 0, 0.25]
  const s = built(360, 6, (t) => ({ violation: (t % 60) < shares[Math.floor(t / 60)]! * 60 })).series()
  assert.deepEqual([...s.violatedShare], shares)
  assert.deepEqual(violationSpans(s, 60, true), [{ x0: 1, x1: 3, share: 0.5 }, { x0: 3, x1: 4, share: 1 }, { x0: 5, x1: 6, share: 0.25 }])
  assert.deepEqual(violationSpans(s, 60, false), [{ x0: 1, x1: 4, share: 1 }, { x0: 5, x1: 6, share: 1 }])
})

test('ChartBuilder rejects a bucket count below 1', () => {
  assert.throws(() => new ChartBuilder(0), /maxPoints must be an integer ≥ 1, got 0/)
})

test('a run with no steps still renders a chart with finite scales', async () => {
  const svg = await built(0, CHART_MAX_POINTS).toSvg(resultOf(0))
  assert.match(svg, /^<svg/)
  assert.doesNotMatch(svg, /NaN/)
})

test('the subtitle does not round one violated second of a long run to 0.00 %', async () => {
  // 1 s of 600 000 s is 0.00017 %.
  const svg = await built(600, CHART_MAX_POINTS).toSvg({ ...resultOf(600_000), sloViolationSeconds: 1, sloViolationRatio: 1 / 600_000 })
  assert.match(svg, /SLO violated &lt; 0\.01 % of the time \(1 s\)/)
})
