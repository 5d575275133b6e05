import { test } from 'node:test'
import assert from 'node:assert/strict'
import { decide } from '../../src/engine/decide.ts'
import { decideFleet } from '../../src/engine/decide-fleet.ts'
import { decideInputText, parseDecideInput } from '../../src/engine/replay.ts'
import type { DecideInput, DemandForecast } from '../../src/engine/types.ts'
import type { HeadroomEstimate } from '../../src/forecast/headroom-learner.ts'
import type { GroupInput } from '../../src/spec/schema.ts'
import { decideInput, groupSpec, instances, sameSample, signals } from './fixtures.ts'
import { ladder, medium, usageOf } from './vertical/fixtures.ts'

const t0 = Date.parse('2026-11-27T08:00:00Z')
const minute = 60_000
const forecast: DemandForecast = {
  status: 'ok',
  method: 'hw-daily-additive',
  stepMs: minute,
  fromMs: t0,
  values: [300, 520.25, 910, 2000, 100],
  upper: [350, 600, 1000, 2300, 130],
  accuracyWapePercent: 6.5,
  accuracySource: 'live',
  learnedUplifts: { 'black-friday': 2.5 },
}
const headroom: HeadroomEstimate = {
  source: 'learned',
  headroom: 0.2345,
  referenceRps: 412.5,
  smoothingSeconds: 15,
  holdSeconds: 60,
  quantile: 0.995,
  scope: 'hour-of-day',
  hour: 8,
  historySeconds: 86_400,
  neededSeconds: 3600,
  windowDays: 7,
  lagSeconds: 45,
}

/** Four instances at cpu 0.7 and `rps` each (400 req/s in all by default), demand steps in a typed array (as the router gives them). */
function input(fields: Partial<GroupInput>, extra: Partial<DecideInput> = {}, rps = 100): DecideInput {
  const list = instances(4)
  const s = signals(sameSample(list, { cpuRatio: 0.7, memoryMiB: 300.5, rps }), { rps: 400, latencyMs: { p95: 120 }, demandSteps: { stepMs: 1000, values: Float64Array.from([380, 400.5, 419]) } }, t0)
  const base = decideInput({ spec: groupSpec({ size: medium, sizes: ladder, ...fields }), instances: list, signals: s, nowMs: t0 })
  return { ...base, startupMs: 31_500, ...extra }
}

const usage = usageOf([0.3, 0.45, 0.5, 1.2, 0.8], [300, 320, 410, 700], t0 - 3_600_000, { usageMiB: 650, atMs: t0 - minute })
const rps100 = [{ type: 'rps' as const, target: { averageValue: 100 } }]

const cases: { name: string; input: DecideInput; check: (d: ReturnType<typeof decide>) => void }[] = [
  {
    name: 'vertical auto and predictive: usage histograms and a forecast',
    input: input({ metrics: rps100, vertical: { mode: 'auto' }, predictive: { mode: 'forecastAndScale' } }, { usage, forecast }),
    check: (d) => {
      assert.ok(d.recommendations.some((r) => r.policy === 'vertical' && r.size !== undefined), 'the vertical policy read the usage')
      assert.ok(d.recommendations.some((r) => r.policy === 'predictive' && r.replicas !== undefined), 'the predictive policy read the forecast')
    },
  },
  {
    name: 'the mixed planner, which reads the usage too',
    input: input({ metrics: rps100, strategy: 'mixed' }, { usage }),
    check: (d) => {
      assert.ok(d.to > 0)
    },
  },
  {
    name: 'slo with a learned headroom',
    input: input({ slo: { latencyP95Ms: 200, instanceRps: 120 } }, { headroom }),
    check: (d) => {
      assert.ok(d.recommendations.some((r) => r.policy === 'slo' && r.replicas !== undefined))
    },
  },
  {
    name: 'no signals at all',
    input: { ...input({ metrics: rps100 }), signals: undefined },
    check: (d) => {
      assert.equal(d.kind, 'skip')
    },
  },
]

for (const c of cases) {
  test(`replay: ${c.name}: text → parse gives the same decision, and the same text again`, () => {
    const text = decideInputText(c.input)
    const replayed = parseDecideInput(text)
    const want = decide(c.input)
    c.check(want)
    assert.deepEqual(decide(replayed), want)
    assert.equal(JSON.stringify(decide(replayed)), JSON.stringify(want), 'byte for byte')
    assert.equal(decideInputText(replayed), text)
  })
}

test('replay: a plain JSON.stringify → parse of the input keeps usage, forecast and headroom as they were (plain data)', () => {
  const c = input({ metrics: rps100, vertical: { mode: 'auto' } }, { usage, forecast, headroom })
  const back = JSON.parse(JSON.stringify(c)) as DecideInput
  assert.deepEqual(back.usage, c.usage)
  assert.deepEqual(back.forecast, c.forecast)
  assert.deepEqual(back.headroom, c.headroom)
  assert.deepEqual(back.spec, c.spec)
})

test('replay: a fleet of inputs replays to the same decisions (decideFleet)', () => {
  // Each group wants 4 × 200/100 = 8; 12 instances in all leave room for 4 more.
  const fleet = [input({ group: 'a', metrics: rps100 }, {}, 200), input({ group: 'b', metrics: rps100, vertical: { mode: 'auto' } }, { usage }, 200)]
  const replayed = fleet.map((i) => parseDecideInput(decideInputText(i)))
  const quotas = { maxInstances: 12 }
  const want = decideFleet(fleet, quotas)
  assert.equal(want.reduce((n, d) => n + d.to, 0), 12, 'the quota binds')
  assert.deepEqual(decideFleet(replayed, quotas), want)
})

test('replay: a number JSON cannot hold is refused, naming the field', () => {
  const list = instances(2)
  const bad = decideInput({ spec: groupSpec({}), instances: list, signals: signals(sameSample(list, { cpuRatio: Number.NaN })), nowMs: t0 })
  assert.throws(() => decideInputText(bad), /decision input: field "cpuRatio" is NaN/)
})
