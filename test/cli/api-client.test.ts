/**
 * The commands over a running tide's API (`tide get`, `pause`, `resume`, `protect`, `unprotect`)
 * against a real tide (test/support/running-tide.ts) serving its API over real HTTP on
 * 127.0.0.1: tables and --json, a pause seen by `get`, protection with the token from a file,
 * a wrong token (exit 1 with the API's code), no tide at the URL (exit 3) and usage errors (2).
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import type { ApiServer } from '../../src/api/server.ts'
import type { CommandTable } from '../../src/cli/args.ts'
import { serveApi, startTinyTide, type RunningTide } from '../support/running-tide.ts'
import { commandRunner } from '../support/run-tide.ts'

const TOKEN = 'cli-api-test-token'
const table: CommandTable = {
  get: () => import('../../src/cli/get.ts'),
  pause: () => import('../../src/cli/pause.ts'),
  resume: () => import('../../src/cli/resume.ts'),
  protect: () => import('../../src/cli/protect.ts'),
  unprotect: () => import('../../src/cli/unprotect.ts'),
}
let tide: RunningTide
let server: ApiServer

/** Runs `tide ARGV` in process; its exit status and output. */
const tide_ = commandRunner(table)

before(async () => {
  tide = await startTinyTide('web')
  server = await serveApi(tide, TOKEN)
})

after(async () => {
  await server.close()
  await tide.stop()
})

test('tide get groups: a table, and with --json the API answer as it is', async () => {
  const human = await tide_(['get', 'groups', '--api', server.url])
  assert.equal(human.code, 0, human.stderr)
  const [header, row] = human.stdout.split('\n')
  assert.match(header ?? '', /^GROUP +PROVIDER +STATE +PAUSED +DESIRED +IN SERVICE +LAST REASON +RISKS$/)
  assert.match(row ?? '', /^web +local +active +no +1 +1\/1 +\S+ +-$/)

  const json = await tide_(['get', 'groups', '--json', '--api', `${server.url}/`])
  assert.equal(json.code, 0, json.stderr)
  const direct = (await (await fetch(`${server.url}/groups`, { signal: AbortSignal.timeout(5000) })).json()) as { groups: { group: string; paused: boolean }[] }
  const printed = JSON.parse(json.stdout) as typeof direct
  assert.deepEqual(printed.groups.map((g) => [g.group, g.paused]), [['web', false]])
  assert.deepEqual(Object.keys(printed), Object.keys(direct))
})

test('tide get instances and events: the instance in service, the launch in the log', async () => {
  const inst = await tide_(['get', 'instances', '--group', 'web', '--api', server.url])
  assert.equal(inst.code, 0, inst.stderr)
  assert.match(inst.stdout, /^GROUP +INSTANCE +PHASE +PROTECTED +ADDRESS\nweb +web-\S+ +in-service +no +127\.0\.0\.1:\d+\n$/)

  const ev = await tide_(['get', 'events', '--group', 'web', '--type', 'launch', '--limit', '5', '--api', server.url])
  assert.equal(ev.code, 0, ev.stderr)
  assert.match(ev.stdout, /^TIME \(UTC\) +GROUP +TYPE +MESSAGE\n\d{4}-\d\d-\d\d \d\d:\d\d:\d\d +web +launch +\S/)
  const evJson = JSON.parse((await tide_(['get', 'events', '--json', '--limit', '1', '--api', server.url])).stdout) as { events: unknown[] }
  assert.equal(evJson.events.length, 1)
})

test('tide pause then get shows it paused; resume lifts it (token from $TIDE_API_TOKEN)', async () => {
  const env = { TIDE_API_TOKEN: TOKEN }
  const paused = await tide_(['pause', 'web', '--api', server.url], env)
  assert.deepEqual(paused, { code: 0, stdout: 'web: paused\n', stderr: '' })
  assert.equal(tide.runtime.controller.isPaused('web'), true)
  assert.match((await tide_(['get', 'groups', '--api', server.url])).stdout, /\nweb +local +active +yes /)
  assert.equal((await tide_(['pause', 'web', '--api', server.url], env)).stdout, 'web: already paused\n')
  const resumed = await tide_(['resume', 'web', '--api', server.url, '--json'], env)
  assert.equal(resumed.code, 0, resumed.stderr)
  assert.deepEqual(JSON.parse(resumed.stdout), { group: 'web', paused: false, changed: true })
  assert.equal(tide.runtime.controller.isPaused('web'), false)
})

test('tide protect / unprotect with the token from --token-file', async () => {
  const file = join(tide.dir, 'api-token')
  writeFileSync(file, `${TOKEN}\n`, { mode: 0o600 })
  const id = tide.runtime.controller.status('web')?.instances[0]?.id ?? ''
  assert.notEqual(id, '')
  const p = await tide_(['protect', 'web', id, '--api', server.url, '--token-file', file])
  assert.deepEqual(p, { code: 0, stdout: `web/${id}: protected from scale-in\n`, stderr: '' })
  await tide.tickUntil('the protection in the status', () => tide.runtime.controller.status('web')?.instances.find((i) => i.id === id)?.protectedFromScaleIn === true, 10_000)
  assert.match((await tide_(['get', 'instances', '--api', server.url])).stdout, new RegExp(`${id} +in-service +yes `))
  const u = await tide_(['unprotect', 'web', id, '--api', server.url, '--token-file', file])
  assert.deepEqual(u, { code: 0, stdout: `web/${id}: not protected\n`, stderr: '' })
  const missing = await tide_(['protect', 'web', 'web-nosuch', '--api', server.url, '--token-file', file])
  assert.equal(missing.code, 1)
  assert.match(missing.stderr, /^tide: TIDE_ERR_API_NOT_FOUND: /)
})

test('a wrong or missing token: exit 1 with the API error code, and the token is never printed', async () => {
  const wrong = await tide_(['pause', 'web', '--api', server.url], { TIDE_API_TOKEN: 'not-the-token' })
  assert.equal(wrong.code, 1)
  assert.equal(wrong.stdout, '')
  assert.match(wrong.stderr, /^tide: TIDE_ERR_API_UNAUTHORIZED: POST needs the API token .*a wrong token.*\$TIDE_API_TOKEN/)
  assert.ok(!wrong.stderr.includes('not-the-token'))
  const none = await tide_(['pause', 'web', '--api', server.url])
  assert.equal(none.code, 1)
  // No $TIDE_API_TOKEN: .tide/api-token in the working folder is read when it exists (a wrong token here), else none is sent.
  assert.match(none.stderr, /TIDE_ERR_API_UNAUTHORIZED: .*(no token|a wrong token)/)
  assert.equal(tide.runtime.controller.isPaused('web'), false)
})

test('no tide at the URL: exit 3 naming the URL and how to start one', async () => {
  const probe = createServer()
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
  const port = (probe.address() as { port: number }).port
  await new Promise((resolve) => probe.close(resolve))
  const started = Date.now()
  const r = await tide_(['get', 'groups', '--api', `http://127.0.0.1:${port}`])
  assert.equal(r.code, 3)
  assert.equal(r.stdout, '')
  assert.match(r.stderr, new RegExp(`^tide: no tide answered at http://127\\.0\\.0\\.1:${port} \\(ECONNREFUSED\\); start one with 'tide up -c tide\\.yaml'`))
  assert.ok(Date.now() - started < 6000)
})

test('usage errors: exit 2 naming the argument or flag', async () => {
  const cases: [string[], RegExp][] = [
    [['get', 'pods'], /'pods' is not one of groups, instances, events/],
    [['get'], /missing argument RESOURCE/],
    [['get', 'groups', '--limit', '5'], /--limit applies to 'tide get events' only/],
    [['get', 'groups', '--api', 'ftp://x'], /--api: 'ftp:\/\/x' is not an http/],
    [['protect', 'web'], /missing argument INSTANCE/],
    [['pause', 'web', '--token-file', '/nonexistent/token'], /--token-file: no such file/],
  ]
  for (const [argv, message] of cases) {
    const r = await tide_(argv)
    assert.equal(r.code, 2, argv.join(' '))
    assert.match(r.stderr, message, argv.join(' '))
  }
})

test('a URL that is not a tide API: exit 1 saying so', async () => {
  const { createServer: createHttpServer } = await import('node:http')
  const other = createHttpServer((_req, res) => res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"no route"}'))
  await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve))
  try {
    const port = (other.address() as { port: number }).port
    const r = await tide_(['get', 'groups', '--api', `http://127.0.0.1:${port}`])
    assert.equal(r.code, 1)
    assert.match(r.stderr, /answered HTTP 404 \(\{"error":"no route"\}\), not as a tide API does/)
  } finally {
    await new Promise((resolve) => other.close(resolve))
  }
})
