import assert from 'node:assert/strict'
import { after, test } from 'node:test'
import { burn, calibrateIterationsPerMs } from '../../../examples/shop/work.ts'
import { WorkPool } from '../../../examples/shop/work-pool.ts'

test('burn is deterministic: the same seed and count give the same checksum, another seed another', () => {
  assert.equal(burn(10_000, 7), burn(10_000, 7))
  assert.notEqual(burn(10_000, 7), burn(10_000, 8))
  assert.notEqual(burn(10_000, 7), burn(10_001, 7))
  assert.equal(burn(0, 7), 0)
})

test('calibration yields a positive whole number of iterations per ms', () => {
  const n = calibrateIterationsPerMs(5)
  assert.ok(Number.isInteger(n) && n >= 1, String(n))
})

const sizes = [
  { cpu: 0.5, threads: 1, share: 0.5 },
  { cpu: 1, threads: 1, share: 1 },
  { cpu: 1.5, threads: 2, share: 0.75 }, // 1.5 cores over 2 threads
  { cpu: 2, threads: 2, share: 1 },
  { cpu: 3.2, threads: 4, share: 0.8 },
] as const
const pools: WorkPool[] = []
after(async () => {
  await Promise.all(pools.map((p) => p.close()))
})
for (const c of sizes) {
  test(`a ${c.cpu}-cpu instance gets ${c.threads} work threads at ${c.share} of a core each`, () => {
    const pool = new WorkPool({ cpu: c.cpu, iterationsPerMs: 1000 })
    pools.push(pool)
    assert.equal(pool.threads, c.threads)
    assert.equal(pool.shareOfCore, c.share)
  })
}

test('the pool runs workMs × iterationsPerMs iterations of burn in its threads, throttled or not', async () => {
  for (const cpu of [0.5, 2]) {
    const pool = new WorkPool({ cpu, iterationsPerMs: 1000 })
    pools.push(pool)
    // 3 ms × 1000 iterations/ms = 3000 iterations
    const results = await Promise.all([pool.run(3, 11), pool.run(3, 12), pool.run(3, 13)])
    assert.deepEqual(results, [burn(3000, 11), burn(3000, 12), burn(3000, 13)])
    assert.equal(pool.queued, 0)
  }
})

test('a closed pool refuses work', async () => {
  const pool = new WorkPool({ cpu: 1, iterationsPerMs: 1000 })
  await pool.close()
  await assert.rejects(pool.run(1, 1), /closed/)
})
