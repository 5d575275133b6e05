/**
 * The aws provider against a real moto server (moto_server on 127.0.0.1), and, for what moto does
 * not do (throttling, a lifecycle hook that holds, a refused launch), against the small query
 * fake put in front of it (test/support/aws-fake.ts). Auto Scaling groups are created with the
 * real SDK; the provider drives them with the real SDK. Skipped, saying why, without moto_server.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { instancesToRemove } from '../../../src/engine/retire.ts'
import type { InstanceView } from '../../../src/engine/types.ts'
import { AwsApi, type RetryPolicy } from '../../../src/providers/aws/aws-api.ts'
import { AwsProvider } from '../../../src/providers/aws/aws-provider.ts'
import { isInsufficientCapacityError, isProviderError, isThrottledError } from '../../../src/providers/errors.ts'
import { GroupSchema, type GroupSpec } from '../../../src/spec/schema.ts'
import { startAwsFake, type AwsFake } from '../../support/aws-fake.ts'
import { createGroup, describeGroup, protect, startMoto, TEST_REGION, type Moto } from '../../support/moto.ts'
import { missingBinary } from '../../support/system-binaries.ts'
import { runProviderContract } from '../provider.contract.ts'

const skip = missingBinary('moto_server')

let motoStarted: Promise<Moto> | undefined
/** moto, started once for the file (the contract's env and the tests below share it). */
function moto(): Promise<Moto> {
  motoStarted ??= startMoto()
  return motoStarted
}

after(async () => {
  if (motoStarted !== undefined) await (await motoStarted).stop()
})

/** A group spec driving the Auto Scaling group `asg`, `extra` on top. */
function awsGroup(asg: string, extra: Record<string, unknown> = {}, aws: Record<string, unknown> = {}): GroupSpec {
  return GroupSchema.parse({ group: asg, provider: 'aws', size: { cpu: 1, memoryMiB: 256 }, replicas: { min: 0, max: 10 }, aws: { autoScalingGroupName: asg, region: TEST_REGION, launchWaitSeconds: 2, hookWaitSeconds: 5, ...aws }, ...extra })
}

/** A provider at `endpoint`; waits between retries are recorded in `waits` rather than slept. */
function providerAt(endpoint: string, waits: number[] = [], retry?: RetryPolicy): AwsProvider {
  const apis = new Map<string, AwsApi>()
  return new AwsProvider({
    clock: { now: () => Date.now() },
    pollMs: 50,
    apiFor: (region) => {
      let api = apis.get(region)
      if (api === undefined) {
        api = new AwsApi({ region, endpoint, ...(retry === undefined ? {} : { retry }), sleep: (ms) => {
          waits.push(ms)
          return Promise.resolve()
        } })
        apis.set(region, api)
      }
      return api
    },
  })
}

if (skip === false) {
  runProviderContract('aws (moto)', async () => {
    const m = await moto()
    await createGroup(m.url, { name: 'contract', min: 0, max: 4, desired: 0 })
    return { group: awsGroup('contract'), newProvider: () => providerAt(m.url), cleanup: async () => {} }
  })
} else {
  test('provider contract: aws (moto)', { skip }, () => {})
}

describe('aws provider against moto', { skip }, () => {
  let m: Moto
  before(async () => {
    m = await moto()
  })

  test('lists the group\'s instances with their state, type and zone, all of the group\'s size', async () => {
    await createGroup(m.url, { name: 'listing', min: 0, max: 5, desired: 2 })
    const rs = await providerAt(m.url).list(awsGroup('listing'))
    assert.equal(rs.length, 2)
    for (const r of rs) {
      assert.match(r.id, /^i-[0-9a-f]+$/)
      assert.equal(r.status, 'running')
      assert.deepEqual(r.size, { cpu: 1, memoryMiB: 256 })
      assert.equal(r.meta?.lifecycleState, 'InService')
      assert.equal(r.meta.instanceType, 't3.micro')
      assert.equal(r.meta.availabilityZone, `${TEST_REGION}a`)
      assert.ok(Math.abs(r.launchedAtMs - Date.now()) < 120_000, `launchedAtMs ${r.launchedAtMs}`)
      assert.equal(r.protectedFromScaleIn, undefined)
    }
  })

  test('an Auto Scaling group that does not exist is a configuration error naming it', async () => {
    await assert.rejects(providerAt(m.url).list(awsGroup('nowhere')), (err: unknown) => isProviderError(err, 'TIDE_ERR_PROVIDER_CONFIG') && /no Auto Scaling group named nowhere in us-east-1/.test((err as Error).message))
  })

  test('scale-out raises the desired capacity by the count and returns the new instances', async () => {
    await createGroup(m.url, { name: 'out', min: 0, max: 6, desired: 1 })
    const p = providerAt(m.url)
    const spec = awsGroup('out')
    const before = (await p.list(spec)).map((r) => r.id)
    const started = await p.launch(spec, spec.size, 2)
    assert.equal(started.length, 2)
    for (const r of started) assert.ok(!before.includes(r.id))
    assert.equal((await describeGroup(m.url, 'out')).DesiredCapacity, 3)
    assert.equal((await p.list(spec)).length, 3)
  })

  test('scale-out stops at the group\'s MaxSize (moto would take more): partial, then refused as no capacity', async () => {
    await createGroup(m.url, { name: 'capped', min: 0, max: 3, desired: 2 })
    const p = providerAt(m.url)
    const spec = awsGroup('capped')
    assert.equal((await p.launch(spec, spec.size, 2)).length, 1)
    assert.equal((await describeGroup(m.url, 'capped')).DesiredCapacity, 3)
    await assert.rejects(p.launch(spec, spec.size, 1), (err: unknown) => isInsufficientCapacityError(err) && /at its MaxSize 3 with 3 instance\(s\)/.test((err as Error).message))
    assert.equal((await describeGroup(m.url, 'capped')).DesiredCapacity, 3)
  })

  test('with aws.ownsMinMax the group\'s MinSize/MaxSize become replicas.min/max', async () => {
    await createGroup(m.url, { name: 'owned', min: 0, max: 1, desired: 1 })
    const p = providerAt(m.url)
    const spec = awsGroup('owned', { replicas: { min: 1, max: 4 } }, { ownsMinMax: true })
    await p.list(spec)
    let g = await describeGroup(m.url, 'owned')
    assert.deepEqual([g.MinSize, g.MaxSize], [1, 4])
    assert.equal((await p.launch(spec, spec.size, 3)).length, 3)
    g = await describeGroup(m.url, 'owned')
    assert.deepEqual([g.MinSize, g.MaxSize, g.DesiredCapacity], [1, 4, 4])
  })

  test('scale-in terminates the chosen instance and decrements the desired capacity; AWS-protected instances are never chosen', async () => {
    const g = await createGroup(m.url, { name: 'in', min: 0, max: 5, desired: 3 })
    const ids = (g.Instances ?? []).map((i) => i.InstanceId ?? '')
    await protect(m.url, 'in', [ids[0]!])
    const p = providerAt(m.url)
    const spec = awsGroup('in')
    const rs = await p.list(spec)
    assert.deepEqual(rs.filter((r) => r.protectedFromScaleIn === true).map((r) => r.id), [ids[0]])
    // The controller's choice (engine/retire.ts) over these records: down to 1 of 3, every id a candidate.
    const views: InstanceView[] = rs.map((r) => ({ id: r.id, phase: 'in-service', size: r.size, launchedAtMs: r.launchedAtMs, protectedFromScaleIn: r.protectedFromScaleIn === true }))
    const victims = instancesToRemove({ target: 1, size: spec.size, instances: views, scaleInCandidates: [...ids] })
    assert.deepEqual(victims, [ids[1], ids[2]])
    for (const id of victims) await p.terminate(spec, id)
    const after = await describeGroup(m.url, 'in')
    assert.equal(after.DesiredCapacity, 1)
    assert.deepEqual((after.Instances ?? []).map((i) => i.InstanceId), [ids[0]])
    // Idempotent: again, and an id AWS does not know.
    await p.terminate(spec, ids[1]!)
    await p.terminate(spec, 'i-0123456789abcdef0')
    assert.equal((await describeGroup(m.url, 'in')).DesiredCapacity, 1)
  })

  test('vertical: a launch of another size makes a launch template version with its instance type, and new instances have it', async () => {
    await createGroup(m.url, { name: 'vertical', min: 0, max: 5, desired: 1, instanceType: 't3.micro' })
    const p = providerAt(m.url)
    const small = { name: 'small', cpu: 2, memoryMiB: 1024 }
    const large = { name: 'large', cpu: 2, memoryMiB: 8192 }
    const spec = awsGroup('vertical', { size: small, sizes: [small, large], strategy: 'vertical' }, { instanceTypes: { small: 't3.micro', large: 'm5.large' } })
    const [old] = await p.list(spec)
    assert.deepEqual(old?.size, small)
    const started = await p.launch(spec, large, 1)
    assert.equal(started.length, 1)
    const [fresh] = started
    assert.ok(fresh?.meta !== undefined)
    assert.deepEqual(fresh.size, large)
    assert.equal(fresh.meta.instanceType, 'm5.large')
    const g = await describeGroup(m.url, 'vertical')
    assert.equal(g.LaunchTemplate?.Version, '2')
    // The same size again makes no new version.
    await p.launch(spec, large, 1)
    assert.equal((await describeGroup(m.url, 'vertical')).LaunchTemplate?.Version, '2')
    // A size with no instance type is refused.
    await assert.rejects(p.launch(spec, { name: 'huge', cpu: 64, memoryMiB: 262144 }, 1), (err: unknown) => isProviderError(err, 'TIDE_ERR_PROVIDER_CONFIG') && /size huge has no instance type/.test((err as Error).message))
  })
})

describe('aws provider against the query fake in front of moto', { skip }, () => {
  let m: Moto
  let fake: AwsFake
  before(async () => {
    m = await moto()
    fake = await startAwsFake(m.url)
  })
  after(async () => {
    await fake.stop()
  })

  test('throttled calls (Auto Scaling Throttling, EC2 RequestLimitExceeded) are retried with backoff', async () => {
    await createGroup(m.url, { name: 'throttled', min: 0, max: 5, desired: 1 })
    const waits: number[] = []
    const p = providerAt(fake.url, waits)
    fake.throttle('DescribeAutoScalingGroups', 2)
    fake.throttle('DescribeInstances', 1)
    const rs = await p.list(awsGroup('throttled'))
    assert.equal(rs.length, 1)
    assert.deepEqual(waits, [200, 400, 200])
    assert.equal(fake.callsOf('DescribeAutoScalingGroups').length >= 3, true)
  })

  test('a throttle that outlasts the retries is a ThrottledError', async () => {
    await createGroup(m.url, { name: 'throttled-long', min: 0, max: 5, desired: 1 })
    const waits: number[] = []
    const p = providerAt(fake.url, waits)
    fake.throttle('DescribeAutoScalingGroups', 10)
    await assert.rejects(p.list(awsGroup('throttled-long')), (err: unknown) => isThrottledError(err) && /Throttling: Rate exceeded/.test((err as Error).message))
    assert.deepEqual(waits, [200, 400, 800])
    fake.throttle('DescribeAutoScalingGroups', 0)
  })

  test('a terminating lifecycle hook: the instance waits in Terminating:Wait until tide completes the action with CONTINUE', async () => {
    const g = await createGroup(m.url, { name: 'hooked', min: 0, max: 5, desired: 2, terminatingHook: 'drain-hook' })
    const id = g.Instances?.[0]?.InstanceId ?? ''
    const p = providerAt(fake.url)
    const spec = awsGroup('hooked')
    fake.holdTerminations(true)
    try {
      await p.terminate(spec, id)
    } finally {
      fake.holdTerminations(false)
    }
    const completes = fake.callsOf('CompleteLifecycleAction')
    assert.equal(completes.length, 1)
    assert.deepEqual(
      { hook: completes[0]?.params.LifecycleHookName, instance: completes[0]?.params.InstanceId, result: completes[0]?.params.LifecycleActionResult },
      { hook: 'drain-hook', instance: id, result: 'CONTINUE' },
    )
    // The termination was held until then: tide polled and saw Terminating:Wait.
    assert.ok(fake.callsOf('DescribeAutoScalingInstances').length >= 2)
    const after = await describeGroup(m.url, 'hooked')
    assert.equal(after.DesiredCapacity, 1)
    assert.ok(!(after.Instances ?? []).some((i) => i.InstanceId === id))
  })

  test('an instance listed in Terminating:Wait is stopping, and its hook is completed by the next list when tide terminated it', async () => {
    const g = await createGroup(m.url, { name: 'hooked-late', min: 0, max: 5, desired: 2, terminatingHook: 'late-hook' })
    const id = g.Instances?.[0]?.InstanceId ?? ''
    const p = providerAt(fake.url)
    const spec = awsGroup('hooked-late', {}, { hookWaitSeconds: 0 })
    fake.holdTerminations(true)
    try {
      await p.terminate(spec, id)
      const before = fake.callsOf('CompleteLifecycleAction').length
      const rs = await p.list(spec)
      const held = rs.find((r) => r.id === id)
      // Completed by this very list: it said stopping with the state it saw.
      assert.ok(held?.meta !== undefined)
      assert.equal(held.status, 'stopping')
      assert.equal(held.meta.lifecycleState, 'Terminating:Wait')
      assert.equal(fake.callsOf('CompleteLifecycleAction').length, before + 1)
    } finally {
      fake.holdTerminations(false)
    }
    assert.ok(!((await describeGroup(m.url, 'hooked-late')).Instances ?? []).some((i) => i.InstanceId === id))
  })

  test('a scale-out whose activity fails for capacity is an InsufficientCapacityError and the desired capacity goes back to what exists', async () => {
    await createGroup(m.url, { name: 'no-room', min: 0, max: 5, desired: 1 })
    const p = providerAt(fake.url)
    const spec = awsGroup('no-room')
    const before = fake.callsOf('SetDesiredCapacity').length
    fake.refuseLaunches('We currently do not have sufficient t3.micro capacity in the Availability Zone you requested (us-east-1a). (InsufficientInstanceCapacity)')
    try {
      await assert.rejects(p.launch(spec, spec.size, 2), (err: unknown) => isInsufficientCapacityError(err) && /desired 3, 1 exist; desired set back to 1.*InsufficientInstanceCapacity/.test((err as Error).message))
    } finally {
      fake.refuseLaunches(undefined)
    }
    assert.deepEqual(fake.callsOf('SetDesiredCapacity').slice(before).map((c) => c.params.DesiredCapacity), ['3', '1'])
  })
})
