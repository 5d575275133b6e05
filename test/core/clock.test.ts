import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ManualClock, systemClock } from '../../src/core/clock.ts'

test('ManualClock moves only when told: advance adds, set jumps', () => {
  const clock = new ManualClock(1_000)
  assert.equal(clock.now(), 1_000)
  assert.equal(clock.now(), 1_000, 'reading does not move it')
  clock.advance(15_000)
  assert.equal(clock.now(), 16_000)
  clock.set(5)
  assert.equal(clock.now(), 5)
  assert.equal(new ManualClock().now(), 0, 'starts at the epoch by default')
})

test('systemClock reads the wall clock in epoch milliseconds', () => {
  const before = Date.now()
  const now = systemClock.now()
  assert.ok(now >= before && now <= Date.now(), `${now} within [${before}, now]`)
})
