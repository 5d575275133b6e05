import { test } from 'node:test'
import assert from 'node:assert/strict'
import { decide } from '../../../src/engine/decide.ts'
import { appliedHeadroom, sloPolicy } from '../../../src/engine/policies/slo.ts'
import { policyInput } from '../../../src/engine/policies/policy.ts'
import type { HeadroomEstimate } from '../../../src/forecast/headroom-learner.ts'
import type { GroupInput } from '../../../src/spec/schema.ts'
import { decideInput, groupSpec, instances, signals } from '../fixtures.ts'

const learned = (headroom: number, extra: Partial<HeadroomEstimate> = {}): HeadroomEstimate => ({
  source: 'learned',
  headroom,
  smoothingSeconds: 15,
  holdSeconds: 60,
  quantile: 0.995,
  scope: 'hour-of-day',
  hour: 14,
  historySeconds: 86_400,
  neededSeconds: 3600,
  windowDays: 7,
  lagSeconds: 75,
  ...extra,
})

const early: HeadroomEstimate = { source: 'default', smoothingSeconds: 15, holdSeconds: 60, quantile: 0.995, scope: 'all', hour: 0, historySeconds: 1200, neededSeconds: 3600, windowDays: 7, lagSeconds: 60 }

interface Case {
  readonly name: string
  readonly slo: GroupInput['slo']
  readonly demand: number | undefined
  readonly headroom?: HeadroomEstimate
  readonly size?: { cpu: number; memoryMiB: number }
  readonly want: number | undefined
  readonly reason?: string
  readonly detail?: RegExp
}

const cases: readonly Case[] = [
  // 50 / 1.25 = 40 req/s per instance; 380 / 40 = 9.5 → 10
  { name: 'learned 25 %: ⌈380 ÷ (50 ÷ 1.25)⌉ = 10', slo: { instanceRps: 50 }, demand: 380, headroom: learned(0.25), want: 10, reason: 'LearnedHeadroom', detail: /target 40 req\/s per instance: 25 % headroom covers the 99\.5th percentile of 75 s rises over the last 7 days at 13:00–16:00 UTC/ },
  // 400 / 40 = 10 exactly: no extra instance for floating-point noise
  { name: 'an exact multiple does not round up', slo: { instanceRps: 50 }, demand: 400, headroom: learned(0.25), want: 10 },
  // default 40 %: 50 / 1.4 = 35.7; 100 / 35.7 = 2.8 → 3
  { name: 'before enough history: the safe default of 40 %, said so', slo: { instanceRps: 50 }, demand: 100, headroom: early, want: 3, reason: 'DefaultHeadroom', detail: /40 % headroom safe default until enough demand history is learned \(20 min of 1 h\)/ },
  { name: 'no learner at all is the same safe default', slo: { instanceRps: 50 }, demand: 100, want: 3, reason: 'DefaultHeadroom' },
  // fixed 10 %: 50 / 1.1 = 45.45; 100 / 45.45 = 2.2 → 3 — the learned figure is ignored
  { name: 'fixed headroom ignores the learner', slo: { instanceRps: 50, headroom: { mode: 'fixed', percent: 10 } }, demand: 100, headroom: learned(0.8), want: 3, detail: /10 % headroom fixed/ },
  // learned 1 % is raised to the 5 % minimum: 50 / 1.05 = 47.6; 300 / 47.6 = 6.3 → 7
  { name: 'a learned headroom below minPercent is raised to it', slo: { instanceRps: 50 }, demand: 300, headroom: learned(0.01), want: 7, detail: /learned 1 %, raised to slo\.headroom\.minPercent/ },
  // learned 500 % is capped at 300 %: 50 / 4 = 12.5; 100 / 12.5 = 8
  { name: 'a learned headroom above maxPercent is capped', slo: { instanceRps: 50 }, demand: 100, headroom: learned(5), want: 8, detail: /capped by slo\.headroom\.maxPercent/ },
  // an instance of 2 cpu (base 1) serves twice as much: 100 / 1.25 = 80; 380 / 80 = 4.75 → 5
  { name: 'a bigger size serves more per instance', slo: { instanceRps: 50 }, demand: 380, headroom: learned(0.25), size: { cpu: 2, memoryMiB: 1024 }, want: 5 },
  // the learner's reference (a held mean) is what is sized for, and the signal is shown beside it
  { name: 'the learned reference demand is sized for, not the last window', slo: { instanceRps: 50 }, demand: 200, headroom: learned(0.25, { referenceRps: 300, smoothingSeconds: 300, holdSeconds: 900 }), want: 8, detail: /demand 300 req\/s \(the highest 300 s mean of the last 900 s; now 200\)/ },
  { name: 'zero demand asks for zero (min replicas floors it)', slo: { instanceRps: 50 }, demand: 0, headroom: learned(0.25), want: 0 },
  { name: 'no demand reading: no count, and scale-in is blocked', slo: { instanceRps: 50 }, demand: undefined, headroom: learned(0.25), want: undefined, reason: 'NoDemand' },
]

for (const c of cases) {
  test(`slo policy: ${c.name}`, () => {
    const spec = groupSpec({ slo: c.slo, replicas: { min: 0, max: 100 } })
    const list = instances(4)
    const input = decideInput({ spec, instances: list, signals: signals({}, c.demand === undefined ? {} : { rps: c.demand }) })
    const state = c.size === undefined ? input.state : { ...input.state, size: c.size }
    const r = sloPolicy.propose(policyInput({ ...input, state, ...(c.headroom === undefined ? {} : { headroom: c.headroom }) }))
    assert.ok(r)
    assert.equal(r.policy, 'slo')
    assert.equal(r.replicas, c.want)
    if (c.want === undefined) assert.equal(r.blocksScaleIn, true)
    if (c.reason !== undefined) assert.equal(r.reason, c.reason)
    if (c.detail !== undefined) assert.match(r.detail, c.detail)
  })
}

test('slo policy: silent without slo.instanceRps (the objective alone is accounted, not scaled on)', () => {
  const spec = groupSpec({ slo: { latencyP95Ms: 300 } })
  assert.equal(sloPolicy.propose(policyInput(decideInput({ spec, instances: instances(2), signals: signals({}, { rps: 100 }) }))), undefined)
})

test('appliedHeadroom: the clamp and the words', () => {
  const spec = groupSpec({ slo: { instanceRps: 50, headroom: { minPercent: 10, maxPercent: 50 } } })
  const slo = spec.slo
  assert.ok(slo)
  assert.equal(appliedHeadroom(slo, learned(0.3)).ratio, 0.3)
  assert.equal(appliedHeadroom(slo, learned(0.05)).ratio, 0.1)
  assert.equal(appliedHeadroom(slo, learned(0.9)).ratio, 0.5)
  assert.equal(appliedHeadroom(slo, learned(0.3, { scope: 'all' })).why, 'covers the 99.5th percentile of 75 s rises over the last 7 days')
})

test('decide: the explanation names the headroom and the target', () => {
  const spec = groupSpec({ slo: { instanceRps: 50 }, replicas: { min: 1, max: 20 } })
  const input = { ...decideInput({ spec, instances: instances(4), signals: signals({}, { rps: 380 }) }), headroom: learned(0.25) }
  const d = decide(input)
  assert.equal(d.to, 8) // 4 → 10 wanted, capped by the default scale-up policy (+100 %, or +4) to 8
  assert.match(d.explanation, /^scaled 4→8: demand 380 req\/s at target 40 req\/s per instance: 25 % headroom covers the 99\.5th percentile/)
})

test('decide: a fast re-decision (scaleOutOnly) never scales in', () => {
  const spec = groupSpec({ slo: { instanceRps: 50 }, replicas: { min: 1, max: 20 }, behavior: { scaleDown: { stabilizationWindowSeconds: 0 } } })
  const input = { ...decideInput({ spec, instances: instances(6), signals: signals({}, { rps: 40 }) }), headroom: learned(0.25), scaleOutOnly: true }
  const d = decide(input)
  assert.equal(d.to, 6)
  assert.equal(d.kind, 'hold')
  assert.ok(d.limits.some((l) => l.guard === 'fast-path'))
  const slow = decide({ ...input, scaleOutOnly: false })
  assert.equal(slow.to, 1) // ⌈40 ÷ 40⌉ = 1 on a sync period
})
