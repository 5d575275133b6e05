/**
 * Property-based tests of decide() with fast-check (issue 13): over random group specs and random
 * runs of ticks (signals present, partly missing, absent; quotas; time passing), every decision
 * stays within min/max and the quota room, never scales in while metrics are missing, never moves
 * faster than the behavior's rate policies allow (recomputed here from the run's own scale
 * events, independently of the engine's pruned history), and is the same for the same input,
 * also after a round trip through the replay text. Fixed seeds: a failure prints its seed and
 * the shrunk counterexample (fast-check's report), and re-runs the same cases.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { decide } from '../../src/engine/decide.ts'
import { decideInputText, parseDecideInput } from '../../src/engine/replay.ts'
import type { DecideInput, Decision, InstanceSample, InstanceView, QuotaRoom, ScaleEvent, ScaleHistory } from '../../src/engine/types.ts'
import { emptyHistory } from '../../src/engine/types.ts'
import type { GroupSpec, ScalingRules } from '../../src/spec/schema.ts'
import { groupSpec } from './fixtures.ts'

const SEED = 20261206
const NUM_RUNS = 150

// Small values and periods near the tick spacing often, so that the rate policies bind and their windows slide.
const ratePolicy = fc.record({
  type: fc.constantFrom('Pods' as const, 'Percent' as const),
  value: fc.oneof(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 200 })),
  periodSeconds: fc.oneof(fc.integer({ min: 1, max: 60 }), fc.integer({ min: 1, max: 300 })),
})
const rules = fc.record({
  stabilizationWindowSeconds: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 600 })),
  tolerance: fc.constantFrom(0, 0.1, 0.5),
  policies: fc.array(ratePolicy, { minLength: 1, maxLength: 3 }),
  selectPolicy: fc.constantFrom('Max' as const, 'Min' as const, 'Max' as const, 'Disabled' as const),
})
const metrics = fc
  .subarray(['cpu', 'rps', 'inflight'] as const, { minLength: 1 })
  .chain((types) =>
    fc.tuple(...types.map((t) => (t === 'cpu' ? fc.integer({ min: 10, max: 95 }).map((u) => ({ type: 'cpu' as const, target: { averageUtilization: u } })) : fc.integer({ min: 1, max: 200 }).map((v) => ({ type: t, target: { averageValue: v } }))))),
  )

/** A horizontal sim group: bounds, metrics and HPA behavior at random. */
const specs = fc
  .record({ min: fc.integer({ min: 0, max: 5 }), span: fc.integer({ min: 1, max: 40 }), metrics, up: rules, down: rules, cpu: fc.constantFrom(0.5, 1, 2) })
  .map(({ min, span, metrics: m, up, down, cpu }) =>
    groupSpec({ replicas: { min, max: min + span }, metrics: m, behavior: { scaleUp: up, scaleDown: down }, size: { cpu, memoryMiB: 512 }, syncPeriodSeconds: 15 }),
  )

/** What the controller saw at one tick. */
const ticks = fc.record({
  dtSeconds: fc.oneof(fc.integer({ min: 1, max: 20 }), fc.integer({ min: 1, max: 90 })),
  /** all: every instance sampled; missing-one: one instance unsampled; no-cpu: samples without cpu; none: no sample at all; undefined: no signals. */
  readings: fc.constantFrom('all' as const, 'all' as const, 'all' as const, 'missing-one' as const, 'no-cpu' as const, 'none' as const, 'undefined' as const),
  cpuRatio: fc.oneof(fc.constantFrom(0, 0.05, 3), fc.double({ min: 0, max: 3, noNaN: true })),
  rps: fc.double({ min: 0, max: 500, noNaN: true }),
  inFlight: fc.double({ min: 0, max: 300, noNaN: true }),
  quota: fc.option(fc.record({ instances: fc.integer({ min: 0, max: 20 }), cpu: fc.integer({ min: 0, max: 40 }) }), { nil: undefined }),
})

const T0 = 1_800_000_000_000

function instancesOf(count: number, spec: GroupSpec): InstanceView[] {
  return Array.from({ length: count }, (_, n) => ({ id: `i${n}`, phase: 'in-service' as const, size: spec.size, launchedAtMs: 0, readyAtMs: 0, protectedFromScaleIn: false }))
}

/**
 * The decide() input of one tick: `desired` in-service instances, each sampled as the tick says.
 * With `lastSample`, the last instance reports that instead (the idle twin of a missing sample).
 */
function inputOf(spec: GroupSpec, desired: number, history: ScaleHistory, nowMs: number, tick: TickValue, lastSample?: InstanceSample): DecideInput {
  const list = instancesOf(desired, spec)
  const sample: InstanceSample = { cpuRatio: tick.cpuRatio, cpuAtMs: nowMs, cpuWindowMs: 15_000, rps: tick.rps, inFlight: tick.inFlight }
  const samples = new Map<string, InstanceSample>()
  if (tick.readings === 'all' || tick.readings === 'missing-one') for (const i of list) samples.set(i.id, sample)
  if (tick.readings === 'no-cpu') for (const i of list) samples.set(i.id, { rps: tick.rps, inFlight: tick.inFlight })
  const last = list.at(-1)
  if (tick.readings === 'missing-one' && last !== undefined) samples.delete(last.id)
  if (lastSample !== undefined && last !== undefined) samples.set(last.id, { cpuAtMs: nowMs, cpuWindowMs: 15_000, ...lastSample })
  const quotaRoom: QuotaRoom | undefined = tick.quota
  return {
    spec,
    state: { desiredReplicas: desired, size: spec.size, instances: list, history },
    signals: tick.readings === 'undefined' ? undefined : { atMs: nowMs, instances: samples, group: tick.readings === 'all' && lastSample === undefined ? { rps: tick.rps * list.length } : {} },
    nowMs,
    ...(quotaRoom === undefined ? {} : { quotaRoom }),
  }
}
type TickValue = { dtSeconds: number; readings: 'all' | 'missing-one' | 'no-cpu' | 'none' | 'undefined'; cpuRatio: number; rps: number; inFlight: number; quota: { instances: number; cpu: number } | undefined }

/** Σ|delta| of the events within (nowMs − periodSeconds, nowMs]: the HPA's getReplicasChangePerPeriod. */
function changed(events: readonly ScaleEvent[], periodSeconds: number, nowMs: number): number {
  return events.filter((e) => e.atMs > nowMs - periodSeconds * 1000).reduce((n, e) => n + Math.abs(e.delta), 0)
}

/** The furthest the rate policies let the count move from `from` now, in the direction of `r`, from the run's own events. */
function rateBound(r: ScalingRules, direction: 'up' | 'down', from: number, up: readonly ScaleEvent[], down: readonly ScaleEvent[], nowMs: number): number {
  if (r.selectPolicy === 'Disabled') return from
  const limits = r.policies.map((p) => {
    const start = from - changed(up, p.periodSeconds, nowMs) + changed(down, p.periodSeconds, nowMs)
    if (direction === 'up') return p.type === 'Pods' ? start + p.value : Math.ceil(start * (1 + p.value / 100))
    return p.type === 'Pods' ? start - p.value : Math.trunc(start * (1 - p.value / 100))
  })
  const pickUp = r.selectPolicy === 'Max' ? Math.max : Math.min
  const pickDown = r.selectPolicy === 'Max' ? Math.min : Math.max
  return direction === 'up' ? pickUp(...limits) : pickDown(...limits)
}

/** Runs the ticks through decide(), feeding each decision's count and history into the next, and checks every decision. */
function checkRun(spec: GroupSpec, initial: number, run: readonly TickValue[]): void {
  let desired = Math.min(Math.max(initial, spec.replicas.min, 1), spec.replicas.max)
  let history: ScaleHistory = emptyHistory
  let nowMs = T0
  const up: ScaleEvent[] = []
  const down: ScaleEvent[] = []
  for (const [i, tick] of run.entries()) {
    nowMs += tick.dtSeconds * 1000
    const input = inputOf(spec, desired, history, nowMs, tick)
    const d: Decision = decide(input)
    const { from, to } = d
    const where = `tick ${i} (${tick.readings}): ${from} → ${to}: ${d.explanation}`
    // Within min/max.
    assert.ok(to >= spec.replicas.min && to <= spec.replicas.max, `outside [${spec.replicas.min}, ${spec.replicas.max}]: ${where}`)
    // Within the quota room: growth only as far as the room allows.
    if (to > from && tick.quota !== undefined) {
      assert.ok(to - from <= tick.quota.instances, `beyond the instance quota (${tick.quota.instances}): ${where}`)
      assert.ok((to - from) * spec.size.cpu <= tick.quota.cpu + 1e-9, `beyond the cpu quota (${tick.quota.cpu}): ${where}`)
    }
    // Never a scale-in on missing metrics; an instance without a sample is never taken for an idle one
    // (the HPA's rule: on scale-in a missing pod counts as at its target, on scale-out as idle).
    const cpuMissing = tick.readings === 'no-cpu' && spec.metrics.some((m) => m.type === 'cpu')
    if (tick.readings === 'none' || tick.readings === 'undefined' || cpuMissing) assert.ok(to >= from, `scaled in with metrics missing: ${where}`)
    if (tick.readings === 'missing-one') {
      const idle = decide(inputOf(spec, desired, history, nowMs, { ...tick, readings: 'all' }, { cpuRatio: 0, rps: 0, inFlight: 0 }))
      assert.ok(to >= idle.to, `a missing sample counted below an idle one (${idle.to}): ${where}`)
    }
    // Never faster than the rate policies.
    if (to > from) assert.ok(to <= Math.max(from, rateBound(spec.behavior.scaleUp, 'up', from, up, down, nowMs)), `beyond the scale-up rate: ${where}`)
    if (to < from) assert.ok(to >= Math.min(from, rateBound(spec.behavior.scaleDown, 'down', from, up, down, nowMs)), `beyond the scale-down rate: ${where}`)
    // Deterministic: the same input, and the same input after a replay round trip, give the same decision.
    assert.deepEqual(decide(input), d, `not deterministic: ${where}`)
    assert.deepEqual(decide(parseDecideInput(decideInputText(input))), d, `differs after replay: ${where}`)
    if (to > from) up.push({ atMs: nowMs, delta: to - from })
    if (to < from) down.push({ atMs: nowMs, delta: to - from })
    desired = to
    history = d.history
  }
}

test('decide(): bounds, quotas, missing metrics, rate policies and determinism over random runs', () => {
  fc.assert(
    fc.property(specs, fc.integer({ min: 0, max: 45 }), fc.array(ticks, { minLength: 1, maxLength: 40 }), (spec, initial, run) => {
      checkRun(spec, initial, run)
    }),
    { seed: SEED, numRuns: NUM_RUNS, endOnFailure: false },
  )
})

test('decide(): a group outside its bounds goes straight back to them, and never the other way', () => {
  fc.assert(
    fc.property(specs, fc.integer({ min: 0, max: 60 }), ticks, (spec, desired, tick) => {
      const d = decide(inputOf(spec, desired, emptyHistory, T0, tick))
      const { min, max } = spec.replicas
      if (desired === 0 && min > 0) assert.equal(d.to, 0, 'a group scaled to zero by hand is left alone (ScalingDisabled)')
      else if (desired > max) assert.ok(d.to <= max && d.to >= min, `${desired} → ${d.to}`)
      else if (desired < min) assert.ok(d.to >= desired && d.to <= min, `${desired} → ${d.to}`)
      else assert.ok(d.to >= min && d.to <= max)
    }),
    { seed: SEED + 1, numRuns: 500 },
  )
})
