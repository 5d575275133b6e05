import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Controller } from '../../src/controller/reconciler.ts'
import { sameBackend } from '../../src/controller/backend.ts'
import { CrashLoop } from '../../src/controller/crash-loop.ts'
import {
  CAPACITY_BACKOFF_BASE_MS,
  CAPACITY_BACKOFF_MAX_MS,
  ProviderFailures,
  THROTTLE_BACKOFF_BASE_MS,
  THROTTLE_BACKOFF_MAX_MS,
  backoffMs,
  noteLaunchFailure,
  terminateFailureMessage,
  type ProviderFailureEvent,
} from '../../src/controller/provider-failures.ts'
import { ManualClock } from '../../src/core/clock.ts'
import { InstanceNotFoundError, InsufficientCapacityError, LaunchFailedError, ProviderConfigError, ThrottledError } from '../../src/providers/errors.ts'
import { SimCloud, SimProvider } from '../../src/providers/sim/sim-provider.ts'
import { MemoryEventLog } from '../../src/store/events.ts'
import { MemoryStateStore } from '../../src/store/state-store.ts'
import { GroupSchema } from '../../src/spec/schema.ts'
import { FakeProvider } from '../support/fake-provider.ts'

const T0 = Date.parse('2026-11-11T00:00:00Z')

const messageCases = [
  {
    name: 'a retryable launch failure (no pid) is tried on the next tick, no wait',
    err: new LaunchFailedError('local', 'group web: node started without a pid', true),
    want: 'launch of 2 instance(s) failed: group web: node started without a pid (retryable: tried again on the next tick)',
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

// ---- backoffMs ----

const backoffCases = [
  { name: 'no failure, no wait', streak: 0, base: THROTTLE_BACKOFF_BASE_MS, max: THROTTLE_BACKOFF_MAX_MS, want: 0 },
  { name: 'throttle: the first wait is 1 s', streak: 1, base: THROTTLE_BACKOFF_BASE_MS, max: THROTTLE_BACKOFF_MAX_MS, want: 1000 },
  { name: 'throttle: the third is 4 s', streak: 3, base: THROTTLE_BACKOFF_BASE_MS, max: THROTTLE_BACKOFF_MAX_MS, want: 4000 }, // 1 s × 2²
  { name: 'throttle: the seventh is capped at 60 s', streak: 7, base: THROTTLE_BACKOFF_BASE_MS, max: THROTTLE_BACKOFF_MAX_MS, want: 60_000 }, // 1 s × 2⁶ = 64 s > 60 s
  { name: 'capacity: the first wait is 10 s', streak: 1, base: CAPACITY_BACKOFF_BASE_MS, max: CAPACITY_BACKOFF_MAX_MS, want: 10_000 },
  { name: 'capacity: the fifth is 160 s', streak: 5, base: CAPACITY_BACKOFF_BASE_MS, max: CAPACITY_BACKOFF_MAX_MS, want: 160_000 }, // 10 s × 2⁴
  { name: 'capacity: the sixth is capped at 5 min', streak: 6, base: CAPACITY_BACKOFF_BASE_MS, max: CAPACITY_BACKOFF_MAX_MS, want: 300_000 }, // 10 s × 2⁵ = 320 s > 300 s
  { name: 'a very long streak stays at the cap', streak: 5000, base: CAPACITY_BACKOFF_BASE_MS, max: CAPACITY_BACKOFF_MAX_MS, want: 300_000 },
] as const
for (const c of backoffCases) {
  test(`backoffMs: ${c.name}`, () => {
    assert.equal(backoffMs(c.streak, c.base, c.max), c.want)
  })
}

// ---- ProviderFailures, as sequences of calls and their outcomes ----

const SMALL = { cpu: 1, memoryMiB: 512 }
const LARGE = { cpu: 2, memoryMiB: 1024 }

type Outcome = 'ok' | 'throttled' | 'capacity' | 'not-found' | 'fails'
interface Step {
  readonly at: number
  readonly call: 'list' | 'launch' | 'terminate'
  readonly outcome: Outcome
  readonly retryAfterMs?: number
  readonly size?: typeof SMALL
}
interface Check {
  readonly at: number
  /** The status backoff at `at`: its kind and end, or null for none. */
  readonly backoff: { readonly kind: 'throttled' | 'capacity'; readonly untilMs: number } | null
  /** launchWaits(SMALL) and launchWaits(LARGE) at `at`. */
  readonly small: boolean
  readonly large: boolean
}

function errorOf(s: Step): Error {
  switch (s.outcome) {
    case 'throttled':
      return new ThrottledError('fake', 'Rate exceeded', s.retryAfterMs === undefined ? {} : { retryAfterMs: s.retryAfterMs })
    case 'capacity':
      return new InsufficientCapacityError('fake', 'InsufficientInstanceCapacity')
    case 'not-found':
      return new InstanceNotFoundError('fake', 'i-1', 'no such instance i-1')
    case 'fails':
    case 'ok':
      return new ProviderConfigError('fake', 'no rights')
  }
}

/** Runs the steps; returns each step's answer (list: held?, terminate: gone?, launch: undefined). */
function run(f: ProviderFailures, steps: readonly Step[]): (boolean | undefined)[] {
  return steps.map((s) => {
    const size = s.size ?? SMALL
    if (s.outcome === 'ok') {
      if (s.call === 'launch') f.launched(size)
      else f.succeeded(s.call)
      return undefined
    }
    const err = errorOf(s)
    if (s.call === 'list') return f.listFailed(err, s.at)
    if (s.call === 'terminate') return f.terminateFailed(err, 'i-1', s.at)
    f.launchFailed(err, size, 2, s.at, new CrashLoop())
    return undefined
  })
}

const streakCases: readonly { name: string; steps: readonly Step[]; events: readonly string[]; answers?: readonly (boolean | undefined)[]; checks: readonly Check[] }[] = [
  {
    name: 'a throttled list holds every call for 1 s, with one event',
    steps: [{ at: 0, call: 'list', outcome: 'throttled' }],
    events: ['provider-throttled'],
    answers: [true],
    checks: [
      { at: 0, backoff: { kind: 'throttled', untilMs: 1000 }, small: true, large: true },
      { at: 999, backoff: { kind: 'throttled', untilMs: 1000 }, small: true, large: true },
      { at: 1000, backoff: null, small: false, large: false },
    ],
  },
  {
    name: 'throttles in a row double the wait (1 s, 2 s, 4 s) under one event',
    steps: [
      { at: 0, call: 'list', outcome: 'throttled' }, // until 1 s
      { at: 1000, call: 'list', outcome: 'throttled' }, // until 1 + 2 = 3 s
      { at: 3000, call: 'list', outcome: 'throttled' }, // until 3 + 4 = 7 s
    ],
    events: ['provider-throttled'],
    checks: [{ at: 3000, backoff: { kind: 'throttled', untilMs: 7000 }, small: true, large: true }],
  },
  {
    name: 'the wait is capped at 60 s',
    // Waits 1, 2, 4, 8, 16, 32 s end at 63 s; the seventh throttle waits 60 s, not 64 s.
    steps: [0, 1000, 3000, 7000, 15_000, 31_000, 63_000].map((at) => ({ at, call: 'list', outcome: 'throttled' }) as const),
    events: ['provider-throttled'],
    checks: [{ at: 63_000, backoff: { kind: 'throttled', untilMs: 123_000 }, small: true, large: true }],
  },
  {
    name: 'the platform’s retryAfterMs sets the wait',
    steps: [{ at: 0, call: 'launch', outcome: 'throttled', retryAfterMs: 5000 }],
    events: ['provider-throttled'],
    checks: [
      { at: 4999, backoff: { kind: 'throttled', untilMs: 5000 }, small: true, large: true },
      { at: 5000, backoff: null, small: false, large: false },
    ],
  },
  {
    name: 'a success of the throttled call ends the streak: the next throttle is a new one, with its event and 1 s',
    steps: [
      { at: 0, call: 'list', outcome: 'throttled' },
      { at: 1000, call: 'list', outcome: 'ok' },
      { at: 2000, call: 'list', outcome: 'throttled' },
    ],
    events: ['provider-throttled', 'provider-throttled'],
    checks: [{ at: 2000, backoff: { kind: 'throttled', untilMs: 3000 }, small: true, large: true }],
  },
  {
    name: 'a success of another call does not end the streak (per-API limits)',
    steps: [
      { at: 0, call: 'launch', outcome: 'throttled' },
      { at: 1000, call: 'list', outcome: 'ok' },
      { at: 1000, call: 'launch', outcome: 'throttled' }, // the second of the streak: 2 s
    ],
    events: ['provider-throttled'],
    checks: [{ at: 1000, backoff: { kind: 'throttled', untilMs: 3000 }, small: true, large: true }],
  },
  {
    name: 'a throttle more than 60 s after the last wait ended starts a new streak',
    steps: [
      { at: 0, call: 'terminate', outcome: 'throttled' },
      { at: 61_001, call: 'terminate', outcome: 'throttled' }, // 1 s + 60 s + 1 ms: quiet long enough
    ],
    events: ['provider-throttled', 'provider-throttled'],
    answers: [false, false],
    checks: [{ at: 61_001, backoff: { kind: 'throttled', untilMs: 62_001 }, small: true, large: true }],
  },
  {
    name: 'no capacity: launches of that size wait 10 s with one event; another size does not wait',
    steps: [{ at: 0, call: 'launch', outcome: 'capacity' }],
    events: ['capacity-unavailable'],
    checks: [
      { at: 9999, backoff: { kind: 'capacity', untilMs: 10_000 }, small: true, large: false },
      { at: 10_000, backoff: null, small: false, large: false },
    ],
  },
  {
    name: 'shortages in a row double the wait up to 5 min under one event',
    // Waits 10, 20, 40, 80, 160 s end at 310 s; the sixth waits 300 s, not 320 s.
    steps: [0, 10_000, 30_000, 70_000, 150_000, 310_000].map((at) => ({ at, call: 'launch', outcome: 'capacity' }) as const),
    events: ['capacity-unavailable'],
    checks: [{ at: 310_000, backoff: { kind: 'capacity', untilMs: 610_000 }, small: true, large: false }],
  },
  {
    name: 'a launch of that size ends the shortage; the next one is a new streak',
    steps: [
      { at: 0, call: 'launch', outcome: 'capacity' },
      { at: 10_000, call: 'launch', outcome: 'ok' },
      { at: 20_000, call: 'launch', outcome: 'capacity' },
    ],
    events: ['capacity-unavailable', 'capacity-unavailable'],
    checks: [{ at: 20_000, backoff: { kind: 'capacity', untilMs: 30_000 }, small: true, large: false }],
  },
  {
    name: 'a launch of another size does not end the shortage',
    steps: [
      { at: 0, call: 'launch', outcome: 'capacity' },
      { at: 5000, call: 'launch', outcome: 'ok', size: LARGE },
    ],
    events: ['capacity-unavailable'],
    checks: [{ at: 5000, backoff: { kind: 'capacity', untilMs: 10_000 }, small: true, large: false }],
  },
  {
    name: 'a throttle is shown before a shortage, which shows again when the throttle ends',
    steps: [
      { at: 0, call: 'launch', outcome: 'capacity' },
      { at: 0, call: 'list', outcome: 'throttled' },
    ],
    events: ['capacity-unavailable', 'provider-throttled'],
    checks: [
      { at: 0, backoff: { kind: 'throttled', untilMs: 1000 }, small: true, large: true },
      { at: 1000, backoff: { kind: 'capacity', untilMs: 10_000 }, small: true, large: false },
    ],
  },
  {
    name: 'a terminate of an instance not found counts as gone, with a terminate event',
    steps: [{ at: 0, call: 'terminate', outcome: 'not-found' }],
    events: ['terminate'],
    answers: [true],
    checks: [{ at: 0, backoff: null, small: false, large: false }],
  },
  {
    name: 'other failures wait for nothing here: a launch-failed and a terminate-failed event',
    steps: [
      { at: 0, call: 'launch', outcome: 'fails' },
      { at: 0, call: 'terminate', outcome: 'fails' },
      { at: 0, call: 'list', outcome: 'fails' },
    ],
    events: ['launch-failed', 'terminate-failed'],
    answers: [undefined, false, false],
    checks: [{ at: 0, backoff: null, small: false, large: false }],
  },
]
for (const c of streakCases) {
  test(`ProviderFailures: ${c.name}`, () => {
    const events: ProviderFailureEvent[] = []
    const f = new ProviderFailures((e) => events.push(e))
    const answers = run(f, c.steps)
    assert.deepEqual(
      events.map((e) => e.type),
      c.events,
    )
    if (c.answers !== undefined) assert.deepEqual(answers, c.answers)
    for (const k of c.checks) {
      const b = f.backoff(k.at)
      assert.deepEqual(b === undefined ? null : { kind: b.kind, untilMs: b.untilMs }, k.backoff, `backoff at ${k.at}`)
      assert.equal(f.launchWaits(SMALL, k.at), k.small, `launchWaits(small) at ${k.at}`)
      assert.equal(f.launchWaits(LARGE, k.at), k.large, `launchWaits(large) at ${k.at}`)
      assert.equal(f.holdsCalls(k.at), k.backoff?.kind === 'throttled', `holdsCalls at ${k.at}`)
    }
  })
}

test('ProviderFailures: the events and the status say what happened and how long it waits', () => {
  const events: ProviderFailureEvent[] = []
  const f = new ProviderFailures((e) => events.push(e))
  f.launchFailed(new ThrottledError('aws', 'Rate exceeded', { retryAfterMs: 3000 }), SMALL, 2, 0, new CrashLoop())
  f.launchFailed(new InsufficientCapacityError('aws', 'InsufficientInstanceCapacity'), SMALL, 2, 10_000, new CrashLoop())
  f.terminateFailed(new InstanceNotFoundError('aws', 'i-9', 'InvalidInstanceID.NotFound'), 'i-9', 20_000)
  assert.deepEqual(events, [
    {
      atMs: 0,
      type: 'provider-throttled',
      message: "the provider's API is rate-limiting tide (launch: Rate exceeded): every provider call of this group waits 3 s (as the provider asked); the group holds its count meanwhile",
    },
    {
      atMs: 10_000,
      type: 'capacity-unavailable',
      message: 'no capacity for 2 instance(s) of 1 cpu/512 MiB: InsufficientInstanceCapacity; launches of that size wait 10 s, doubling up to 300 s, until one succeeds',
    },
    { atMs: 20_000, type: 'terminate', message: 'instance i-9 was already gone (InvalidInstanceID.NotFound): counted as terminated', instanceId: 'i-9' },
  ])
  assert.deepEqual(f.backoff(15_000), { kind: 'capacity', untilMs: 20_000, why: 'no capacity for 1 cpu/512 MiB (InsufficientInstanceCapacity); 1 launch(es) refused in a row' })
  f.listFailed(new ThrottledError('aws', 'Rate exceeded'), 21_000)
  assert.deepEqual(f.backoff(21_000), { kind: 'throttled', untilMs: 22_000, why: "the provider's API rate limit (list: Rate exceeded); 1 throttled call(s) in a row" })
})

test('ProviderFailures: a non-retryable launch failure still backs off as a crash loop', () => {
  const loop = new CrashLoop()
  const f = new ProviderFailures(() => undefined)
  f.launchFailed(new LaunchFailedError('local', 'ENOENT', false), SMALL, 1, 0, loop)
  assert.equal(loop.failures, 1)
  f.launchFailed(new ThrottledError('local', 'slow down'), SMALL, 1, 0, loop)
  f.launchFailed(new InsufficientCapacityError('local', 'full'), SMALL, 1, 0, loop)
  assert.equal(loop.failures, 1, 'a throttle or a shortage is no start failure')
})

// ---- the controller acting on each kind ----

function kindSetup(min = 2) {
  const clock = new ManualClock(T0)
  const provider = new FakeProvider(clock)
  const events = new MemoryEventLog()
  const spec = GroupSchema.parse({ group: 'web', provider: 'sim', replicas: { min, max: 10 }, warmupSeconds: 0, metrics: [] })
  const controller = new Controller({ groups: [spec], backend: sameBackend({ provider, signals: { read: () => undefined } }), clock, events, store: new MemoryStateStore() })
  const ofType = (type: string) => events.list().filter((e) => e.type === type)
  return { clock, provider, events, controller, ofType }
}

test('controller: a throttled list holds the group (no reconcile-failed), skips its calls for 1 s, then resumes', async () => {
  const { clock, provider, controller, ofType } = kindSetup()
  provider.nextError.list = new ThrottledError('fake', 'Rate exceeded')
  assert.deepEqual(await controller.reconcileOnce(), [], 'the group sits the tick out')
  assert.equal(ofType('provider-throttled').length, 1)
  assert.equal(ofType('reconcile-failed').length, 0, 'a hold, not a failure')
  assert.deepEqual(controller.providerBackoff('web'), {
    kind: 'throttled',
    untilMs: T0 + 1000,
    why: "the provider's API rate limit (list: Rate exceeded); 1 throttled call(s) in a row",
  })
  clock.advance(500)
  await controller.reconcileOnce()
  assert.equal(provider.countCalls('list'), 1, 'no provider call while the wait lasts')
  clock.advance(500)
  const [r] = await controller.reconcileOnce()
  assert.equal(r?.launched.length, 2, 'resumed once the second passed')
  assert.equal(controller.providerBackoff('web'), undefined)
  assert.equal(ofType('provider-throttled').length, 1)
})

test('controller: a throttled launch with retryAfterMs holds every call that long; a second throttle in the streak is silent and doubles', async () => {
  const { clock, provider, controller, ofType } = kindSetup()
  provider.nextError.launch = new ThrottledError('fake', 'Rate exceeded', { retryAfterMs: 5000 })
  await controller.reconcileOnce()
  assert.equal(provider.instances.size, 0)
  assert.equal(controller.providerBackoff('web')?.untilMs, T0 + 5000)
  clock.advance(3000)
  await controller.reconcileOnce()
  assert.equal(provider.countCalls('list'), 1, 'held: not even a list')
  assert.equal(provider.countCalls('launch'), 1)
  clock.advance(2000) // T0 + 5 s
  provider.nextError.launch = new ThrottledError('fake', 'Rate exceeded')
  await controller.reconcileOnce()
  assert.equal(controller.providerBackoff('web')?.untilMs, T0 + 7000, 'the second of the streak waits 2 s')
  assert.equal(ofType('provider-throttled').length, 1, 'one event per streak')
  clock.advance(2000)
  await controller.reconcileOnce()
  assert.equal(provider.instances.size, 2, 'launched once the wait passed')
  assert.equal(ofType('launch-failed').length, 0, 'a throttle is no launch failure')
})

test('controller: a throttle also holds terminations; they happen once it passes', async () => {
  const { clock, provider, controller } = kindSetup()
  await controller.reconcileOnce()
  for (const id of provider.instances.keys()) provider.markRunning(id) // served: its death is no start failure
  const [dead] = provider.instances.keys()
  assert.ok(dead)
  provider.markFailed(dead)
  provider.nextError.launch = undefined
  provider.nextError.terminate = new ThrottledError('fake', 'Rate exceeded', { retryAfterMs: 10_000 })
  clock.advance(15_000)
  await controller.reconcileOnce()
  assert.ok(provider.instances.has(dead), 'the throttled terminate left it')
  assert.equal(provider.countCalls('launch'), 1, 'the replacement waits with every other call')
  clock.advance(10_000)
  await controller.reconcileOnce()
  assert.ok(!provider.instances.has(dead), 'terminated after the wait')
  assert.equal(provider.countCalls('launch'), 2, 'and replaced')
})

test('controller: no capacity backs launches off (10 s, then 20 s) with one event, lists go on, and a launch ends the streak', async () => {
  const { clock, provider, controller, ofType } = kindSetup()
  provider.nextError.launch = new InsufficientCapacityError('fake', 'InsufficientInstanceCapacity')
  await controller.reconcileOnce()
  assert.equal(ofType('capacity-unavailable').length, 1)
  assert.deepEqual(controller.providerBackoff('web')?.kind, 'capacity')
  assert.equal(controller.providerBackoff('web')?.untilMs, T0 + 10_000)
  assert.deepEqual(controller.status('web')?.providerBackoff, controller.providerBackoff('web'), 'the status shows the back-off')
  clock.advance(5000)
  await controller.reconcileOnce()
  assert.equal(provider.countCalls('list'), 2, 'the group still observes')
  assert.equal(provider.countCalls('launch'), 1, 'but launches of that size wait')
  clock.advance(5000) // T0 + 10 s
  provider.nextError.launch = new InsufficientCapacityError('fake', 'InsufficientInstanceCapacity')
  await controller.reconcileOnce()
  assert.equal(controller.providerBackoff('web')?.untilMs, T0 + 30_000, 'the second shortage waits 20 s')
  assert.equal(ofType('capacity-unavailable').length, 1, 'one event per streak')
  clock.advance(19_999)
  await controller.reconcileOnce()
  assert.equal(provider.countCalls('launch'), 2)
  clock.advance(1)
  await controller.reconcileOnce()
  assert.equal(provider.instances.size, 2, 'room again: launched')
  assert.equal(controller.providerBackoff('web'), undefined, 'the streak is over')
  assert.equal(ofType('launch-failed').length, 0)
  assert.equal(ofType('reconcile-failed').length, 0)
})

test('controller: a terminate of an instance the platform no longer knows counts as gone, and it is replaced', async () => {
  const { clock, provider, controller, events, ofType } = kindSetup()
  await controller.reconcileOnce()
  for (const id of provider.instances.keys()) provider.markRunning(id) // served: its death is no start failure
  const [dead] = provider.instances.keys()
  assert.ok(dead)
  provider.markFailed(dead)
  // The platform lost it between the list and the terminate.
  provider.terminate = (_g, id) => {
    provider.instances.delete(id)
    return Promise.reject(new InstanceNotFoundError('fake', id, `InvalidInstanceID.NotFound: ${id}`))
  }
  clock.advance(15_000)
  const [r] = await controller.reconcileOnce()
  assert.ok(r)
  assert.deepEqual(r.terminated, [dead])
  assert.equal(r.launched.length, 1, 'replaced in the same tick')
  assert.equal(ofType('terminate-failed').length, 0)
  assert.ok(events.list().some((e) => e.type === 'terminate' && e.instanceId === dead && e.message.includes('was already gone')))
  assert.ok(ofType('instance-replaced').some((e) => e.instanceId === dead))
})

test('with the sim platform: maxInstances launches what fits, then capacity-unavailable, and the group fills up when room frees', async () => {
  const clock = new ManualClock(T0)
  const cloud = new SimCloud({ maxInstances: 3 })
  const events = new MemoryEventLog()
  const web = GroupSchema.parse({ group: 'web', provider: 'sim', replicas: { min: 4, max: 10 }, startupSeconds: 0, warmupSeconds: 0, metrics: [] })
  const provider = new SimProvider({ clock, cloud })
  const controller = new Controller({ groups: [web], backend: sameBackend({ provider, signals: { read: () => undefined } }), clock, events, store: new MemoryStateStore() })
  await controller.reconcileOnce()
  assert.equal(provider.liveCount('web'), 3, 'the room there was')
  clock.advance(15_000)
  await controller.reconcileOnce()
  assert.equal(controller.providerBackoff('web')?.kind, 'capacity')
  assert.equal(events.list().filter((e) => e.type === 'capacity-unavailable').length, 1)
  // One instance is terminated outside tide: room for one.
  const [first] = provider.instances('web')
  assert.ok(first)
  await provider.terminate(web, first.id)
  clock.advance(15_000) // past the 10 s wait: 2 live, 2 to launch, 1 fits
  await controller.reconcileOnce()
  assert.equal(provider.liveCount('web'), 3)
  assert.equal(controller.providerBackoff('web'), undefined, 'a launch that succeeded (in part) ends the streak')
  clock.advance(15_000)
  await controller.reconcileOnce()
  assert.equal(controller.providerBackoff('web')?.kind, 'capacity', 'full again')
  assert.equal(events.list().filter((e) => e.type === 'capacity-unavailable').length, 2, 'a new streak, a new event')
})

test('with the sim platform: an API rate limit holds one group while another launches, then both are served', async () => {
  const clock = new ManualClock(T0)
  // 3 calls per 10 s: two lists and one launch fit in the first tick; the second launch does not.
  const cloud = new SimCloud({ apiRateLimit: { maxCalls: 3, perSeconds: 10 } })
  const events = new MemoryEventLog()
  const mk = (name: string) => GroupSchema.parse({ group: name, provider: 'sim', replicas: { min: 2, max: 10 }, startupSeconds: 0, warmupSeconds: 0, metrics: [] })
  const provider = new SimProvider({ clock, cloud })
  const controller = new Controller({ groups: [mk('a'), mk('b')], backend: sameBackend({ provider, signals: { read: () => undefined } }), clock, events, store: new MemoryStateStore() })
  await controller.reconcileOnce()
  assert.equal(provider.liveCount('a'), 2)
  assert.equal(provider.liveCount('b'), 0)
  assert.deepEqual(
    events.list().filter((e) => e.type === 'provider-throttled').map((e) => e.group),
    ['b'],
  )
  assert.equal(controller.providerBackoff('b')?.untilMs, T0 + 10_000, 'the time left in the window, as the platform said')
  assert.equal(controller.providerBackoff('a'), undefined)
  clock.advance(15_000) // a new window: list a, list b, launch b
  await controller.reconcileOnce()
  assert.equal(provider.liveCount('b'), 2)
  assert.equal(controller.providerBackoff('b'), undefined)
  assert.equal(events.list().filter((e) => e.type === 'reconcile-failed').length, 0)
})

test('ProviderFailures: after the clock steps back an hour, a throttle and a capacity wait end their own length from then', () => {
  const HOUR = 3_600_000
  const T = 10 * HOUR
  const f = new ProviderFailures(() => undefined)
  f.listFailed(new ThrottledError('aws', 'Rate exceeded', { retryAfterMs: 3000 }), T) // until T + 3 s
  f.launchFailed(new InsufficientCapacityError('aws', 'InsufficientInstanceCapacity'), { cpu: 2, memoryMiB: 1024 }, 1, T, new CrashLoop()) // until T + 10 s
  const back = T - HOUR // the clock stepped back an hour
  assert.equal(f.holdsCalls(back), true, 'the throttle still holds right after the step')
  assert.equal(f.holdsCalls(back + 3000), false, 'and ends 3 s later, not an hour and 3 s later')
  assert.equal(f.launchWaits({ cpu: 2, memoryMiB: 1024 }, back), true)
  assert.equal(f.launchWaits({ cpu: 2, memoryMiB: 1024 }, back + 10_000), false, 'the capacity wait ends 10 s after the step')
})
