import assert from 'node:assert/strict'
import { test } from 'node:test'
import { leastLoadedIndex, pickInstance } from '../../src/router/pick-instance.ts'

/** A random source that returns the given values in turn. */
function seq(...values: number[]): () => number {
  let i = 0
  return () => values[i++ % values.length] ?? 0
}

const loads = (...n: number[]) => n.map((inFlight) => ({ inFlight }))

const p2cCases = [
  // n = 3: a = floor(0 × 3) = 0; b = floor(0.5 × 2) = 1 → 1 ≥ a so b = 2; loads 5 vs 1 → 2
  { name: 'p2c takes the less loaded of the two picks', loads: loads(5, 9, 1), random: [0, 0.5], want: 2 },
  // a = floor(0.4 × 3) = 1; b = floor(0 × 2) = 0 → 0 < a so b = 0; loads 9 vs 5 → 0
  { name: 'p2c second pick below the first keeps its index', loads: loads(5, 9, 1), random: [0.4, 0], want: 0 },
  // a = 0, b = 1 (0 → 0 ≥ 0 → 1); tie 3 vs 3 → the first choice
  { name: 'p2c tie goes to the first choice', loads: loads(3, 3), random: [0, 0], want: 0 },
  // a = floor(0.99 × 2) = 1; b = 0; loads 7 vs 2 → 0
  { name: 'p2c picks are always distinct', loads: loads(2, 7), random: [0.99, 0.99], want: 0 },
  { name: 'one candidate is picked without randomness', loads: loads(4), random: [Number.NaN], want: 0 },
  // both picks (0 and 1) are full at 8; the scan finds index 3 with 2
  { name: 'full picks fall back to the least loaded', loads: loads(8, 8, 5, 2), random: [0, 0], want: 3 },
  { name: 'all full gives no pick', loads: loads(8, 9), random: [0, 0], want: undefined },
  { name: 'no candidates gives no pick', loads: loads(), random: [0], want: undefined },
] as const

for (const c of p2cCases) {
  test(c.name, () => {
    const pick = pickInstance(c.loads, { balance: 'p2c', random: seq(...c.random), cursor: 0, maxInFlight: 8 })
    assert.equal(pick.index, c.want)
  })
}

test('round-robin walks the candidates in order and wraps', () => {
  const candidates = loads(0, 0, 0)
  let cursor = 0
  const picked: (number | undefined)[] = []
  for (let i = 0; i < 5; i++) {
    const pick = pickInstance(candidates, { balance: 'round-robin', random: () => 0, cursor, maxInFlight: 8 })
    picked.push(pick.index)
    cursor = pick.nextCursor
  }
  assert.deepEqual(picked, [0, 1, 2, 0, 1])
})

test('round-robin skips a full instance for the least loaded', () => {
  const pick = pickInstance(loads(8, 3, 1), { balance: 'round-robin', random: () => 0, cursor: 0, maxInFlight: 8 })
  assert.equal(pick.index, 2)
})

test('p2c spreads evenly loaded picks over every candidate', () => {
  // With equal loads every candidate must be reachable as the first choice.
  const seen = new Set<number | undefined>()
  for (const r of [0, 0.3, 0.6, 0.9]) seen.add(pickInstance(loads(1, 1, 1), { balance: 'p2c', random: seq(r, 0), cursor: 0, maxInFlight: 8 }).index)
  assert.deepEqual([...seen].sort(), [0, 1, 2])
})

test('leastLoadedIndex returns the first minimum', () => {
  assert.equal(leastLoadedIndex(loads(3, 1, 1)), 1)
  assert.equal(leastLoadedIndex(loads()), undefined)
})
