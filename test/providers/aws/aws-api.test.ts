/**
 * How AWS failures are classified and retried (src/providers/aws/aws-api.ts), on errors shaped as
 * the SDK raises them (name = the service's error code, $metadata.httpStatusCode) and as the
 * network raises them (code, no status). The same paths against real HTTP are in
 * aws-provider.test.ts (the query fake's throttling in front of moto).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createServer, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { AwsApi, classifyAwsError, providerErrorOf, withRetry, type AwsFailureKind } from '../../../src/providers/aws/aws-api.ts'
import { isProviderError } from '../../../src/providers/errors.ts'
import { useTestCredentials } from '../../support/moto.ts'

/** An error as the SDK raises it for an AWS error response. */
function sdkError(name: string, status: number, message = 'm'): Error {
  return Object.assign(new Error(message), { name, $metadata: { httpStatusCode: status } })
}

const kinds: [string, unknown, AwsFailureKind, string][] = [
  ['Auto Scaling Throttling (400)', sdkError('Throttling', 400, 'Rate exceeded'), 'throttled', 'TIDE_ERR_PROVIDER_THROTTLED'],
  ['EC2 RequestLimitExceeded (503)', sdkError('RequestLimitExceeded', 503), 'throttled', 'TIDE_ERR_PROVIDER_THROTTLED'],
  ['an unnamed 429', sdkError('Error', 429), 'throttled', 'TIDE_ERR_PROVIDER_THROTTLED'],
  ['InsufficientInstanceCapacity', sdkError('InsufficientInstanceCapacity', 500), 'capacity', 'TIDE_ERR_PROVIDER_CAPACITY'],
  ['Auto Scaling LimitExceeded (a quota)', sdkError('LimitExceeded', 400), 'capacity', 'TIDE_ERR_PROVIDER_CAPACITY'],
  ['InvalidInstanceID.NotFound', sdkError('InvalidInstanceID.NotFound', 400), 'not-found', 'TIDE_ERR_PROVIDER_NOT_FOUND'],
  ['InternalFailure (500)', sdkError('InternalFailure', 500), 'transient', 'TIDE_ERR_PROVIDER_API'],
  ['ResourceContention (a pending update)', sdkError('ResourceContention', 500), 'transient', 'TIDE_ERR_PROVIDER_API'],
  ['an unknown 502', sdkError('Error', 502), 'transient', 'TIDE_ERR_PROVIDER_API'],
  ['a connection refused (no status)', Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }), 'transient', 'TIDE_ERR_PROVIDER_API'],
  ['ValidationError (a refusal)', sdkError('ValidationError', 400, "Currently, desiredSize equals minSize (1). Terminating instance without replacement will violate group's min size constraint."), 'refused', 'TIDE_ERR_PROVIDER_API'],
  ['AccessDenied', sdkError('AccessDenied', 403), 'refused', 'TIDE_ERR_PROVIDER_API'],
]
for (const [name, err, kind, code] of kinds) {
  test(`${name} is ${kind} and becomes ${code}`, () => {
    assert.equal(classifyAwsError(err), kind)
    const e = providerErrorOf('SetDesiredCapacity', err, 'i-1')
    assert.equal(e.code, code)
    assert.equal(e.retryable, kind !== 'not-found' && kind !== 'refused', `retryable ${String(e.retryable)}`)
    assert.match(e.message, /^aws SetDesiredCapacity: /)
  })
}

test('withRetry waits 200, 400, 800 ms between four attempts while throttled, then gives up with a ThrottledError', async () => {
  const waits: number[] = []
  let calls = 0
  await assert.rejects(
    withRetry('DescribeAutoScalingGroups', () => {
      calls++
      return Promise.reject(sdkError('Throttling', 400, 'Rate exceeded'))
    }, { attempts: 4, baseMs: 200, maxMs: 2000 }, (ms) => {
      waits.push(ms)
      return Promise.resolve()
    }),
    /aws DescribeAutoScalingGroups: Throttling: Rate exceeded/,
  )
  assert.equal(calls, 4)
  assert.deepEqual(waits, [200, 400, 800])
})

test('withRetry returns the first success, and never retries a refusal', async () => {
  let calls = 0
  const ok = await withRetry('X', () => (++calls < 3 ? Promise.reject(sdkError('InternalFailure', 500)) : Promise.resolve('done')), { attempts: 4, baseMs: 1, maxMs: 1 }, () => Promise.resolve())
  assert.deepEqual([ok, calls], ['done', 3])
  calls = 0
  await assert.rejects(withRetry('X', () => {
    calls++
    return Promise.reject(sdkError('AccessDenied', 403))
  }, { attempts: 4, baseMs: 1, maxMs: 1 }, () => Promise.resolve()), (err: unknown) => (err as { retryable?: boolean }).retryable === false)
  assert.equal(calls, 1)
})

test('a call AWS never answers fails within the request timeout (the SDK would only warn), retried, then a retryable error', { timeout: 30_000 }, async () => {
  const held: ServerResponse[] = []
  const server = createServer((_req, res) => held.push(res))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const waits: number[] = []
  const api = new AwsApi({
    region: 'us-east-1',
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requestTimeoutMs: 300,
    retry: { attempts: 2, baseMs: 10, maxMs: 10 },
    sleep: (ms) => {
      waits.push(ms)
      return Promise.resolve()
    },
  })
  useTestCredentials()
  try {
    const t0 = performance.now()
    const err = await api.describeGroup('shop').then(
      () => undefined,
      (e: unknown) => e,
    )
    const ms = performance.now() - t0
    assert.ok(isProviderError(err), `expected a provider error, got ${String(err)}`)
    assert.equal(err.retryable, true, err.message)
    assert.deepEqual(waits, [10], 'two attempts, one wait between them')
    assert.equal(held.length, 2)
    // 2 attempts × 300 ms, and some slack for a busy machine: far from "never".
    assert.ok(ms >= 550 && ms < 5000, `failed after ${Math.round(ms)} ms`)
  } finally {
    for (const res of held) res.destroy()
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
  }
})
