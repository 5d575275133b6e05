/**
 * Leader election through a Lease on the fake API server (real HTTP, the real client-node): two
 * candidates never both lead, a killed leader's lease runs out and the follower takes over, a
 * released lease is taken at once, and a leader that finds another holder steps down. Durations
 * are shortened (a 3 s lease) so each case is bounded to a few seconds; the timing arithmetic is
 * the same as with the 12 s default.
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import * as k8s from '@kubernetes/client-node'
import { systemClock } from '../../src/core/clock.ts'
import { LeaseElector, microTime } from '../../src/controller/leader-election.ts'
import { KubeClient } from '../../src/providers/kubernetes/kube-client.ts'
import { kubeLeaseApi, parseLeaseRef } from '../../src/runtime/lease-api.ts'
import { FakeKubeApiServer } from '../support/fake-kube-apiserver.ts'

const FAST = { leaseDurationMs: 3000, renewEveryMs: 500, renewDeadlineMs: 2000, retryEveryMs: 250 }

describe('lease leader election', () => {
  const fake = new FakeKubeApiServer()
  let client: KubeClient
  before(async () => {
    await fake.start()
    const kc = new k8s.KubeConfig()
    kc.loadFromString(fake.kubeconfig())
    client = new KubeClient(kc)
  })
  after(async () => {
    await fake.stop()
  })

  const candidate = (lease: string, identity: string): LeaseElector => new LeaseElector({ api: kubeLeaseApi(client, 'default', lease), identity, clock: systemClock, ...FAST })

  test('one leads, the other waits; the leader killed, the follower takes over within the lease duration and never both lead', async () => {
    const a = candidate('tide', 'a')
    const b = candidate('tide', 'b')
    const ac = new AbortController()
    try {
      await a.acquire()
      const waitedFor: string[] = []
      const bLeads = b.acquire(ac.signal, (h) => waitedFor.push(h))
      let both = false
      const watch = setInterval(() => {
        if (a.isLeader && b.isLeader) both = true
      }, 20)
      await sleep(1500)
      assert.equal(a.isLeader, true)
      assert.equal(b.isLeader, false)
      assert.deepEqual(waitedFor, ['a'])
      const lease = fake.get('leases', 'default', 'tide')
      assert.equal((lease?.spec as { holderIdentity: string }).holderIdentity, 'a')
      assert.match((lease?.spec as { renewTime: string }).renewTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/)
      const killedAt = Date.now()
      a.stop() // killed: no release
      await Promise.race([bLeads, sleep(10_000).then(() => assert.fail('b never took over'))])
      const tookMs = Date.now() - killedAt
      clearInterval(watch)
      // takeover: between leaseDuration − renewEvery and leaseDuration + retryEvery after the last renewal (2.5 s to 3.25 s), plus slack for a loaded machine.
      assert.ok(tookMs >= 2000 && tookMs <= 5000, `took over after ${tookMs} ms`)
      assert.equal(both, false)
      assert.equal((fake.get('leases', 'default', 'tide')?.spec as { holderIdentity: string; leaseTransitions: number }).leaseTransitions, 1)
    } finally {
      ac.abort()
      a.stop()
      b.stop()
    }
  })

  test('a released lease is taken at the follower\'s next read', async () => {
    const a = candidate('released', 'a')
    const b = candidate('released', 'b')
    try {
      await a.acquire()
      const bLeads = b.acquire()
      await sleep(300)
      const releasedAt = Date.now()
      await a.release()
      await bLeads
      assert.ok(Date.now() - releasedAt < 1500, `took ${Date.now() - releasedAt} ms`)
      assert.equal(b.isLeader, true)
    } finally {
      a.stop()
      b.stop()
    }
  })

  test('a leader that finds another holder steps down and says why', async () => {
    const a = candidate('stolen', 'a')
    try {
      await a.acquire()
      const lost = new Promise<string>((resolve) => {
        a.onLost(resolve)
      })
      const lease = fake.get('leases', 'default', 'stolen')!
      const coord = client.config.makeApiClient(k8s.CoordinationV1Api)
      await coord.replaceNamespacedLease({ name: 'stolen', namespace: 'default', body: { metadata: { name: 'stolen', resourceVersion: lease.metadata.resourceVersion as string }, spec: { holderIdentity: 'intruder', leaseDurationSeconds: 3, renewTime: microTime(Date.now()) } } as unknown as k8s.V1Lease })
      const why = await Promise.race([lost, sleep(3000).then(() => 'never')])
      assert.equal(why, 'the lease is held by intruder')
      assert.equal(a.isLeader, false)
    } finally {
      a.stop()
    }
  })

  test('an API that keeps failing: the leader gives up after the renew deadline, before the lease runs out', async () => {
    const a = candidate('flaky', 'a')
    try {
      await a.acquire()
      const lost = new Promise<number>((resolve) => {
        a.onLost(() => {
          resolve(Date.now())
        })
      })
      const from = Date.now()
      fake.inject({ status: 500, count: 1000, match: (_m, path) => path.includes('/leases/flaky') })
      const at = await Promise.race([lost, sleep(5000).then(() => 0)])
      assert.ok(at > 0, 'never gave up')
      // gave up within the 2 s deadline (+ one renew period), before the 3 s lease could be taken.
      assert.ok(at - from < 3000, `gave up after ${at - from} ms`)
    } finally {
      a.stop()
    }
  })

  test('lease references are NAMESPACE/NAME', () => {
    assert.deepEqual(parseLeaseRef('tide-system/tide'), { namespace: 'tide-system', name: 'tide' })
    assert.equal(parseLeaseRef('tide'), undefined)
    assert.equal(parseLeaseRef('Tide/x'), undefined)
  })
})

describe('lease leader election under wall-clock steps', () => {
  const fake = new FakeKubeApiServer()
  let client: KubeClient
  before(async () => {
    await fake.start()
    const kc = new k8s.KubeConfig()
    kc.loadFromString(fake.kubeconfig())
    client = new KubeClient(kc)
  })
  after(async () => {
    await fake.stop()
  })

  /** A wall clock `offsetMs` off the system's, changed by the test (a step of NTP or `date -s`). */
  const stepped = (): { clock: { now: () => number }; step: (ms: number) => void } => {
    let offsetMs = 0
    return { clock: { now: () => Date.now() + offsetMs }, step: (ms) => (offsetMs += ms) }
  }

  test('a follower whose wall clock jumps an hour ahead does not take a lease its holder renews', async () => {
    // The holder renews every second, the follower reads every 100 ms: its first read after the step sees the lease unchanged.
    const a = new LeaseElector({ api: kubeLeaseApi(client, 'default', 'ahead'), identity: 'a', clock: systemClock, ...FAST, renewEveryMs: 1000 })
    const wall = stepped()
    const b = new LeaseElector({ api: kubeLeaseApi(client, 'default', 'ahead'), identity: 'b', clock: wall.clock, ...FAST, retryEveryMs: 100 })
    const ac = new AbortController()
    try {
      await a.acquire()
      const bLeads = b.acquire(ac.signal).then(() => true, () => false)
      await sleep(400)
      wall.step(3_600_000)
      // Two lease durations: a leader that renews keeps it whatever the follower's wall clock says.
      await sleep(2 * FAST.leaseDurationMs)
      assert.equal(b.isLeader, false, 'the follower took a renewed lease after its clock stepped')
      assert.equal(a.isLeader, true)
      ac.abort()
      assert.equal(await bLeads, false)
    } finally {
      ac.abort()
      a.stop()
      b.stop()
    }
  })

  test('a follower whose wall clock steps an hour back still takes a dead holder\'s lease within its duration', async () => {
    const a = new LeaseElector({ api: kubeLeaseApi(client, 'default', 'behind'), identity: 'a', clock: systemClock, ...FAST })
    const wall = stepped()
    const b = new LeaseElector({ api: kubeLeaseApi(client, 'default', 'behind'), identity: 'b', clock: wall.clock, ...FAST })
    const ac = new AbortController()
    try {
      await a.acquire()
      const bLeads = b.acquire(ac.signal)
      await sleep(400)
      const killedAt = Date.now()
      a.stop()
      wall.step(-3_600_000)
      await Promise.race([bLeads, sleep(10_000).then(() => assert.fail('b never took over after its clock stepped back'))])
      const tookMs = Date.now() - killedAt
      assert.ok(tookMs <= 5000, `took over after ${tookMs} ms`)
    } finally {
      ac.abort()
      a.stop()
      b.stop()
    }
  })
})
