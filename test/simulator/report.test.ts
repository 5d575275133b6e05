import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { reportSinks, TICKS_CSV_HEADER, TicksCsvWriter } from '../../src/simulator/report.ts'
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

test('reportSinks writes ticks.csv and chart.svg into a new directory', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tide-report-'))
  try {
    const out = join(dir, 'out', 'run')
    const report = reportSinks(out)
    report.sink.begin?.(600, 1)
    for (let t = 0; t < 600; t++) report.sink.tick(row(t, t === 42))
    const paths = await report.finish({ ...result, durationSeconds: 600 })
    assert.deepEqual(paths, [join(out, 'ticks.csv'), join(out, 'chart.svg')])
    assert.equal(readFileSync(join(out, 'ticks.csv'), 'utf8').trimEnd().split('\n').length, 601)
    assert.match(readFileSync(join(out, 'chart.svg'), 'utf8'), /^<svg[\s\S]*unit — policy configured[\s\S]*<\/svg>$/)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
