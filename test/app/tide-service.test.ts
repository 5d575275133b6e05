/**
 * The application service over a real running tide (one local group of the tiny server, ticked
 * by hand): what the API relies on beyond the routes (test/api/app.test.ts covers those):
 * live events to subscribers, commands that reload one at a time, redaction, validation that
 * applies nothing, and the errors each command raises with its code.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { isApiError } from '../../src/app/errors.ts'
import { REDACTED, TideService } from '../../src/app/tide-service.ts'
import { isTideError } from '../../src/errors.ts'
import type { TideEvent } from '../../src/store/events.ts'
import { startTinyTide, tinyGroupValue, type RunningTide } from '../support/running-tide.ts'

let tide: RunningTide
let service: TideService

before(async () => {
  tide = await startTinyTide('svc')
  service = new TideService(tide.runtime, { baseDir: tide.dir })
})

after(async () => {
  await tide.stop()
})

test('subscribers see every event as it is recorded, until they stop', () => {
  const seen: TideEvent[] = []
  const stop = service.subscribe((e) => seen.push(e))
  service.setPaused('svc', true)
  stop()
  service.setPaused('svc', false)
  assert.deepEqual(
    seen.map((e) => e.type),
    ['group-paused'],
  )
  const failing = service.subscribe(() => {
    throw new Error('a broken listener')
  })
  assert.doesNotThrow(() => service.setPaused('svc', true), 'a listener failure never reaches the controller')
  failing()
  service.setPaused('svc', false)
})

test('getGroup redacts launch.env values unless asked to reveal them', () => {
  assert.deepEqual(service.getGroup('svc').spec.launch?.env, { FIXTURE_SECRET: REDACTED })
  assert.deepEqual(service.getGroup('svc', { revealEnv: true }).spec.launch?.env, { FIXTURE_SECRET: 'hunter2' })
  assert.equal(tide.runtime.config.groups[0]?.launch?.env.FIXTURE_SECRET, 'hunter2', 'the spec in force is untouched')
})

test('applies run one at a time, in the order asked: the last one wins', async () => {
  const results = await Promise.all([3, 4, 5].map((max) => service.applyGroup('svc', tinyGroupValue('svc', { replicas: { min: 1, max } }))))
  assert.deepEqual(
    results.map((r) => `${r.outcome} ${r.spec.replicas.max}`),
    ['changed 3', 'changed 4', 'changed 5'],
  )
  assert.equal(tide.runtime.config.groups[0]?.replicas.max, 5)
  // A refused apply does not block the next one.
  await assert.rejects(service.applyGroup('svc', { replicas: { min: 9, max: 1 } }), (err: unknown) => isTideError(err, 'TIDE_ERR_CONFIG'))
  assert.equal((await service.applyGroup('svc', tinyGroupValue('svc'))).spec.replicas.max, 2)
})

test('each command names what it refuses, with its code', async () => {
  const cases = [
    { name: 'an unknown group', run: () => service.setPaused('nope', true), code: 'TIDE_ERR_API_NOT_FOUND' },
    { name: 'an unknown instance', run: () => service.setProtection('svc', 'svc-nope', true), code: 'TIDE_ERR_API_NOT_FOUND' },
    { name: 'a bad cursor', run: () => service.events({ cursor: '0' }), code: 'TIDE_ERR_API_BAD_REQUEST' },
    { name: 'a limit above the most', run: () => service.events({ limit: 10_001 }), code: 'TIDE_ERR_API_BAD_REQUEST' },
    { name: 'a metric range backwards', run: () => service.metrics('svc', { fromMs: 2000, toMs: 1000 }), code: 'TIDE_ERR_API_BAD_REQUEST' },
    { name: 'a manual scale of an unknown group', run: () => service.setManualScale('nope', 3), code: 'TIDE_ERR_API_NOT_FOUND' },
    { name: 'a manual scale below 0', run: () => service.setManualScale('svc', -1), code: 'TIDE_ERR_API_BAD_REQUEST' },
    { name: 'a hold longer than a day', run: () => service.setManualScale('svc', 1, 86_401), code: 'TIDE_ERR_API_BAD_REQUEST' },
    { name: 'a hold of a fraction of a second', run: () => service.setManualScale('svc', 1, 0.5), code: 'TIDE_ERR_API_BAD_REQUEST' },
    { name: 'clearing the scale of an unknown group', run: () => service.clearManualScale('nope'), code: 'TIDE_ERR_API_NOT_FOUND' },
    { name: 'standby of an unknown instance', run: () => service.setStandby('svc', 'svc-nope', true), code: 'TIDE_ERR_API_NOT_FOUND' },
  ] as const
  // Commands throw at once; the store's readers (events, metrics) reject.
  for (const c of cases) {
    await assert.rejects(
      async () => {
        await c.run()
      },
      (err: unknown) => isApiError(err, c.code),
      c.name,
    )
  }
  await assert.rejects(service.deleteGroup('nope'), (err: unknown) => isApiError(err, 'TIDE_ERR_API_NOT_FOUND'))
})

test('validateGroup checks a spec as applyGroup does, and applies nothing', async () => {
  const before = tide.runtime.config
  const valid = service.validateGroup('svc', tinyGroupValue('svc', { replicas: { min: 1, max: 4 } }))
  assert.equal(valid.spec.replicas.max, 4)
  assert.equal(valid.config.groups.find((g) => g.group === 'svc')?.replicas.max, 4, 'the config a reload would take')
  assert.equal(tide.runtime.config, before, 'nothing applied')
  const cases = [
    { name: 'a field', body: tinyGroupValue('svc', { replicas: { min: 'one', max: 2 } }), code: 'TIDE_ERR_CONFIG' },
    { name: 'another name', body: tinyGroupValue('other'), code: 'TIDE_ERR_API_BAD_REQUEST' },
    { name: 'a change that takes a restart', body: tinyGroupValue('svc', { routing: { listen: 0, drainSeconds: 3 } }), code: 'TIDE_ERR_API_CONFLICT' },
  ] as const
  for (const c of cases) {
    assert.throws(() => service.validateGroup('svc', c.body), (err: unknown) => isTideError(err, c.code), c.name)
    await assert.rejects(service.applyGroup('svc', c.body), (err: unknown) => isTideError(err, c.code), `${c.name}: apply refuses it the same way`)
  }
  assert.equal(tide.runtime.config, before, 'nothing applied')
})

test('a removed group draining: commands on it are conflicts, it still answers queries', async () => {
  await service.applyGroup('gone', tinyGroupValue('gone'))
  await tide.tickUntil('gone serving', () => tide.runtime.controller.status('gone')?.instances.some((i) => i.phase === 'in-service') === true)
  const id = tide.runtime.controller.status('gone')?.instances[0]?.id ?? ''
  assert.deepEqual(await service.deleteGroup('gone'), { group: 'gone', state: 'removing' })
  assert.equal(service.getGroup('gone').state, 'removing')
  assert.throws(() => service.setPaused('gone', true), (err: unknown) => isApiError(err, 'TIDE_ERR_API_CONFLICT'))
  assert.throws(() => service.setProtection('gone', id, true), (err: unknown) => isApiError(err, 'TIDE_ERR_API_CONFLICT'))
  assert.throws(() => service.setManualScale('gone', 1), (err: unknown) => isApiError(err, 'TIDE_ERR_API_CONFLICT'))
  assert.throws(() => service.setStandby('gone', id, true), (err: unknown) => isApiError(err, 'TIDE_ERR_API_CONFLICT'))
  await assert.rejects(service.deleteGroup('gone'), (err: unknown) => isApiError(err, 'TIDE_ERR_API_CONFLICT'))
  await tide.tickUntil('gone drained and forgotten', () => tide.runtime.controller.removingGroups().length === 0, 60_000, 300)
  assert.deepEqual(
    (await service.events({ group: 'gone', types: ['group-removed'] })).events.map((e) => e.message),
    ['group gone is gone: every instance drained and stopped', 'group gone removed from the config: its instances are drained and stopped'],
  )
})
