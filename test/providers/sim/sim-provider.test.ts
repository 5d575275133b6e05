import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ManualClock } from '../../../src/core/clock.ts'
import { SimCloud, SimProvider } from '../../../src/providers/sim/sim-provider.ts'
import { runProviderContract } from '../provider.contract.ts'
import { isInsufficientCapacityError, isThrottledError } from '../../../src/providers/errors.ts'
import { GroupSchema } from '../../../src/spec/schema.ts'

const spec = GroupSchema.parse({ group: 'shop', provider: 'sim', startupSeconds: 30 })
const other = GroupSchema.parse({ group: 'other', provider: 'sim', startupSeconds: 5 })
const size = { cpu: 1, memoryMiB: 512 }

test('a launched instance is starting until its startup has passed, then running with readyAtMs', async () => {
  const clock = new ManualClock(1_000)
  const p = new SimProvider({ clock })
  const [launched] = await p.launch(spec, size, 1)
  assert.equal(launched?.status, 'starting')
  assert.equal(launched.launchedAtMs, 1_000)
  clock.advance(29_999)
  assert.equal((await p.list(spec))[0]?.status, 'starting')
  clock.advance(1) // 1_000 + 30_000 = 31_000: ready now
  const [ready] = await p.list(spec)
  assert.equal(ready?.status, 'running')
  assert.equal(ready.readyAtMs, 31_000)
})

test('the startupSeconds option overrides the group spec', async () => {
  const clock = new ManualClock(0)
  const p = new SimProvider({ clock, startupSeconds: 2 })
  await p.launch(spec, size, 1)
  clock.advance(2_000)
  assert.equal((await p.list(spec))[0]?.status, 'running')
})

test('groups are kept apart and ids are unique', async () => {
  const clock = new ManualClock(0)
  const p = new SimProvider({ clock })
  const a = await p.launch(spec, size, 3)
  const b = await p.launch(other, size, 2)
  assert.equal((await p.list(spec)).length, 3)
  assert.equal((await p.list(other)).length, 2)
  assert.equal(new Set([...a, ...b].map((r) => r.id)).size, 5)
})

test('terminate removes the instance and is idempotent', async () => {
  const clock = new ManualClock(0)
  const p = new SimProvider({ clock })
  const [r] = await p.launch(spec, size, 1)
  await p.terminate(spec, r!.id)
  await p.terminate(spec, r!.id)
  await p.terminate(spec, 'never-existed')
  assert.deepEqual(await p.list(spec), [])
  assert.equal(p.liveCount('shop'), 0)
})

test('billing runs from launch to termination exactly', async () => {
  const clock = new ManualClock(10_000)
  const p = new SimProvider({ clock })
  const [a] = await p.launch(spec, size, 1) // a: 10 s → 70 s = 60 s
  clock.advance(20_000)
  await p.launch(spec, size, 2) // two more from 30 s, still live at 100 s: 2 × 70 s
  clock.advance(40_000)
  await p.terminate(spec, a!.id)
  clock.advance(30_000)
  // 60 s + 2 × 70 s = 200 s
  assert.equal(p.billedInstanceMs('shop'), 200_000)
  // a reading for an earlier moment counts live instances up to then: 60 s + 2 × 40 s
  assert.equal(p.billedInstanceMs('shop', 70_000), 140_000)
  assert.equal(p.billedInstanceMs('other'), 0)
})

test('seeded instances serve from readyAtMs and are billed from startup before it', async () => {
  const clock = new ManualClock(0)
  const p = new SimProvider({ clock })
  const [s] = p.seed(spec, size, 1, 0)
  assert.equal(s?.launchedAtMs, -30_000)
  assert.equal((await p.list(spec))[0]?.status, 'running')
  clock.advance(10_000)
  assert.equal(p.billedInstanceMs('shop') - p.billedInstanceMs('shop', 0), 10_000)
})

test('version changes on launch and terminate only', async () => {
  const clock = new ManualClock(0)
  const p = new SimProvider({ clock })
  const v0 = p.version('shop')
  const [r] = await p.launch(spec, size, 1)
  const v1 = p.version('shop')
  assert.notEqual(v1, v0)
  await p.list(spec)
  assert.equal(p.version('shop'), v1)
  await p.terminate(spec, r!.id)
  assert.notEqual(p.version('shop'), v1)
})

test('bad counts are programmer errors', async () => {
  const p = new SimProvider({ clock: new ManualClock(0) })
  await assert.rejects(async () => p.launch(spec, size, -1), RangeError)
  assert.throws(() => new SimProvider({ clock: new ManualClock(0), startupSeconds: -1 }), RangeError)
})

test('maxInstances: a launch gets the room left across all groups, and none left is InsufficientCapacityError', async () => {
  const clock = new ManualClock(0)
  const cloud = new SimCloud({ maxInstances: 4 })
  const p = new SimProvider({ clock, cloud })
  assert.equal((await p.launch(spec, size, 3)).length, 3)
  assert.equal((await p.launch(other, size, 3)).length, 1, 'a partial launch: 4 − 3 = 1 fits')
  await assert.rejects(p.launch(spec, size, 1), (err: unknown) => {
    assert.ok(isInsufficientCapacityError(err))
    assert.equal(err.retryable, true)
    assert.match(err.message, /group shop: the platform is full \(4 of its 4 instances live\)/)
    return true
  })
  assert.deepEqual(await p.launch(spec, size, 0), [], 'launching none needs no room')
  const [first] = p.instances('shop')
  await p.terminate(spec, first!.id)
  assert.equal((await new SimProvider({ clock, cloud }).launch(spec, size, 2)).length, 1, 'room freed on the platform, for every provider over it')
  assert.equal(cloud.liveTotal(), 4)
})

test('apiRateLimit: calls beyond the window are ThrottledError with the time left; the next window admits again', async () => {
  const clock = new ManualClock(1_000)
  const p = new SimProvider({ clock, cloud: new SimCloud({ apiRateLimit: { maxCalls: 2, perSeconds: 10 } }) })
  await p.list(spec) // window 1 s … 11 s, call 1
  clock.advance(4_000)
  const [r] = await p.launch(spec, size, 1) // call 2 at 5 s
  await assert.rejects(p.terminate(spec, r!.id), (err: unknown) => {
    assert.ok(isThrottledError(err))
    assert.equal(err.retryAfterMs, 6_000) // 11 s − 5 s
    assert.equal(err.retryable, true)
    return true
  })
  assert.equal(p.liveCount('shop'), 1, 'the refused terminate did nothing')
  clock.advance(6_000) // 11 s: a new window
  await p.terminate(spec, r!.id)
  assert.equal(p.liveCount('shop'), 0)
})

test('bad platform limits are programmer errors', () => {
  assert.throws(() => new SimCloud({ maxInstances: -1 }), RangeError)
  assert.throws(() => new SimCloud({ maxInstances: 1.5 }), RangeError)
  assert.throws(() => new SimCloud({ apiRateLimit: { maxCalls: 0, perSeconds: 1 } }), RangeError)
  assert.throws(() => new SimCloud({ apiRateLimit: { maxCalls: 1, perSeconds: 0 } }), RangeError)
})

// The common provider contract, with simulated time: each poll advances the clock 5 s.
runProviderContract('sim', () => {
  const clock = new ManualClock(0)
  const cloud = new SimCloud()
  return {
    group: spec,
    newProvider: () => new SimProvider({ clock, cloud }),
    tick: () => {
      clock.advance(5_000)
      return Promise.resolve()
    },
    cleanup: () => Promise.resolve(),
  }
})
