// The provider failure kinds: their codes, statuses and flags from the registry, their is…
// helpers (by shape, so a second copy of tide counts), and the wait a throttle carries.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { httpStatusOf } from '../../src/errors.ts'
import {
  InstanceNotFoundError,
  InsufficientCapacityError,
  LaunchFailedError,
  ThrottledError,
  isInstanceNotFoundError,
  isInsufficientCapacityError,
  isRetryableProviderError,
  isThrottledError,
  retryAfterMsOf,
} from '../../src/providers/errors.ts'

/** An error as a second installed copy of tide would make it: right shape, another class. */
function foreign(code: string, extra: Record<string, unknown> = {}): Error {
  return Object.assign(new Error('from another copy'), { code, ...extra })
}

const kindCases = [
  { name: 'ThrottledError', err: new ThrottledError('aws', 'Rate exceeded'), code: 'TIDE_ERR_PROVIDER_THROTTLED', status: 429, retryable: true, is: isThrottledError },
  { name: 'InsufficientCapacityError', err: new InsufficientCapacityError('aws', 'InsufficientInstanceCapacity'), code: 'TIDE_ERR_PROVIDER_CAPACITY', status: 503, retryable: true, is: isInsufficientCapacityError },
  { name: 'InstanceNotFoundError', err: new InstanceNotFoundError('aws', 'i-1', 'InvalidInstanceID.NotFound'), code: 'TIDE_ERR_PROVIDER_NOT_FOUND', status: 404, retryable: false, is: isInstanceNotFoundError },
] as const
for (const c of kindCases) {
  test(`${c.name}: code ${c.code}, HTTP ${c.status}, ${c.retryable ? '' : 'not '}retryable, recognised by shape and by no other helper`, () => {
    assert.equal(c.err.code, c.code)
    assert.equal(c.err.name, c.name)
    assert.equal(c.err.provider, 'aws')
    assert.equal(c.err.status, c.status)
    assert.equal(httpStatusOf(c.err), c.status)
    assert.equal(c.err.retryable, c.retryable)
    assert.equal(isRetryableProviderError(c.err), c.retryable)
    assert.equal(c.is(c.err), true)
    assert.equal(c.is(foreign(c.code)), true, 'a copy from a second tide')
    assert.equal(c.is(new LaunchFailedError('aws', 'm', true)), false)
    const others = kindCases.filter((o) => o.name !== c.name)
    for (const o of others) assert.equal(o.is(c.err), false, `${o.name}'s helper`)
  })
}

test('InstanceNotFoundError keeps the id it names', () => {
  assert.equal(new InstanceNotFoundError('sim', 'sim-web-3', 'gone').instanceId, 'sim-web-3')
})

const retryAfterCases = [
  { name: 'given: kept', err: new ThrottledError('aws', 'm', { retryAfterMs: 2500 }), want: 2500 },
  { name: 'absent: undefined (the controller backs off by itself)', err: new ThrottledError('aws', 'm'), want: undefined },
  { name: 'negative: clamped to 0 on the error', err: new ThrottledError('aws', 'm', { retryAfterMs: -5 }), want: 0 },
  { name: 'not finite: dropped', err: new ThrottledError('aws', 'm', { retryAfterMs: Number.POSITIVE_INFINITY }), want: undefined },
  { name: 'a copy with a number: read by shape', err: foreign('TIDE_ERR_PROVIDER_THROTTLED', { retryAfterMs: 1000 }), want: 1000 },
  { name: 'a copy with a string: ignored', err: foreign('TIDE_ERR_PROVIDER_THROTTLED', { retryAfterMs: '1000' }), want: undefined },
  { name: 'not an object at all', err: 'throttled', want: undefined },
] as const
for (const c of retryAfterCases) {
  test(`retryAfterMsOf: ${c.name}`, () => {
    assert.equal(retryAfterMsOf(c.err), c.want)
  })
}

test('ThrottledError keeps its cause', () => {
  const cause = new Error('HTTP 429')
  assert.equal(new ThrottledError('kubernetes', 'Too Many Requests', { cause, retryAfterMs: 1000 }).cause, cause)
})
