import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Controller } from '../../src/controller/reconciler.ts'
import { sameBackend } from '../../src/controller/backend.ts'
import { CrashLoop } from '../../src/controller/crash-loop.ts'
import { noteLaunchFailure, terminateFailureMessage } from '../../src/controller/provider-failures.ts'
import { ManualClock } from '../../src/core/clock.ts'
import { LaunchFailedError, ProviderConfigError } from '../../src/providers/errors.ts'
import { MemoryEventLog } from '../../src/store/events.ts'
import { MemoryStateStore } from '../../src/store/state-store.ts'
import { GroupSchema } from '../../src/spec/schema.ts'
import { FakeProvider } from '../support/fake-provider.ts'

const T0 = Date.parse('2026-11-11T00:00:00Z')

const messageCases = [
  {
    name: 'a retryable launch failure (EAGAIN) is tried on the next tick, no wait',
    err: new LaunchFailedError('local', 'group web: cannot start node: EAGAIN', true),
    want: 'launch of 2 instance(s) failed: group web: cannot start node: EAGAIN (retryable: tried again on the next tick)',
    failures: 0,
  },
  {
    name: 'a failure that is not a TideError counts as retryable (a transient fault never wedges a group)',
    err: new Error('capacity unavailable'),
    want: 'launch of 2 instance(s) failed: capacity unavailable (retryable: tried again on the next tick)',
    failures: 0,
  },
  {
    name: 'a missing executable is not retryable: it backs off as a crash loop',
    err: new LaunchFailedError('local', 'group web: cannot start /no/such: ENOENT', false),
    want: 'launch of 2 instance(s) failed: group web: cannot start /no/such: ENOENT (not retryable: fix the cause; next launch in 1 s)',
    failures: 1,
  },
  {
    name: 'a provider config error is not retryable',
    err: new ProviderConfigError('local', 'group web: the local provider needs launch.command'),
    want: 'launch of 2 instance(s) failed: group web: the local provider needs launch.command (not retryable: fix the cause; next launch in 1 s)',
    failures: 1,
  },
] as const
for (const c of messageCases) {
  test(`noteLaunchFailure: ${c.name}`, () => {
    const loop = new CrashLoop()
    assert.equal(noteLaunchFailure(loop, 2, c.err, T0), c.want)
    assert.equal(loop.failures, c.failures)
    assert.equal(loop.blocks(T0), c.failures > 0)
  })
}

test('terminateFailureMessage says whether retrying can help', () => {
  assert.equal(terminateFailureMessage('i-1', new Error('timeout')), 'terminate of i-1 failed: timeout (retryable: tried again while the instance is still to go)')
  assert.equal(
    terminateFailureMessage('i-1', new ProviderConfigError('local', 'no rights')),
    'terminate of i-1 failed: no rights (not retryable: fix the cause; it stays until then)',
  )
})

function setup() {
  const clock = new ManualClock(T0)
  const provider = new FakeProvider(clock)
  const events = new MemoryEventLog()
  const spec = GroupSchema.parse({ group: 'web', provider: 'sim', replicas: { min: 2, max: 4 }, warmupSeconds: 0, metrics: [] })
  const controller = new Controller({ groups: [spec], backend: sameBackend({ provider, signals: { read: () => undefined } }), clock, events, store: new MemoryStateStore() })
  return { clock, provider, events, controller }
}

test('controller: a retryable launch failure is launched again on the next tick, and the event says so', async () => {
  const { clock, provider, events, controller } = setup()
  provider.nextError.launch = new LaunchFailedError('fake', 'no free port', true)
  await controller.reconcileOnce()
  assert.equal(provider.instances.size, 0)
  const failed = events.list().filter((e) => e.type === 'launch-failed')
  assert.deepEqual(failed.map((e) => e.message), ['launch of 2 instance(s) failed: no free port (retryable: tried again on the next tick)'])
  clock.advance(100) // well within any backoff: a retryable failure sets none
  await controller.reconcileOnce()
  assert.equal(provider.countCalls('launch'), 2)
  assert.equal(provider.instances.size, 2)
})

test('controller: a non-retryable launch failure is reported as such and the next launch waits (1 s, then 2 s)', async () => {
  const { clock, provider, events, controller } = setup()
  provider.nextError.launch = new LaunchFailedError('fake', 'cannot start /no/such: ENOENT', false)
  await controller.reconcileOnce()
  assert.match(events.list().at(-1)?.message ?? '', /ENOENT \(not retryable: fix the cause; next launch in 1 s\)$/)
  clock.advance(500)
  await controller.reconcileOnce()
  assert.equal(provider.countCalls('launch'), 1, 'no launch within the wait')
  clock.advance(500)
  provider.nextError.launch = new LaunchFailedError('fake', 'cannot start /no/such: ENOENT', false)
  await controller.reconcileOnce()
  assert.equal(provider.countCalls('launch'), 2, 'tried again once the second passed')
  assert.match(events.list().at(-1)?.message ?? '', /next launch in 2 s\)$/, 'failures in a row double the wait')
  clock.advance(2000)
  await controller.reconcileOnce()
  assert.equal(provider.instances.size, 2, 'once fixed, the group launches')
})

test('controller: a failed terminate of a dead instance is reported and tried again on the next tick', async () => {
  const { clock, provider, events, controller } = setup()
  await controller.reconcileOnce()
  for (const r of provider.instances.values()) provider.markRunning(r.id)
  clock.advance(15_000)
  await controller.reconcileOnce()
  const [dead] = provider.instances.keys()
  assert.ok(dead)
  provider.markFailed(dead)
  provider.nextError.terminate = new Error('api timeout')
  clock.advance(15_000)
  await controller.reconcileOnce()
  assert.ok(provider.instances.has(dead))
  assert.ok(events.list().some((e) => e.type === 'terminate-failed' && e.message === `terminate of ${dead} failed: api timeout (retryable: tried again while the instance is still to go)`))
  clock.advance(15_000)
  await controller.reconcileOnce()
  assert.ok(!provider.instances.has(dead), 'terminated on the next tick')
})
