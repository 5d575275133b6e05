import assert from 'node:assert/strict'
import { EventEmitter } from 'node:events'
import { test } from 'node:test'
import { ManualClock } from '../../src/core/clock.ts'
import type { BackupTransition } from '../../src/router/router.ts'
import { watchFailover } from '../../src/runtime/failover-events.ts'
import { MemoryEventLog } from '../../src/store/events.ts'
import { request, routingSpec, healthSpec, startBackend } from '../router/fixtures.ts'
import { Router } from '../../src/router/router.ts'

/** A router's `backup` event alone, fired by hand. */
class FakeRouter extends EventEmitter<{ backup: [BackupTransition] }> {}

test('each backup transition becomes a failover or failback event of the group, stamped by the clock', () => {
  const router = new FakeRouter()
  const clock = new ManualClock(1_000)
  const store = new MemoryEventLog()
  watchFailover(router, 'shop-web', store, clock)
  router.emit('backup', { active: true, reason: 'none of the 2 primary instances is routable; the backup pool serves', atMs: 5 })
  clock.advance(30_000)
  router.emit('backup', { active: false, reason: 'primary instance web-3 routable again', atMs: 6 })
  const want = [
    { atMs: 1_000, group: 'shop-web', type: 'failover', message: 'none of the 2 primary instances is routable; the backup pool serves' },
    { atMs: 31_000, group: 'shop-web', type: 'failback', message: 'primary instance web-3 routable again' },
  ]
  assert.deepEqual(store.list(), want)
})

test('the returned function stops watching', () => {
  const router = new FakeRouter()
  const log = new MemoryEventLog()
  const stop = watchFailover(router, 'g', log, new ManualClock())
  stop()
  router.emit('backup', { active: true, reason: 'x', atMs: 0 })
  assert.deepEqual(log.list(), [])
  assert.equal(router.listenerCount('backup'), 0)
})

test('with a real router: failover when its only primary fails its checks, failback when it passes again', { timeout: 30_000 }, async () => {
  const primary = await startBackend('primary')
  const spare = await startBackend('spare')
  const router = new Router({ routing: routingSpec({ backup: { instances: [{ host: '127.0.0.1', port: spare.port }] } }), health: healthSpec({ unhealthyThreshold: 2, healthyThreshold: 1 }), statsIntervalMs: 50 })
  const log = new MemoryEventLog()
  watchFailover(router, 'shop-web', log)
  const types = (): string[] => log.list().map((e) => e.type)
  const until = async (n: number): Promise<void> => {
    const deadline = Date.now() + 10_000
    while (types().length < n) {
      if (Date.now() > deadline) throw new Error(`${n} events not written within 10 s: ${types().join(', ')}`)
      await new Promise((r) => setTimeout(r, 10))
    }
  }
  try {
    await router.start()
    // Nothing listed at start: the backup pool has the traffic.
    await until(1)
    router.setInstances([{ id: 'web-1', host: '127.0.0.1', port: primary.port, state: 'in-service' }])
    await until(2)
    primary.healthStatus = 500
    await until(3)
    assert.equal((await request(router.port)).body, 'spare')
    primary.healthStatus = 200
    await until(4)
    assert.deepEqual(types(), ['failover', 'failback', 'failover', 'failback'])
    assert.match(log.list()[2]!.message, /the only primary instance is not routable \(1 unhealthy\); the backup pool serves \(1 of 1 target healthy\)/)
    assert.match(log.list()[3]!.message, /web-1 routable again/)
    assert.ok(log.list().every((e) => e.group === 'shop-web'))
  } finally {
    await router.stop({ graceMs: 0 })
    await primary.close()
    await spare.close()
  }
})
