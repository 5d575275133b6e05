/**
 * `tide replay -f FILE` against a real running tide (test/support/running-tide.ts) serving its API
 * over real HTTP on 127.0.0.1, with two hours of recorded demand written into its store: the
 * side-by-side figures of a changed group, --json, an unchanged file, a group the file lacks, and
 * no token.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { stringify } from 'yaml'
import type { ApiServer } from '../../src/api/server.ts'
import type { ReplayResult } from '../../src/app/replay.ts'
import type { CommandTable } from '../../src/cli/args.ts'
import { serveApi, startTinyTide, tinyGroupValue, type RunningTide } from '../support/running-tide.ts'
import { commandRunner } from '../support/run-tide.ts'

const TOKEN = 'cli-replay-test-token'
const table: CommandTable = { replay: () => import('../../src/cli/replay.ts') }
let tide: RunningTide
let server: ApiServer
let changed: string
let same: string

/** Runs `tide ARGV` in process; its exit status and output. */
const tide_ = commandRunner(table, { TIDE_API_TOKEN: TOKEN })

before(async () => {
  tide = await startTinyTide('web')
  server = await serveApi(tide, TOKEN)
  // The spec in force as a file would give it (launch.cwd resolved): PUT through the API.
  const put = await fetch(`${server.url}/groups/web`, { method: 'PUT', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify(tinyGroupValue('web')), signal: AbortSignal.timeout(10_000) })
  assert.equal(put.status, 200)
  const now = Date.now()
  // 250 req/s for two hours: three instances of the simulator's default 100 req/s; max 2 in force.
  for (let t = now - 2 * 3_600_000; t < now; t += 15_000) tide.runtime.store.recordMetric('web', 'rps', t, 250)
  changed = join(tide.dir, 'changed.yaml')
  same = join(tide.dir, 'same.yaml')
  writeFileSync(changed, stringify(tinyGroupValue('web', { replicas: { min: 1, max: 5 } })))
  writeFileSync(same, stringify(tinyGroupValue('web')))
})

after(async () => {
  await server.close()
  await tide.stop()
})

test('tide replay prints the figures in force and proposed side by side', async () => {
  const r = await tide_(['replay', '-f', changed, '--hours', '2', '--api', server.url])
  assert.equal(r.code, 0, r.stderr)
  assert.match(r.stdout, /^web: replay of 2\.0 h of recorded demand \(\d+ points, /)
  assert.match(r.stdout, /\n +IN FORCE +PROPOSED +CHANGE\n/)
  assert.match(r.stdout, /\n +peak instances +2 +3 +\+1\n/)
  assert.match(r.stdout, /\n +SLO violated +\d+\.\d\d % +\d+\.\d\d % +-\d+\.\d\d pp\n/)
  assert.match(r.stdout, /\n +decisions up\/down\/hold +\d+\/\d+\/\d+ +\d+\/\d+\/\d+/)
  assert.match(r.stdout, /note: model: 100 req\/s per instance/)
  assert.equal(tide.runtime.config.groups[0]?.replicas.max, 2, 'nothing applied')
})

test('tide replay --json prints the API answers as one array', async () => {
  const r = await tide_(['replay', '-f', changed, '--hours', '1', '--json', '--api', server.url])
  assert.equal(r.code, 0, r.stderr)
  const results = JSON.parse(r.stdout) as ReplayResult[]
  assert.equal(results.length, 1)
  assert.equal(results[0]?.group, 'web')
  assert.equal(results[0].current.peakInstances, 2)
  assert.equal(results[0].proposed.peakInstances, 3)
})

test('an unchanged file replays nothing', async () => {
  const r = await tide_(['replay', '-f', same, '--api', server.url])
  assert.equal(r.code, 0, r.stderr)
  assert.equal(r.stdout, 'web: unchanged\n')
})

test('usage errors: a group the file lacks, too many hours (exit 2)', async () => {
  const lacks = await tide_(['replay', '-f', changed, '--group', 'nope', '--api', server.url])
  assert.equal(lacks.code, 2)
  assert.match(lacks.stderr, /--group nope: .* has no group 'nope'/)
  const long = await tide_(['replay', '-f', changed, '--hours', '400', '--api', server.url])
  assert.equal(long.code, 2)
  assert.match(long.stderr, /--hours: must be at most 336, got 400/)
})

test('without the token: exit 1 with the API\'s 401 and where the token is read from', async () => {
  const r = await tide_(['replay', '-f', changed, '--api', server.url], {})
  assert.equal(r.code, 1)
  assert.match(r.stderr, /TIDE_ERR_API_UNAUTHORIZED: .*\(the token is read from \$TIDE_API_TOKEN/)
})
