/**
 * `tide apply -f FILE` against a real running tide (test/support/running-tide.ts) serving its API
 * over real HTTP on 127.0.0.1: the diff and the replay are shown; without a terminal and without
 * --yes it refuses (exit 2) and changes nothing; --yes applies (GET shows it); a confirmation
 * answered no applies nothing; groups the file leaves out are kept and named.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { stringify } from 'yaml'
import type { ApiServer } from '../../src/api/server.ts'
import { applyCommand } from '../../src/cli/apply.ts'
import type { CommandTable } from '../../src/cli/args.ts'
import { serveApi, startTinyTide, tinyGroupValue, type RunningTide } from '../support/running-tide.ts'
import { commandRunner } from '../support/run-tide.ts'

const TOKEN = 'cli-apply-test-token'
let tide: RunningTide
let server: ApiServer
/** What the confirmation answers (a terminal, in the tests' stead); asked questions are kept. */
let answer: boolean | undefined
const asked: string[] = []

const table: CommandTable = {
  apply: applyCommand(() =>
    answer === undefined
      ? undefined
      : (q) => {
          asked.push(q)
          return Promise.resolve(answer ?? false)
        },
  ),
}

/** Runs `tide ARGV` in process; its exit status and output. */
const tide_ = commandRunner(table, { TIDE_API_TOKEN: TOKEN })

/** Writes `groups` as a tide.yaml (one document each) in the tide's folder; its path. */
function file(name: string, ...groups: Record<string, unknown>[]): string {
  const path = join(tide.dir, name)
  writeFileSync(path, groups.map((g) => stringify(g)).join('---\n'))
  return path
}

async function maxInForce(): Promise<number> {
  const res = await fetch(`${server.url}/groups/web`, { signal: AbortSignal.timeout(10_000) })
  return ((await res.json()) as { spec: { replicas: { max: number } } }).spec.replicas.max
}

before(async () => {
  tide = await startTinyTide('web')
  server = await serveApi(tide, TOKEN)
  const now = Date.now()
  for (let t = now - 3_600_000; t < now; t += 15_000) tide.runtime.store.recordMetric('web', 'rps', t, 150)
})

after(async () => {
  await server.close()
  await tide.stop()
})

test('without a terminal and without --yes: the diff and the replay, then exit 2 and nothing changed', async () => {
  answer = undefined
  const r = await tide_(['apply', '-f', file('max4.yaml', tinyGroupValue('web', { replicas: { min: 1, max: 4 } })), '--hours', '1', '--api', server.url])
  assert.equal(r.code, 2, r.stderr)
  assert.match(r.stdout, /^web: changed \(- in force, \+ .*max4\.yaml\)\n/)
  assert.match(r.stdout, /\n- {3}max: 2\n\+ {3}max: 4\n/)
  assert.match(r.stdout, /\nweb: replay of 1\.0 h of recorded demand/)
  assert.match(r.stdout, /peak instances +2 +2 +=/)
  assert.match(r.stderr, /^tide: not applied \(change web\): no terminal to ask on; pass --yes to apply without asking\n$/)
  assert.equal(await maxInForce(), 2)
})

test('a confirmation answered no applies nothing; an added group and the groups left out are named', async () => {
  answer = false
  asked.length = 0
  const r = await tide_(['apply', '-f', file('other.yaml', tinyGroupValue('other', { routing: { listen: 0, drainSeconds: 1 } })), '--api', server.url])
  assert.equal(r.code, 0, r.stderr)
  assert.match(r.stdout, /^other: added \(not in the running tide yet\)\n\+ alerts: \[\]\n/)
  assert.match(r.stdout, /\nin force but not in .*other\.yaml \(kept; --prune removes them\): web\n/)
  assert.deepEqual(asked, ['apply? (add other) [y/N] '])
  assert.match(r.stdout, /\nnot applied\n$/)
  assert.deepEqual(tide.runtime.config.groups.map((g) => g.group), ['web'])
})

test('--yes applies each changed group: GET shows the new spec', async () => {
  answer = undefined
  const r = await tide_(['apply', '-f', file('max3.yaml', tinyGroupValue('web', { replicas: { min: 1, max: 3 } })), '--yes', '--hours', '1', '--api', server.url])
  assert.equal(r.code, 0, r.stderr)
  assert.match(r.stdout, /\nweb: changed\n$/)
  assert.equal(await maxInForce(), 3)
  // The same file again: nothing to do.
  const again = await tide_(['apply', '-f', join(tide.dir, 'max3.yaml'), '--api', server.url])
  assert.equal(again.code, 0, again.stderr)
  assert.equal(again.stdout, 'web: unchanged\nnothing to apply\n')
})

test('a confirmation answered yes applies', async () => {
  answer = true
  const r = await tide_(['apply', '-f', file('max2.yaml', tinyGroupValue('web')), '--hours', '1', '--api', server.url])
  assert.equal(r.code, 0, r.stderr)
  assert.equal(await maxInForce(), 2)
})

test('a file that is not valid: exit 1 naming the file and line, nothing asked', async () => {
  answer = undefined
  const r = await tide_(['apply', '-f', file('bad.yaml', tinyGroupValue('web', { replcas: { max: 3 } })), '--yes', '--api', server.url])
  assert.equal(r.code, 1)
  assert.match(r.stderr, /bad\.yaml:\d+:1: replcas: unknown field "replcas"/)
  assert.equal(r.stdout, '')
})

test('a change the running tide cannot take without a restart: exit 1 with its code, nothing applied', async () => {
  answer = undefined
  const health = { path: '/healthz', intervalSeconds: 1, healthyThreshold: 1, graceSeconds: 10 }
  const r = await tide_(['apply', '-f', file('health.yaml', tinyGroupValue('web', { health })), '--yes', '--hours', '1', '--api', server.url])
  assert.equal(r.code, 1, r.stdout)
  assert.match(r.stderr, /^tide: TIDE_ERR_API_CONFLICT: the running tide cannot apply this change/m)
  assert.equal(tide.runtime.config.groups[0]?.health.intervalSeconds, 0.5)
})
