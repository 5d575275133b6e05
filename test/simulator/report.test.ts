import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CHART_MAX_POINTS, ChartBuilder, TICKS_CSV_HEADER, TicksCsvWriter } from '../../src/simulator/report.ts'
import type { SimulationResult, TickRow } from '../../src/simulator/simulate.ts'

function row(t: number, violation: boolean): TickRow {
  return { t, offeredRps: 100 + (t % 50), servedRps: 100, failedRps: 0, instancesBilled: 2 + (t % 3), costBilled: 2 + (t % 3), instancesInService: 2, capacityRps: 200, p95Ms: 50.12345, desired: 3, violation }
}

const result: SimulationResult = {
  policy: 'configured', trace: 'unit', group: 'app', durationSeconds: 10_000, tickSeconds: 1, instanceHours: 7, oracleInstanceHours: 6, costRatio: 7 / 6,
  sloViolationSeconds: 10, sloViolationRatio: 0.001, totalRequests: 1e6, servedRequests: 1e6, failedRequests: 0, scaleOutActions: 3, scaleInActions: 2,
  instanceCapacityRps: 100, startupSeconds: 30, sloP95Ms: 200, requestTimeoutSeconds: 10, maxInstances: 4, p95Ms: 51, costHours: 7, resizeActions: 0,
}

test('ticks.csv has the contract header and one row per step', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tide-report-'))
  try {
    const path = join(dir, 'ticks.csv')
    const w = new TicksCsvWriter(path)
    for (let t = 0; t < 3000; t++) w.tick(row(t, false)) // more than one 64 KB buffer
    w.close()
    const lines = readFileSync(path, 'utf8').trimEnd().split('\n')
    assert.equal(lines[0], TICKS_CSV_HEADER)
    assert.equal(lines.length, 3001)
    assert.equal(lines[1], '0,100,100,0,2,2,200,50.123,3')
    assert.equal(lines[3000]?.split(',').length, 9)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('the chart downsamples long runs to at most CHART_MAX_POINTS buckets of means', () => {
  const c = new ChartBuilder()
  c.begin(10_000, 1)
  for (let t = 0; t < 10_000; t++) c.tick(row(t, t >= 5000 && t < 5010))
  const s = c.series()
  assert.ok(s.t.length <= CHART_MAX_POINTS)
  assert.equal(s.bucketSeconds, 5) // ⌈10000 / 2000⌉ steps per bucket
  // Bucket 0 holds t = 0…4: offered 100…104 → mean 102; billed 2,3,4,2,3 → 2.8
  assert.equal(s.offeredRps[0], 102)
  assert.equal(s.instancesBilled[0], 2.8)
  assert.deepEqual([...s.violated.slice(999, 1003)], [0, 1, 1, 0])
})

test('the chart is an SVG with both series, the instance line and the violation shading', async () => {
  const c = new ChartBuilder()
  c.begin(10_000, 1)
  for (let t = 0; t < 10_000; t++) c.tick(row(t, t >= 5000 && t < 5010))
  const svg = await c.toSvg(result)
  assert.match(svg, /^<svg/)
  assert.match(svg, /offered load/)
  assert.match(svg, /capacity within SLO/)
  assert.match(svg, /instances billed/)
  assert.match(svg, /unit — policy configured/)
  // Three lines (offered load, capacity, instances) and the violation shading: one
  // interval, t = 5000…5009 s, in minutes (the run is under 3 h): x from 83.3 to 83.5.
  assert.equal((svg.match(/class="mark-line role-mark/g) ?? []).length, 3)
  const shading = /<g class="mark-rect role-mark violationShading"[^>]*>(.*?)<\/g>/s.exec(svg)
  assert.ok(shading, 'the shading group exists')
  assert.equal((shading[1]?.match(/<path/g) ?? []).length, 1)
  assert.match(svg, /minutes from start/)
})
