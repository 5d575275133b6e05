import { test } from 'node:test'
import assert from 'node:assert/strict'
import { neededInstances, oracleSchedule } from '../../src/simulator/oracle.ts'

/**
 * Exhaustive search for the cheapest schedule, independent of the oracle's level
 * argument: a memoised search over every launch and termination choice in every
 * step. State: instances serving, and instances still starting by steps to go.
 * The warm start lets the initial state be anything, for free (as the oracle does).
 */
function bruteForceCost(needed: readonly number[], startup: number): number {
  const peak = Math.max(0, ...needed)
  const memo = new Map<string, number>()
  const best = (t: number, serving: number, pending: readonly number[]): number => {
    if (t === needed.length) return 0
    const key = `${t}|${serving}|${pending.join(',')}`
    const hit = memo.get(key)
    if (hit !== undefined) return hit
    const readyNow = serving + (startup > 0 ? (pending[0] ?? 0) : 0)
    const stillStarting = pending.slice(1).reduce((a, b) => a + b, 0)
    let cost = Infinity
    for (let terminate = 0; terminate <= readyNow; terminate++) {
      for (let launch = 0; launch <= peak; launch++) {
        const servingAfter = readyNow - terminate + (startup === 0 ? launch : 0)
        if (servingAfter < (needed[t] ?? 0) || servingAfter > peak) continue
        const billed = servingAfter + stillStarting + (startup > 0 ? launch : 0)
        const next = startup > 0 ? [...pending.slice(1), launch] : []
        cost = Math.min(cost, billed + best(t + 1, servingAfter, next))
      }
    }
    memo.set(key, cost)
    return cost
  }
  // Any warm start: serving s and any instances part-way through their start-up.
  let cost = Infinity
  const starts = (len: number): number[][] => (len === 0 ? [[]] : starts(len - 1).flatMap((p) => Array.from({ length: peak + 1 }, (_, i) => [...p, i])))
  for (let s = 0; s <= peak; s++) {
    for (const p of starts(startup)) {
      // pending[0] becomes ready at step 0, so it is the same as serving; p[j] is ready at step j.
      if ((p[0] ?? 0) > 0) continue
      cost = Math.min(cost, best(0, s, p))
    }
  }
  return cost
}

const cases = [
  // Short gap (2 < startup 3): keep the second instance through it: 6 steps × 2 = 12.
  { name: 'a gap shorter than the startup is bridged', needed: [2, 2, 1, 1, 2, 2], startup: 3, cost: 12 },
  // Long gap (4 ≥ startup 2): terminate at 2, relaunch at 4 (billed 4–5 starting) → 1×8 + 2 + 2 + 2 = 14.
  { name: 'a gap as long as the startup is not bridged', needed: [2, 2, 1, 1, 1, 1, 2, 2], startup: 2, cost: 14 },
  // A surge at step 3 with startup 2: launch at step 1 → billed [1,2,2,2,2] = 9.
  { name: 'capacity is launched startup ahead of a surge', needed: [1, 1, 1, 2, 2], startup: 2, cost: 9 },
  // Level 2 is needed from step 1 with startup 3: launched at step −2, billed only from 0: [2,2,2] = 6.
  { name: 'a launch that would fall before step 0 is billed from step 0', needed: [1, 2, 2], startup: 3, cost: 6 },
  { name: 'zero startup: the oracle is the need itself', needed: [0, 3, 1, 0, 2], startup: 0, cost: 6 },
  { name: 'nothing needed costs nothing', needed: [0, 0, 0], startup: 2, cost: 0 },
] as const
for (const c of cases) {
  test(c.name, () => {
    const s = oracleSchedule(Int32Array.from(c.needed), c.startup)
    assert.equal(s.billedInstanceSteps, c.cost)
    assert.equal(bruteForceCost(c.needed, c.startup), c.cost, 'the exhaustive search agrees with the hand count')
    for (let t = 0; t < c.needed.length; t++) assert.ok(s.serving[t]! >= c.needed[t]!, `step ${t} is served`)
  })
}

test('the oracle is optimal on random small cases (exhaustive search)', () => {
  // A fixed-seed LCG so that the cases are the same on every run.
  let seed = 12345
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2147483648
    return seed % n
  }
  for (let i = 0; i < 120; i++) {
    const startup = rand(4)
    const needed = Array.from({ length: 3 + rand(4) }, () => rand(startup >= 3 ? 3 : 4))
    const got = oracleSchedule(Int32Array.from(needed), startup)
    const want = bruteForceCost(needed, startup)
    assert.equal(got.billedInstanceSteps, want, `needed ${needed.join(',')} startup ${startup}`)
  }
})

test('billed and serving counts are consistent: serving ≥ need, billed ≥ serving', () => {
  const needed = Int32Array.from([1, 3, 3, 0, 0, 0, 0, 2, 5, 1, 1, 4])
  const s = oracleSchedule(needed, 2)
  let sum = 0
  for (let t = 0; t < needed.length; t++) {
    assert.ok(s.serving[t]! >= needed[t]!)
    assert.ok(s.billed[t]! >= s.serving[t]!)
    sum += s.billed[t]!
  }
  assert.equal(s.billedInstanceSteps, sum)
  assert.ok(s.scaleOutActions > 0 && s.scaleInActions > 0)
})

const neededCases = [
  { name: 'rounds up', load: [150], capacity: 100, min: 0, want: [2] },
  { name: 'an exact multiple is not rounded up by float error', load: [0.1 * 3 * 1000], capacity: 100, min: 0, want: [3] },
  { name: 'min replicas is a floor', load: [0, 50], capacity: 100, min: 2, want: [2, 2] },
  { name: 'zero load needs zero without a min', load: [0], capacity: 100, min: 0, want: [0] },
] as const
for (const c of neededCases) {
  test(`neededInstances ${c.name}`, () => {
    assert.deepEqual([...neededInstances(Float64Array.from(c.load), c.capacity, c.min)], c.want)
  })
}

test('a warm start above the first need: instances kept while they bridge to their need, else stopped at no cost', () => {
  // needed 1 for 3 steps, then 3; start-up 2 steps; 3 instances start the window.
  const needed = Int32Array.from([1, 1, 1, 3, 3])
  const s = oracleSchedule(needed, 2, 3)
  // Levels 2 and 3 are needed from step 3: a gap of 3 ≥ start-up 2, so they are stopped at step 0
  // and relaunched at step 1 — billed 4 steps each instead of 5.
  assert.deepEqual([...s.billed], [1, 3, 3, 3, 3])
  assert.deepEqual([...s.serving], [1, 1, 1, 3, 3])
  // With a start-up of 4 steps bridging is cheaper: the warm instances keep running (and serving).
  const bridged = oracleSchedule(needed, 4, 3)
  assert.deepEqual([...bridged.billed], [3, 3, 3, 3, 3])
  assert.deepEqual([...bridged.serving], [3, 3, 3, 3, 3])
  assert.throws(() => oracleSchedule(needed, 2, -1), /initial/)
})
