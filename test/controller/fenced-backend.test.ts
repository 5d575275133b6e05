/**
 * The fenced backend: with the lease known held every action reaches the provider; without it
 * (never acquired, past the renew deadline, revoked) launch, terminate, resize, drain and detach
 * are refused with TIDE_ERR_PROVIDER_FENCED before the provider sees them, onRefused is told,
 * and reads pass. Then through the real Controller: a tick of a group below min launches while
 * the lease is held and launches nothing once it is not.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { fenceBackend, FencedProvider } from '../../src/controller/fenced-backend.ts'
import { sameBackend, type Traffic } from '../../src/controller/backend.ts'
import type { MetricsSource } from '../../src/controller/metrics-source.ts'
import { Controller } from '../../src/controller/reconciler.ts'
import { ManualClock } from '../../src/core/clock.ts'
import { FencedActionError, isProviderError } from '../../src/providers/errors.ts'
import type { InstanceRecord } from '../../src/providers/provider.ts'
import { GroupSchema, type GroupSpec } from '../../src/spec/schema.ts'
import { MemoryEventLog } from '../../src/store/events.ts'
import type { Fence, LeadershipView } from '../../src/store/leadership.ts'
import { MemoryStateStore } from '../../src/store/state-store.ts'
import { FakeProvider } from '../support/fake-provider.ts'

const T0 = Date.parse('2026-11-11T00:00:00Z')

/** A lease the test turns on and off. */
class SwitchLease implements LeadershipView {
  on = true
  revoked: string[] = []
  held(): boolean {
    return this.on
  }
  fence(): Fence | undefined {
    return { lease: 'tide', holder: 'me', epoch: 3 }
  }
  revoke(why: string): void {
    this.revoked.push(why)
    this.on = false
  }
}

const spec: GroupSpec = GroupSchema.parse({ group: 'shop-web', provider: 'sim', replicas: { min: 2, max: 10 }, warmupSeconds: 0, metrics: [{ type: 'cpu', target: { averageUtilization: 60 } }] })
const idle: MetricsSource = { read: (_s, _i, nowMs) => ({ atMs: nowMs, instances: new Map(), group: {} }) }

function recordingTraffic(calls: string[]): Traffic {
  return {
    setTargets: (_s, targets) => calls.push(`setTargets ${targets.length}`),
    drain: (_s, i) => {
      calls.push(`drain ${i.id}`)
      return Promise.resolve()
    },
    detach: (_s, id) => {
      calls.push(`detach ${id}`)
      return Promise.resolve()
    },
  }
}

describe('fenced backend', () => {
  const cases: { name: string; act: (b: ReturnType<typeof fenceBackend>, r: InstanceRecord) => Promise<unknown>; action: string }[] = [
    { name: 'launch', action: 'launch', act: (b) => b.provider.launch(spec, spec.size, 1) },
    { name: 'terminate', action: 'terminate', act: (b, r) => b.provider.terminate(spec, r.id) },
    { name: 'resize', action: 'resize', act: (b, r) => b.provider.resize?.(spec, r.id, spec.size) ?? Promise.reject(new Error('no resize')) },
    { name: 'drain', action: 'drain', act: (b, r) => b.traffic?.drain(spec, r) ?? Promise.reject(new Error('no drain')) },
    { name: 'detach', action: 'detach', act: (b, r) => b.traffic?.detach?.(spec, r.id) ?? Promise.reject(new Error('no detach')) },
  ]

  for (const c of cases) {
    test(`${c.name}: passes while held, refused with TIDE_ERR_PROVIDER_FENCED when not, the provider never called`, async () => {
      const clock = new ManualClock(T0)
      const provider = new FakeProvider(clock)
      // FakeProvider has no resize: give it one that records.
      const resized: string[] = []
      Object.assign(provider, {
        resize: (_g: GroupSpec, id: string) => {
          resized.push(id)
          return Promise.resolve(provider.instances.get(id))
        },
      })
      const [record] = await provider.launch(spec, spec.size, 1)
      assert.ok(record)
      const calls: string[] = []
      const lease = new SwitchLease()
      const refused: FencedActionError[] = []
      const b = fenceBackend({ provider, signals: idle, traffic: recordingTraffic(calls) }, { leadership: lease, onRefused: (e) => refused.push(e) })
      const countOf = (): number => provider.calls.length + calls.length + resized.length
      const before = countOf()
      await c.act(b, record)
      assert.equal(countOf(), before + 1, 'held: the action reached the platform')
      lease.on = false
      const seen = countOf()
      await assert.rejects(
        () => c.act(b, record),
        (err: unknown) => err instanceof FencedActionError && isProviderError(err, 'TIDE_ERR_PROVIDER_FENCED') && err.action === c.action && /does not hold the leadership lease \(held at epoch 3/.test(err.message),
      )
      assert.equal(countOf(), seen, 'not held: nothing reached the platform')
      assert.equal(refused.length, 1)
      assert.equal(refused[0]?.action, c.action)
    })
  }

  test('reads pass whatever the lease: list, setTargets, name, capabilities', async () => {
    const clock = new ManualClock(T0)
    const provider = new FakeProvider(clock)
    const calls: string[] = []
    const lease = new SwitchLease()
    lease.on = false
    const b = fenceBackend({ provider, signals: idle, traffic: recordingTraffic(calls) }, { leadership: lease })
    assert.deepEqual(await b.provider.list(spec), [])
    b.traffic?.setTargets(spec, [])
    assert.deepEqual(calls, ['setTargets 0'])
    assert.equal(b.provider.name, 'fake')
    assert.deepEqual(b.provider.capabilities, provider.capabilities)
    assert.ok(b.provider instanceof FencedProvider)
    // No resize on the inner provider: none on the fenced one either.
    assert.equal(b.provider.resize, undefined)
  })

  test('through the controller: launches while held; once the lease is lost a tick launches nothing', async () => {
    const clock = new ManualClock(T0)
    const provider = new FakeProvider(clock)
    const lease = new SwitchLease()
    const refused: string[] = []
    const backend = fenceBackend({ provider, signals: idle }, { leadership: lease, onRefused: (e) => refused.push(e.action) })
    const controller = new Controller({ groups: [spec], backend: sameBackend(backend), clock, events: new MemoryEventLog(), store: new MemoryStateStore() })
    await controller.reconcileOnce()
    assert.equal(provider.countCalls('launch'), 1)
    assert.equal(provider.instances.size, 2)
    // Both instances die; the lease is lost meanwhile: the next tick would launch two, and does not.
    for (const id of [...provider.instances.keys()]) provider.instances.delete(id)
    lease.on = false
    clock.advance(15_000)
    await controller.reconcileOnce()
    assert.equal(provider.countCalls('launch'), 1, 'no launch without the lease')
    assert.equal(provider.instances.size, 0)
    assert.deepEqual(refused, ['launch'])
  })
})
