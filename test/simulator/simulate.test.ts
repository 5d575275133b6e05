import { test } from 'node:test'
import assert from 'node:assert/strict'
import { GroupSchema } from '../../src/spec/schema.ts'
import { defaultGroupSpec } from '../../src/simulator/default-group.ts'
import { defaultSimulationParams, type SimulationParams } from '../../src/simulator/params.ts'
import { simulatable, simulate, stepLoads, type TickRow, type TickSink } from '../../src/simulator/simulate.ts'
import type { Trace } from '../../src/core/trace.ts'
import { isTideError } from '../../src/errors.ts'

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

test('the default group meets a surge on the fast path, as the model implies', async () => {
  const rec = new Recorder()
  // Warm with 2 instances (replicas.initial) rather than the 5 the first minutes need, to see the reaction.
  const group = defaultGroupSpec(params, { replicas: { min: 1, max: 1000, initial: 2 } })
  const r = await simulate({ trace: surge, policy: 'configured', params, group, sink: rec })
  // No demand history yet: the safe default headroom of 40 % gives a target of 100 / 1.4 ≈ 71.4
  // req/s per instance, so the 15 s sync sees 150 req/s and asks ⌈150 / 71.4⌉ = 3.
  assert.equal(rec.rows[14]?.instancesBilled, 2)
  assert.equal(rec.rows[15]?.instancesBilled, 3)
  // The surge to 450 req/s starts at 60 s, between syncs. The fast path reads the mean of the last
  // 3 seconds each second and acts once it exceeds the capacity in force, 3 × 100: not at 61 s
  // ((150 + 150 + 450) / 3 = 250), but at 62 s (350 → ⌈350 / 71.4⌉ = 5), 13 s before the sync.
  // Then 450 < 5 × 100, so the 75 s sync sees the whole window (450 → ⌈6.3⌉ = 7).
  assert.equal(rec.rows[61]?.instancesBilled, 3)
  assert.equal(rec.rows[62]?.instancesBilled, 5)
  assert.equal(rec.rows[74]?.instancesBilled, 5)
  assert.equal(rec.rows[75]?.instancesBilled, 7)
  // New instances serve 30 s after their launch (92 s and 105 s); until then 3, then 5 instances
  // (μ ≈ 115 req/s each) face 450 req/s, and the backlog drains within seconds after.
  assert.equal(rec.rows[59]?.violation, false)
  for (let t = 60; t < 105; t++) assert.equal(rec.rows[t]?.violation, true, `step ${t} violates`)
  assert.equal(rec.rows[92]?.instancesInService, 5)
  assert.equal(rec.rows[105]?.instancesInService, 7)
  const lastViolation = rec.rows.findLastIndex((row) => row.violation)
  assert.ok(lastViolation < 130, `last violation at ${lastViolation}`)
  assert.ok(r.sloViolationSeconds >= 45 && r.sloViolationSeconds <= 70, `${r.sloViolationSeconds} s`)
  assert.equal(r.scaleOutActions, 3)
  assert.ok(r.scaleInActions >= 1, 'it scales back in after the surge')
  assert.equal(rec.rows.at(-1)?.desired, 3, 'and ends at ⌈150 × 1.4 / 100⌉ = 3')
})

test('a long trace starts warm: every policy starts with the fleet its first minutes need', async () => {
  // The surge at 60 s lies within the first 300 s, so the warm fleet is ⌈450 / 100⌉ = 5 and nothing
  // violates. (The oracle gets the same fleet and, seeing the future, stops what it does not need
  // until 60 s: it relaunches those at 30 s.)
  for (const policy of ['configured', 'hpa'] as const) {
    const rec = new Recorder()
    const r = await simulate({ trace: surge, policy, params, sink: rec })
    assert.ok((rec.rows[0]?.instancesInService ?? 0) >= 5, `${policy}: ${rec.rows[0]?.instancesInService} at the start`)
    assert.equal(rec.rows.slice(0, 300).filter((row) => row.violation).length, 0, policy)
    assert.ok(r.instanceHours > 0)
  }
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

// --- predictive and mixed

/** 2 h of 400 req/s at 10 s rows, a ×10 flash sale from 1:00 to 1:20 that reaches 10× in 30 s, in epoch time. */
const SALE_T0 = Date.parse('2026-11-11T10:00:00Z')
const flash: Trace = (() => {
  const rows: [number, number][] = []
  for (let s = 0; s < 7200; s += 10) {
    const since = s - 3600
    const uplift = since < 0 || since >= 1200 ? 1 : since < 30 ? 1 + 9 * ((since + 10) / 30) : 10
    rows.push([s, 400 * uplift])
  }
  return { name: 'flash', startMs: SALE_T0, seconds: Float64Array.from(rows.map((r) => r[0])), rps: Float64Array.from(rows.map((r) => r[1])) }
})()

function flashGroup(extra: Record<string, unknown> = {}) {
  return GroupSchema.parse({
    group: 'app',
    provider: 'sim',
    replicas: { min: 1, max: 1000 },
    metrics: [{ type: 'rps', target: { averageValue: 90 } }],
    schedules: [{ name: 'sale', start: '2026-11-11T11:00:00Z', end: '2026-11-11T11:20:00Z', campaign: { uplift: 10, leadMinutes: 2 } }],
    ...extra,
  })
}

test('predictive: a declared campaign is pre-warmed and held, so the sale violates nothing; reactive alone violates', async () => {
  const group = flashGroup()
  const reactive = await simulate({ trace: flash, policy: 'configured', params, group })
  const predictive = await simulate({ trace: flash, policy: 'predictive', params, group })
  assert.ok(reactive.sloViolationSeconds > 0, `reactive violates ${reactive.sloViolationSeconds} s`)
  assert.equal(predictive.sloViolationSeconds, 0)
  assert.equal(predictive.failedRequests, 0)
  // The pre-warm: 400 req/s baseline × 10 × 1.02 buffer / 90 per instance = 45.3 → 46 instances.
  assert.equal(predictive.maxInstances, 46)
  assert.equal(predictive.forecast?.method, undefined, 'two hours are too little for a forecaster')
  assert.ok((predictive.forecast?.ticksLed ?? 0) > 0)
  assert.equal(reactive.forecast, undefined)
})

test('predictive with a history learns the tide and reports its live accuracy', async () => {
  // Three days of a square tide as history, then one day replayed: 200 req/s, 1000 from 12:00 to 18:00.
  const day = (startMs: number, days: number): Trace => {
    const rows: [number, number][] = []
    for (let s = 0; s < days * 86_400; s += 300) {
      const h = (s % 86_400) / 3600
      rows.push([s, h >= 12 && h < 18 ? 1000 : 200])
    }
    return { name: 'tide', startMs, seconds: Float64Array.from(rows.map((r) => r[0])), rps: Float64Array.from(rows.map((r) => r[1])) }
  }
  const group = GroupSchema.parse({ group: 'app', provider: 'sim', replicas: { min: 1, max: 100 }, metrics: [{ type: 'rps', target: { averageValue: 90 } }] })
  const reactive = await simulate({ trace: day(0, 1), policy: 'configured', params, group })
  const predictive = await simulate({ trace: day(0, 1), policy: 'predictive', params, group, history: day(0, 3) })
  assert.ok(reactive.sloViolationSeconds > 0, 'the 5× step at noon outruns a reactive policy')
  assert.ok(predictive.sloViolationSeconds < reactive.sloViolationSeconds / 2, `${predictive.sloViolationSeconds} s vs ${reactive.sloViolationSeconds} s`)
  const f = predictive.forecast
  assert.ok(f?.method !== undefined)
  assert.ok(f.liveWapePercent !== undefined && f.liveWapePercent < 10, `live WAPE ${f.liveWapePercent}`)
})

test('mixed: capped at max, the planner grows the size, and cost is weighed by the price of each size', async () => {
  const group = flashGroup({ replicas: { min: 1, max: 20 } })
  const rec = new Recorder()
  const horizontal = await simulate({ trace: flash, policy: 'configured', params, group })
  const mixed = await simulate({ trace: flash, policy: 'mixed', params, group, sink: rec })
  assert.ok(mixed.resizeActions > 0)
  assert.ok(mixed.sloViolationSeconds < horizontal.sloViolationSeconds / 2, `${mixed.sloViolationSeconds} s vs ${horizontal.sloViolationSeconds} s`)
  assert.ok(mixed.maxInstances <= 20)
  // Bigger instances cost more than one default-size instance-hour each: cost by price > instance-hours.
  assert.ok(mixed.costHours > mixed.instanceHours)
  assert.ok(Math.abs(mixed.costRatio - mixed.costHours / mixed.oracleInstanceHours) < 1e-12)
  assert.equal(horizontal.costHours, horizontal.instanceHours)
  assert.equal(rec.rows.length, mixed.durationSeconds)
  // Accounting: cost-hours are the sum over steps of the price-weighted billed instances × 1 s.
  const costSeconds = rec.rows.reduce((sum, row) => sum + row.costBilled, 0)
  assert.ok(Math.abs(mixed.costHours - costSeconds / 3600) < 1e-9, `${mixed.costHours} vs ${costSeconds / 3600}`)
  assert.ok(rec.rows.some((row) => row.costBilled > row.instancesBilled), 'some steps bill bigger instances')
})

test('external metrics are refused, naming each one: the simulator has no source for them', async () => {
  const group = GroupSchema.parse({
    ...defaultGroupSpec(params),
    metrics: [
      { type: 'cpu', target: { averageUtilization: 60 } },
      { type: 'external', query: 'sum(q)', source: { type: 'prometheus', url: 'http://127.0.0.1:9090' }, target: { value: 10 } },
    ],
    steps: [{ metric: { type: 'external', query: '$.d', source: { type: 'http-json', url: 'http://127.0.0.1:8080/' } }, above: 1, change: { type: 'Pods', value: 1 } }],
  })
  await assert.rejects(
    simulate({ trace: surge, policy: 'configured', params, group }),
    (err: unknown) =>
      isTideError(err, 'TIDE_ERR_CONFIG') &&
      /^group app: tide simulate cannot replay external metrics \(metrics\[1\] \(sum\(q\)\), steps\[0\]\.metric \(\$\.d\)\): the simulator has no source for them/.test(err.message),
  )
  // The oracle replays no controller: nothing to refuse.
  await assert.doesNotReject(simulate({ trace: surge, policy: 'oracle', params, group }))
})

test('disk and network metrics are refused, naming each one: the workload model has no disk and no byte sizes', async () => {
  const group = GroupSchema.parse({
    ...defaultGroupSpec(params),
    metrics: [
      { type: 'cpu', target: { averageUtilization: 60 } },
      { type: 'disk', direction: 'write', target: { averageValueMiBPerSecond: 20 } },
      { type: 'network', target: { averageValueMiBPerSecond: 50 } },
    ],
    steps: [{ metric: { type: 'network', direction: 'out' }, above: 80, change: { type: 'Pods', value: 1 } }],
  })
  await assert.rejects(
    simulate({ trace: surge, policy: 'configured', params, group }),
    (err: unknown) =>
      isTideError(err, 'TIDE_ERR_CONFIG') &&
      err.message ===
        'group app: tide simulate cannot replay disk or network metrics (metrics[1] (disk write), metrics[2] (network in+out), steps[0].metric (network out)): the workload model has no disk and no request or response sizes; simulate a copy of the file without them',
  )
  // The hpa baseline scales on its own cpu target, not the file's metrics: it replays.
  await assert.doesNotReject(simulate({ trace: surge, policy: 'hpa', params, group }))
})

test('external, disk and network metrics together: one error naming both reasons', () => {
  const group = GroupSchema.parse({
    ...defaultGroupSpec(params),
    metrics: [
      { type: 'external', query: 'sum(q)', source: { type: 'prometheus', url: 'http://127.0.0.1:9090' }, target: { value: 10 } },
      { type: 'disk', target: { averageValueMiBPerSecond: 20 } },
    ],
  })
  assert.throws(
    () => simulatable(group),
    (err: unknown) =>
      isTideError(err, 'TIDE_ERR_CONFIG') &&
      err.message ===
        'group app: tide simulate cannot replay external metrics (metrics[0] (sum(q))): the simulator has no source for them; nor disk or network metrics (metrics[1] (disk read+write)): the workload model has no disk and no request or response sizes; simulate a copy of the file without them',
  )
})
