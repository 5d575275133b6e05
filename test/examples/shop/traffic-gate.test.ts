import assert from 'node:assert/strict'
import { test } from 'node:test'
import { TrafficGate } from '../../../examples/shop/traffic-gate.ts'

test('counts in-flight and served; a done callback counts once', () => {
  const gate = new TrafficGate()
  const a = gate.enter()
  const b = gate.enter()
  assert.equal(gate.inFlight, 2)
  a?.()
  a?.()
  assert.deepEqual([gate.inFlight, gate.served], [1, 1])
  b?.()
  assert.deepEqual([gate.inFlight, gate.served], [0, 2])
})

test('draining refuses new work (counted) and idle() resolves when the last request finishes', async () => {
  const gate = new TrafficGate()
  const a = gate.enter()
  gate.drain()
  gate.drain()
  assert.equal(gate.enter(), undefined)
  assert.equal(gate.rejected, 1)
  let idle = false
  const waiting = gate.idle().then(() => (idle = true))
  await Promise.resolve()
  assert.equal(idle, false)
  a?.()
  await waiting
  assert.equal(idle, true)
  await gate.idle() // at once when nothing is in flight
})
