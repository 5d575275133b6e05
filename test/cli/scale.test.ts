/**
 * `tide scale` against a real tide (test/support/running-tide.ts) serving its API over real HTTP
 * on 127.0.0.1: a hold clamped to max and said in words, --json, --clear, and the usage errors
 * (exit 2) and API errors (exit 1) a script can rely on. durationSecondsOf's table.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import type { ApiServer } from '../../src/api/server.ts'
import type { CommandTable } from '../../src/cli/args.ts'
import { durationSecondsOf } from '../../src/cli/scale.ts'
import { serveApi, startTinyTide, type RunningTide } from '../support/running-tide.ts'
import { commandRunner } from '../support/run-tide.ts'

const TOKEN = 'cli-scale-test-token'
const table: CommandTable = { scale: () => import('../../src/cli/scale.ts') }
let tide: RunningTide
let server: ApiServer

/** Runs `tide ARGV` in process; its exit status and output. */
const tide_ = commandRunner(table, { TIDE_API_TOKEN: TOKEN })

before(async () => {
  tide = await startTinyTide('web')
  server = await serveApi(tide, TOKEN)
})

after(async () => {
  await server.close()
  await tide.stop()
})

const durations = [
  { text: '90', want: 90 },
  { text: '90s', want: 90 },
  { text: '30m', want: 1800 },
  { text: '2h', want: 7200 },
  { text: '1h30m', want: 5400 },
  { text: '1d', want: 86_400 },
  { text: '1.5h', want: undefined },
  { text: '5x', want: undefined },
  { text: '', want: undefined },
  { text: 'm', want: undefined },
] as const
for (const c of durations) {
  test(`durationSecondsOf('${c.text}') → ${c.want}`, () => {
    assert.equal(durationSecondsOf(c.text), c.want)
  })
}

test('tide scale GROUP N --for: held at max, said in words; the running tide holds it; --clear ends it', async () => {
  const held = await tide_(['scale', 'web', '5', '--for', '90s', '--api', server.url])
  assert.equal(held.code, 0, held.stderr)
  assert.match(held.stdout, /^web: held at 2 until \d{4}-\d\d-\d\dT[\d:.]+Z \(max 2; asked 5\)\n$/)
  const m = tide.runtime.controller.manualScale('web')
  assert.ok(m)
  assert.equal(m.desired, 5)
  assert.ok(Math.abs(m.untilMs - Date.now() - 90_000) < 5000)
  const json = await tide_(['scale', 'web', '1', '--json', '--api', server.url])
  assert.equal(json.code, 0, json.stderr)
  const body = JSON.parse(json.stdout) as { holding: number; clamped: boolean; untilMs: number }
  assert.equal(body.holding, 1)
  assert.equal(body.clamped, false)
  assert.ok(Math.abs(body.untilMs - Date.now() - 900_000) < 5000, '15 minutes by default')
  const cleared = await tide_(['scale', 'web', '--clear', '--api', server.url])
  assert.equal(cleared.stdout, 'web: manual scale cleared; the engine decides again from the next tick\n')
  assert.equal(tide.runtime.controller.manualScale('web'), undefined)
  assert.equal((await tide_(['scale', 'web', '--clear', '--api', server.url])).stdout, 'web: no manual scale was in force\n')
})

const failures = [
  { name: 'no count', argv: ['scale', 'web'], code: 2, stderr: /give the count to hold \(tide scale GROUP N\), or --clear/ },
  { name: 'a count that is not a whole number', argv: ['scale', 'web', 'x'], code: 2, stderr: /N: a whole number of instances ≥ 0, got 'x'/ },
  { name: 'a bad duration', argv: ['scale', 'web', '3', '--for', '5x'], code: 2, stderr: /--for: a duration such as 90s, 30m, 2h or 1h30m, got '5x'/ },
  { name: '--clear with a count', argv: ['scale', 'web', '3', '--clear'], code: 2, stderr: /--clear ends the hold in force: give it no count and no --for/ },
  { name: 'a hold over a day (the API says)', argv: ['scale', 'web', '3', '--for', '2d'], code: 1, stderr: /TIDE_ERR_API_BAD_REQUEST: body\.holdSeconds: at most 86400/ },
  { name: 'an unknown group', argv: ['scale', 'nope', '3'], code: 1, stderr: /TIDE_ERR_API_NOT_FOUND: no group "nope"/ },
  { name: 'no token', argv: ['scale', 'web', '3'], env: {}, code: 1, stderr: /TIDE_ERR_API_UNAUTHORIZED: .* \(the token is read from \$TIDE_API_TOKEN/ },
] as const
for (const c of failures) {
  test(`tide scale: ${c.name} → exit ${c.code}`, async () => {
    const r = await tide_([...c.argv, '--api', server.url], 'env' in c ? c.env : undefined)
    assert.equal(r.code, c.code, r.stderr)
    assert.match(r.stderr, c.stderr)
    assert.equal(r.stdout, '')
  })
}
