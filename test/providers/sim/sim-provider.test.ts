import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ManualClock } from '../../../src/core/clock.ts'
import { SimCloud, SimProvider } from '../../../src/providers/sim/sim-provider.ts'
import { runProviderContract } from '../provider.contract.ts'
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
