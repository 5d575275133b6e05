/**
 * The TideStore contract (src/store/tide-store.ts), run against every kind of store: SQLite
 * (test/store/sqlite-store.test.ts) and PostgreSQL (test/store/postgres/postgres-store.test.ts).
 * What one process writes and flushes, a reopened store reads back, the same way for both.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { LocalInstanceEntry } from '../../src/providers/local/instance-registry.ts'
import type { StoredBackupRun, StoredGroupState, StoredLearnedState, StoredOperation } from '../../src/store/state-store.ts'
import type { TideStore } from '../../src/store/tide-store.ts'

/** Opens a store; `reopen` opens the same one again (a restarted tide). */
export interface StoreFactory {
  /** A fresh, empty store, and a way to open the same store again. */
  fresh(): Promise<{ store: TideStore; reopen: () => Promise<TideStore> }>
}

const STATE: StoredGroupState = {
  desiredReplicas: 3,
  size: { cpu: 1, memoryMiB: 512 },
  history: { recommendations: [{ atMs: 1, replicas: 3 }], scaleEvents: [{ atMs: 2, from: 2, to: 3 }] } as unknown as StoredGroupState['history'],
  drainingIds: ['i-2'],
  protectedIds: ['i-1'],
}

function entry(id: string, port: number): LocalInstanceEntry {
  return { id, group: 'web', pid: 1000 + port, startTime: '42', port, size: { cpu: 1, memoryMiB: 512 }, launchedAtMs: 1, logPath: `/tmp/${id}.log` }
}

/** Registers the contract's tests under `kind`. */
export function storeContract(kind: string, factory: StoreFactory, options: { skip?: string | false } = {}): void {
  const t = (name: string, fn: () => Promise<void>): void => {
    test(`${kind} store contract: ${name}`, { skip: options.skip ?? false }, fn)
  }

  t('state, status and operator state are read back at once and after a reopen; deleting a group forgets all three', async () => {
    const { store, reopen } = await factory.fresh()
    store.saveGroupState('web', STATE)
    store.saveGroupStatus('web', { group: 'web', atMs: 5 })
    store.saveOperatorState('web', { pausedSinceMs: 7 })
    store.saveGroupState('gone', STATE)
    store.saveGroupStatus('gone', { group: 'gone', atMs: 6 })
    store.deleteGroupState('gone')
    assert.deepEqual(store.loadGroupState('web'), STATE)
    assert.equal(store.loadGroupState('gone'), undefined)
    await store.flush()
    await store.close()
    const again = await reopen()
    try {
      assert.deepEqual(again.loadGroupState('web'), STATE)
      assert.deepEqual(again.loadGroupStatus('web'), { group: 'web', atMs: 5 })
      assert.deepEqual(again.loadOperatorState('web'), { pausedSinceMs: 7 })
      assert.equal(again.loadGroupState('gone'), undefined)
      assert.equal(again.loadGroupStatus('gone'), undefined)
      assert.deepEqual(await again.readGroupStatuses(), [{ group: 'web', atMs: 5 }])
      // An operator state that sets nothing removes it.
      again.saveOperatorState('web', {})
      assert.equal(again.loadOperatorState('web'), undefined)
      again.deleteGroupState('web')
      await again.flush()
      assert.deepEqual(await again.readGroupStatuses(), [])
    } finally {
      await again.close()
    }
  })

  t('learned state, unfinished operations and backup runs survive a reopen; empty lists and deleting the group remove them', async () => {
    const learned: StoredLearnedState = { atMs: 5, startupsMs: [1500, 1200], lastDecision: { reason: 'MetricAboveTarget' } }
    const op: StoredOperation = { id: 'launch-5-0', kind: 'launch', why: 'scale-out', decisionAtMs: 5, startedAtMs: 5, state: 'pending', count: 2, instanceIds: [] }
    const run: StoredBackupRun = { instanceId: 'i-1', state: 'running', startedAtMs: 5, pid: 1234, statusFile: '/state/i-1.status' }
    const { store, reopen } = await factory.fresh()
    store.saveLearnedState('web', learned)
    store.saveOperations('web', [op])
    store.saveBackupRuns('web', [run])
    store.saveOperations('api', [op])
    store.saveOperations('api', [])
    await store.flush()
    await store.close()
    const again = await reopen()
    try {
      assert.deepEqual(again.loadLearnedState('web'), learned)
      assert.deepEqual(again.loadOperations('web'), [op])
      assert.deepEqual(again.loadBackupRuns('web'), [run])
      assert.deepEqual(again.loadOperations('api'), [])
      again.deleteGroupState('web')
      await again.flush()
      assert.equal(again.loadLearnedState('web'), undefined)
      assert.deepEqual(again.loadOperations('web'), [])
    } finally {
      await again.close()
    }
    const third = await reopen()
    try {
      assert.equal(third.loadLearnedState('web'), undefined)
      assert.deepEqual(third.loadBackupRuns('web'), [])
    } finally {
      await third.close()
    }
  })

  t('events are read back in order with their filters, decisions without history', async () => {
    const { store } = await factory.fresh()
    try {
      for (let i = 0; i < 5; i++) store.append({ atMs: 1000 + i, group: i % 2 === 0 ? 'web' : 'api', type: i === 4 ? 'launch' : 'decision', message: `e${i}`, ...(i === 1 ? { instanceId: 'i-1' } : {}) })
      await store.flush()
      const all = await store.readEvents({ order: 'asc' })
      assert.deepEqual(all.map((e) => e.message), ['e0', 'e1', 'e2', 'e3', 'e4'])
      assert.equal(all[1]?.instanceId, 'i-1')
      assert.ok(all.every((e, i) => i === 0 || e.id > (all[i - 1]?.id ?? 0)), 'ids increase')
      assert.deepEqual((await store.readEvents({ group: 'web' })).map((e) => e.message), ['e4', 'e2', 'e0'])
      assert.deepEqual((await store.readEvents({ types: ['launch'] })).map((e) => e.message), ['e4'])
      assert.deepEqual((await store.readEvents({ types: [] })).length, 0)
      assert.deepEqual((await store.readEvents({ fromMs: 1001, toMs: 1003, order: 'asc' })).map((e) => e.message), ['e1', 'e2'])
      assert.deepEqual((await store.readEvents({ afterId: all[2]?.id ?? 0, order: 'asc', limit: 1 })).map((e) => e.message), ['e3'])
      await assert.rejects(store.readEvents({ limit: 0 }), /limit must be a whole number/)
    } finally {
      await store.close()
    }
  })

  t('metric samples are aggregated per second and per minute and read back by tier', async () => {
    const { store } = await factory.fresh()
    try {
      const t0 = 1_800_000_000_000
      assert.equal(store.recordMetric('web', 'rps', t0, Number.NaN), false)
      for (let s = 0; s < 120; s++) {
        assert.equal(store.recordMetric('web', 'rps', t0 + s * 1000, s), true)
        store.recordMetric('web', 'rps', t0 + s * 1000 + 500, s + 1)
      }
      store.recordMetric('web', 'cpu', t0, 0.5)
      await store.flush()
      const seconds = await store.readMetric('web', 'rps', t0, t0 + 120_000, 10_000)
      assert.equal(seconds.resolution, '1s')
      assert.equal(seconds.points.length, 12)
      assert.deepEqual(seconds.points[0], { atMs: t0, avg: 5, min: 0, max: 10, count: 20 })
      const minutes = await store.readMetric('web', 'rps', t0 - 3_600_000 * 3, t0 + 120_000, 60_000)
      assert.equal(minutes.resolution, '1m')
      assert.equal(minutes.points.reduce((n, p) => n + p.count, 0), 240)
      assert.deepEqual(await store.readMetricSeries('web'), ['cpu', 'rps'])
      await assert.rejects(store.readMetric('web', 'rps', t0, t0, 1000), /must be after/)
    } finally {
      await store.close()
    }
  })

  t('the instance registry keeps first-put order, replaces in place and removes', async () => {
    const { store, reopen } = await factory.fresh()
    const r = store.instanceRegistry()
    r.put(entry('a', 1))
    r.put(entry('b', 2))
    r.put(entry('c', 3))
    r.put({ ...entry('a', 1), readyAtMs: 9 })
    r.remove('web', 'b')
    r.remove('web', 'absent')
    assert.deepEqual(r.list('web').map((e) => e.id), ['a', 'c'])
    await store.flush()
    await store.close()
    const again = await reopen()
    try {
      const list = again.instanceRegistry().list('web')
      assert.deepEqual(list.map((e) => e.id), ['a', 'c'])
      assert.equal(list[0]?.readyAtMs, 9)
      assert.deepEqual(again.instanceRegistry().list('other'), [])
    } finally {
      await again.close()
    }
  })

  t('delivery attempts are kept, and prune ages out old events', async () => {
    const { store } = await factory.fresh()
    try {
      store.recordDelivery({ deliveryId: 'd1', atMs: 1000, group: 'web', alert: 'instance-unhealthy', eventType: 'instance-unhealthy', url: 'http://127.0.0.1/h', attempt: 1, outcome: 'delivered', status: 200 })
      store.append({ atMs: 1000, group: 'web', type: 'launch', message: 'old' })
      store.append({ atMs: 100 * 86_400_000, group: 'web', type: 'launch', message: 'new' })
      await store.flush()
      store.prune(100 * 86_400_000 + 1000)
      await store.flush()
      assert.deepEqual((await store.readEvents()).map((e) => e.message), ['new'])
    } finally {
      await store.close()
    }
  })
}
