/**
 * `tide token rotate` against a real tide serving its API over real HTTP on 127.0.0.1: the new
 * token alone on stdout, the file replaced (0600), the old token refused at once and the new one
 * accepted by the next command; a token from the environment is refused with what to do.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { ApiServer } from '../../src/api/server.ts'
import type { CommandTable } from '../../src/cli/args.ts'
import { serveApi, startTinyTide, type RunningTide } from '../support/running-tide.ts'
import { commandRunner } from '../support/run-tide.ts'

const OLD = 'cli-token-test-old-token'
const table: CommandTable = { token: () => import('../../src/cli/token.ts'), pause: () => import('../../src/cli/pause.ts'), resume: () => import('../../src/cli/resume.ts') }
let tide: RunningTide
let dir: string
let file: string
let server: ApiServer
let fromEnv: ApiServer

/** Runs `tide ARGV` in process; its exit status and output. */
const tide_ = commandRunner(table)

before(async () => {
  tide = await startTinyTide('web')
  dir = mkdtempSync(join(tmpdir(), 'tide-cli-token-'))
  file = join(dir, 'api-token')
  writeFileSync(file, `${OLD}\n`, { mode: 0o600 })
  server = await serveApi(tide, OLD, { kind: 'file', path: file, created: false })
  fromEnv = await serveApi(tide, OLD, { kind: 'env', name: 'TIDE_API_TOKEN' })
})

after(async () => {
  await server.close()
  await fromEnv.close()
  await tide.stop()
  rmSync(dir, { recursive: true, force: true })
})

test('tide token rotate prints the new token alone; the file holds it; the old one is refused at once', async () => {
  const r = await tide_(['token', 'rotate', '--api', server.url, '--token-file', file])
  assert.equal(r.code, 0, r.stderr)
  assert.match(r.stdout, /^[A-Za-z0-9_-]{43}\n$/, 'the token and nothing else on stdout')
  assert.equal(r.stderr, '')
  const token = r.stdout.trim()
  assert.equal(readFileSync(file, 'utf8'), `${token}\n`)
  assert.equal(statSync(file).mode & 0o777, 0o600)
  const old = await tide_(['pause', 'web', '--api', server.url], { TIDE_API_TOKEN: OLD })
  assert.equal(old.code, 1)
  assert.match(old.stderr, /TIDE_ERR_API_UNAUTHORIZED: POST needs the API token .* a wrong token/)
  const next = await tide_(['pause', 'web', '--api', server.url, '--token-file', file])
  assert.equal(next.code, 0, next.stderr)
  assert.equal((await tide_(['resume', 'web', '--api', server.url], { TIDE_API_TOKEN: token })).code, 0)
  const json = await tide_(['token', 'rotate', '--json', '--api', server.url], { TIDE_API_TOKEN: token })
  assert.equal(json.code, 0, json.stderr)
  assert.deepEqual(Object.keys(JSON.parse(json.stdout) as object).sort(), ['path', 'token'])
  const events = await tide.runtime.store.readEvents({ limit: 10_000 })
  assert.ok(!events.some((e) => e.message.includes(token)), 'no event holds the token')
})

test('tide token rotate: a token from the environment is refused (exit 1) saying to change the variable; without the token, 401', async () => {
  const r = await tide_(['token', 'rotate', '--api', fromEnv.url], { TIDE_API_TOKEN: OLD })
  assert.equal(r.code, 1)
  assert.equal(r.stdout, '')
  assert.match(r.stderr, /TIDE_ERR_API_CONFLICT: the token comes from the environment variable TIDE_API_TOKEN: tide cannot change it; set a new value there and restart tide up/)
  const none = await tide_(['token', 'rotate', '--api', fromEnv.url])
  assert.equal(none.code, 1)
  assert.match(none.stderr, /TIDE_ERR_API_UNAUTHORIZED/)
})
