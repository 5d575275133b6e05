import { test } from 'node:test'
import assert from 'node:assert/strict'
import { stepPolicy, stepTarget, type StepRecommendation } from '../../../src/engine/policies/step.ts'
import { emptyHistory, type InstanceSample } from '../../../src/engine/types.ts'
import type { GroupInput, StepRule } from '../../../src/spec/schema.ts'
import { groupSpec, instances, policyInputFor, sameSample, signals } from '../fixtures.ts'

type Steps = NonNullable<GroupInput['steps']>

const nowMs = 10_000_000

function propose(steps: Steps, sample: InstanceSample, count = 4, stepFiredAtMs: Record<number, number> = {}, group: Parameters<typeof signals>[1] = {}): StepRecommendation | undefined {
  const list = instances(count)
  return stepPolicy.propose(
    policyInputFor({ spec: groupSpec({ steps, replicas: { min: 0, max: 100 } }), instances: list, signals: signals(sameSample(list, sample), group), nowMs, history: { ...emptyHistory, stepFiredAtMs } }),
  ) as StepRecommendation | undefined
}

const ladder: Steps = [
  { metric: { type: 'cpu' }, above: 80, change: { type: 'Pods', value: 2 } },
  { metric: { type: 'cpu' }, above: 95, change: { type: 'Percent', value: 100 } },
  { metric: { type: 'cpu' }, below: 20, change: { type: 'Pods', value: 1 } },
]

const cases = [
  // cpu 85 % > 80 %: +2 from 4 → 6.
  { name: 'one rule breached: +2 instances', steps: ladder, sample: { cpuRatio: 0.85 }, stepFiredAtMs: {}, replicas: 6, fired: [0] },
  // cpu 97 %: +2 → 6 and +100 % → 8; the largest change wins.
  { name: 'two rules breached: the largest change wins', steps: ladder, sample: { cpuRatio: 0.97 }, stepFiredAtMs: {}, replicas: 8, fired: [1] },
  // Rule 1 fired 30 s ago with the default 60 s cooldown: only rule 0 (+2) remains.
  { name: 'a rule in cooldown proposes nothing', steps: ladder, sample: { cpuRatio: 0.97 }, stepFiredAtMs: { 1: nowMs - 30_000 }, replicas: 6, fired: [0] },
  // 60 s later the cooldown is over.
  { name: 'a rule whose cooldown ended fires again', steps: ladder, sample: { cpuRatio: 0.97 }, stepFiredAtMs: { 1: nowMs - 60_000 }, replicas: 8, fired: [1] },
  // cpu 10 % < 20 %: −1 from 4 → 3.
  { name: 'below a threshold: scale in by 1', steps: ladder, sample: { cpuRatio: 0.1 }, stepFiredAtMs: {}, replicas: 3, fired: [2] },
  // disk write 60 MiB/s per instance > 50 (thresholds in MiB/s): +2 from 4 → 6.
  {
    name: 'disk write above its MiB/s threshold: +2 instances',
    steps: [{ metric: { type: 'disk', direction: 'write' }, above: 50, change: { type: 'Pods', value: 2 } }] as Steps,
    sample: { diskReadBytesPerSecond: 0, diskWriteBytesPerSecond: 60 * 1024 * 1024 },
    stepFiredAtMs: {},
    replicas: 6,
    fired: [0],
  },
  // 50 % breaches nothing: no opinion, so no veto of other policies' scale-in.
  { name: 'nothing breached: no count', steps: ladder, sample: { cpuRatio: 0.5 }, stepFiredAtMs: {}, replicas: undefined, fired: [] },
  // Thresholds are strict: exactly 80 % is not above 80 %.
  { name: 'exactly at the threshold is not a breach', steps: ladder, sample: { cpuRatio: 0.8 }, stepFiredAtMs: {}, replicas: undefined, fired: [] },
  {
    name: 'Exact sets the count',
    steps: [{ metric: { type: 'rps' }, above: 500, change: { type: 'Exact', value: 12 } }] satisfies Steps,
    sample: { rps: 600 },
    stepFiredAtMs: {},
    replicas: 12,
    fired: [0],
  },
] as const

for (const c of cases) {
  test(c.name, () => {
    const r = propose(c.steps, c.sample, 4, c.stepFiredAtMs)
    assert.equal(r?.replicas, c.replicas)
    assert.deepEqual(r?.firedRules, c.fired)
  })
}

/** Step rules read the value from the signals; where it came from is the poller's business. */
const PROM = { type: 'prometheus', url: 'http://127.0.0.1:9090' } as const

test('latency and external rules read group signals', () => {
  const steps: Steps = [
    { metric: { type: 'latency', percentile: 99 }, above: 500, change: { type: 'Pods', value: 3 } },
    { metric: { type: 'external', query: 'queue', source: PROM }, above: 1000, change: { type: 'Pods', value: 5 } },
  ]
  // p99 800 ms > 500 → 4 + 3 = 7; queue 2000 > 1000 → 4 + 5 = 9: 9 wins.
  const r = propose(steps, {}, 4, {}, { latencyMs: { p99: 800 }, external: { queue: 2000 } })
  assert.equal(r?.replicas, 9)
  assert.match(r.detail, /external queue 2000 > 1000 → \+5 instances/)
})

test('no signal for any rule: NoMetrics and no count', () => {
  const r = propose([{ metric: { type: 'external', query: 'gone', source: PROM }, above: 1, change: { type: 'Pods', value: 1 } }], {})
  assert.equal(r?.replicas, undefined)
  assert.equal(r?.reason, 'NoMetrics')
})

const rule = (change: StepRule['change'], side: 'above' | 'below'): StepRule => ({ metric: { type: 'cpu' }, [side]: 50, change, cooldownSeconds: 60 })

const targetCases = [
  { name: 'Pods +3 from 4', rule: rule({ type: 'Pods', value: 3 }, 'above'), current: 4, want: 7 },
  { name: 'Pods below ignores the sign: −3 from 4', rule: rule({ type: 'Pods', value: -3 }, 'below'), current: 4, want: 1 },
  // AWS rounds a percentage change down: 10 × 25 % = 2.5 → +2.
  { name: 'Percent +25 % of 10 rounds down to +2', rule: rule({ type: 'Percent', value: 25 }, 'above'), current: 10, want: 12 },
  // …and a change below 1 up to 1: 1 × 10 % = 0.1 → +1.
  { name: 'Percent +10 % of 1 is at least +1', rule: rule({ type: 'Percent', value: 10 }, 'above'), current: 1, want: 2 },
  { name: 'Percent −50 % of 5 removes floor(2.5) = 2', rule: rule({ type: 'Percent', value: 50 }, 'below'), current: 5, want: 3 },
  { name: 'Pods below never goes negative', rule: rule({ type: 'Pods', value: 9 }, 'below'), current: 4, want: 0 },
] as const
for (const c of targetCases) {
  test(`stepTarget: ${c.name}`, () => {
    assert.equal(stepTarget(c.rule, c.current), c.want)
  })
}
