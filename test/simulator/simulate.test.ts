import { test } from 'node:test'
import assert from 'node:assert/strict'
import { GroupSchema } from '../../src/spec/schema.ts'
import { defaultSimulationParams, type SimulationParams } from '../../src/simulator/params.ts'
import { simulate, stepLoads, type TickRow, type TickSink } from '../../src/simulator/simulate.ts'
import type { Trace } from '../../src/simulator/trace.ts'

/** A trace from (seconds, rps) rows; the last row lasts as long as the median step. */
function trace(rows: readonly (readonly [number, number])[], name = 'unit'): Trace {
  return { name, startMs: 0, seconds: Float64Array.from(rows.map((r) => r[0])), rps: Float64Array.from(rows.map((r) => r[1])) }
}

/** Keeps a copy of every step. */
class Recorder implements TickSink {
  readonly rows: TickRow[] = []
  tick(row: Readonly<TickRow>): void {
    this.rows.push({ ...row })
  }
}

const params: SimulationParams = { ...defaultSimulationParams } // N 100 req/s, start-up 30 s, SLO 200 ms, timeout 10 s, 1 s steps

// Rows every 60 s for 1020 s: 150 req/s (2 instances), a surge to 450 req/s from 60 s to
// 360 s (5 instances), then 150 again.
const surge = trace(Array.from({ length: 17 }, (_, i) => [i * 60, i >= 1 && i < 6 ? 450 : 150] as const))

test('stepLoads averages the step function over each step', () => {
  const t = trace([[0, 10], [1.5, 20], [3, 40]]) // lasts 4.5 s (median step 1.5 s)
  // steps of 2 s: [0,2) = (10·1.5 + 20·0.5)/2 = 12.5; [2,4) = (20·1 + 40·1)/2 = 30; [4,6) = 40·0.5/2 = 10
  assert.deepEqual([...stepLoads(t, 2)], [12.5, 30, 10])
})

for (const policy of ['configured', 'hpa', 'oracle'] as const) {
  for (const tickSeconds of [1, 5]) {
    test(`${policy}, ${tickSeconds} s steps: instance-hours equal the sum over steps of billed instances × step`, async () => {
      const rec = new Recorder()
      const r = await simulate({ trace: surge, policy, params: { ...params, tickSeconds }, sink: rec })
      const billedSeconds = rec.rows.reduce((sum, row) => sum + row.instancesBilled * tickSeconds, 0)
      assert.ok(Math.abs(r.instanceHours - billedSeconds / 3600) < 1e-9, `${r.instanceHours} vs ${billedSeconds / 3600}`)
      assert.equal(rec.rows.length * tickSeconds, r.durationSeconds)
      assert.equal(r.maxInstances, Math.max(...rec.rows.map((row) => row.instancesBilled)))
      const violations = rec.rows.filter((row) => row.violation).length
      assert.equal(r.sloViolationSeconds, violations * tickSeconds)
      // every request is offered once: served + failed + still waiting at the end
      assert.ok(r.servedRequests + r.failedRequests <= r.totalRequests + 1e-6)
    })
  }
}

test('the oracle meets the SLO every step and costs what its schedule bills', async () => {
  const rec = new Recorder()
  const r = await simulate({ trace: surge, policy: 'oracle', params, sink: rec })
  assert.equal(r.sloViolationSeconds, 0)
  assert.equal(r.failedRequests, 0)
  assert.equal(r.instanceHours, r.oracleInstanceHours)
  assert.equal(r.maxInstances, 5) // ⌈450 / 100⌉
  // The 5 instances serve from t = 60: launched at 30 (start-up 30 s), so 5 are billed from 30.
  assert.equal(rec.rows[29]?.instancesBilled, 2)
  assert.equal(rec.rows[30]?.instancesBilled, 5)
  assert.equal(rec.rows[59]?.instancesInService, 2)
  assert.equal(rec.rows[60]?.instancesInService, 5)
  // 2 × 1020 s + 3 × (360 − 30) s = 3030 instance-seconds
  assert.ok(Math.abs(r.oracleInstanceHours - 3030 / 3600) < 1e-9, `${r.oracleInstanceHours * 3600}`)
})

test('a reactive policy replays the surge as the model implies', async () => {
  const rec = new Recorder()
  const r = await simulate({ trace: surge, policy: 'configured', params, sink: rec })
  // It starts warm with 2 instances. The surge starts at 60 s, a sync time, but that sync
  // reads the window [45, 60) before it; the next one at 75 s sees it and launches, and
  // the new instances serve from 75 + 30 = 105 s. Until then 2 instances (μ ≈ 115 req/s
  // each) face 450 req/s: every step from 60 to 104 violates, and requests queue and,
  // past the 10 s timeout, fail.
  assert.equal(rec.rows[59]?.violation, false)
  for (let t = 60; t < 105; t++) assert.equal(rec.rows[t]?.violation, true, `step ${t} violates`)
  assert.equal(rec.rows[74]?.instancesBilled, 2)
  assert.ok((rec.rows[75]?.instancesBilled ?? 0) >= 5, 'the 75 s sync launches at least to the need')
  assert.ok(r.failedRequests > 0)
  // The backlog built in 45 s (≈ 45 × (450 − 230) requests) is served within a minute of
  // the new capacity; the run then holds the SLO until the load falls back.
  const lastViolation = rec.rows.findLastIndex((row) => row.violation)
  assert.ok(lastViolation < 180, `last violation at ${lastViolation}`)
  assert.ok(r.sloViolationSeconds >= 45 && r.sloViolationSeconds <= 120, `${r.sloViolationSeconds} s`)
  assert.ok(r.maxInstances >= 5)
  assert.ok(r.scaleOutActions >= 1)
  assert.ok(r.scaleInActions >= 1, 'it scales back in after the surge')
  assert.equal(rec.rows.at(-1)?.desired, 2, 'and ends at the need of 150 req/s')
})

test('the HPA baseline scales on cpu at 60 %: it runs more instances than the need', async () => {
  const steady = trace([[0, 450], [1800, 450]])
  const r = await simulate({ trace: steady, policy: 'hpa', params })
  // cpu = λ/μ per instance; 450 req/s over n instances at ≤ 66 % (60 % + tolerance) of μ ≈ 115 → n ≥ 6
  assert.ok(r.maxInstances >= 6, `${r.maxInstances}`)
  assert.ok(r.instanceHours > r.oracleInstanceHours)
})

test('a -c group is simulated with its own min replicas and policies', async () => {
  const group = GroupSchema.parse({ group: 'shop', provider: 'sim', replicas: { min: 4, max: 6 }, metrics: [{ type: 'cpu', target: { averageUtilization: 50 } }] })
  const r = await simulate({ trace: surge, policy: 'configured', params, group })
  assert.equal(r.group, 'shop')
  assert.ok(r.maxInstances <= 6)
  const oracle = await simulate({ trace: surge, policy: 'oracle', params, group })
  assert.ok(oracle.maxInstances >= 4, 'the oracle keeps min replicas too')
})

test('simulation is deterministic', async () => {
  const a = await simulate({ trace: surge, policy: 'configured', params })
  const b = await simulate({ trace: surge, policy: 'configured', params })
  assert.deepEqual(a, b)
})

test('an unknown policy is a programmer error', async () => {
  await assert.rejects(simulate({ trace: surge, policy: 'nope', params }), RangeError)
})
