/**
 * `tide get … -w` against a real running tide serving its API over real HTTP on 127.0.0.1
 * (test/support/running-tide.ts): groups again when a pause changes them, events as they happen,
 * Ctrl-C/SIGTERM (the caller's signal in process, a real SIGTERM to the real binary) ends with 0,
 * and the tide going away ends with 3. Every wait is bounded.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { ApiServer } from '../../src/api/server.ts'
import { runCommandLine, type CommandTable } from '../../src/cli/args.ts'
import { serveApi, startTinyTide, type RunningTide } from '../support/running-tide.ts'

const TOKEN = 'cli-watch-test-token'
const table: CommandTable = { get: () => import('../../src/cli/get.ts') }
const bin = fileURLToPath(new URL('../../bin/tide.js', import.meta.url))
let tide: RunningTide | undefined
let server: ApiServer | undefined

before(async () => {
  tide = await startTinyTide('web')
  server = await serveApi(tide, TOKEN)
})

after(async () => {
  await server?.close()
  await tide?.stop()
})

/** The API's URL (the server is up for every test but the last). */
function url(): string {
  assert.ok(server)
  return server.url
}

/** Waits until `cond` holds, checking every 50 ms; fails naming `what` after `timeoutMs`. */
async function waitFor(what: string, cond: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

/** A watch running in process: its output so far, how to stop it as Ctrl-C would, and its exit status once it ends. */
function watch(argv: readonly string[]): { out: () => string; err: () => string; stop: () => void; done: Promise<number> } {
  let out = ''
  let err = ''
  const stop = new AbortController()
  const done = runCommandLine(table, argv, { stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s) }, env: {}, signal: stop.signal })
  return { out: () => out, err: () => err, stop: () => { stop.abort(); }, done }
}

/** The exit status of `done`, or a failure after `timeoutMs`. */
async function exitWithin(done: Promise<number>, timeoutMs: number): Promise<number> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => { reject(new Error(`the watch did not end within ${timeoutMs} ms`)); }, timeoutMs)
  })
  try {
    return await Promise.race([done, timeout])
  } finally {
    clearTimeout(timer)
  }
}

/** Pauses or resumes 'web' through the API with the token. */
async function post(verb: 'pause' | 'resume'): Promise<void> {
  const res = await fetch(`${url()}/groups/web/${verb}`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` }, signal: AbortSignal.timeout(5000) })
  assert.equal(res.status, 200, await res.text())
}

test('get groups -w --json: one document per line, a new one when a pause changes the group; the signal stops it with 0', async () => {
  const w = watch(['get', 'groups', '-w', '--json', '--api', url()])
  try {
    await waitFor('the watch to open the stream', () => w.err().includes('watching'))
    const docs = (): { groups: { group: string; paused: boolean }[] }[] => w.out().split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as { groups: { group: string; paused: boolean }[] })
    assert.deepEqual(docs()[0]?.groups.map((g) => [g.group, g.paused]), [['web', false]])
    await post('pause')
    await waitFor('a document with web paused', () => docs().some((d) => d.groups[0]?.paused === true))
  } finally {
    w.stop()
  }
  assert.equal(await exitWithin(w.done, 10_000), 0, w.err())
  await post('resume')
})

test('get events -w: a new event is printed as it happens', async () => {
  const w = watch(['get', 'events', '-w', '--group', 'web', '--type', 'group-paused,group-resumed', '--api', url()])
  try {
    await waitFor('the watch to open the stream', () => w.err().includes('watching'))
    const before = w.out().split('\n').filter((l) => l.includes('group-paused')).length
    await post('pause')
    await waitFor('the group-paused event', () => w.out().split('\n').filter((l) => l.includes('group-paused')).length > before)
    assert.match(w.out(), /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d {2}web {2}group-paused {2}/m)
  } finally {
    w.stop()
  }
  assert.equal(await exitWithin(w.done, 10_000), 0, w.err())
  await post('resume')
})

test('the real tide binary: get events -w stops on SIGTERM with exit 0', async () => {
  const child = spawn(process.execPath, [bin, 'get', 'events', '-w', '--api', url()], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TIDE_DEBUG: '' } })
  let err = ''
  child.stderr.on('data', (d: Buffer) => (err += d.toString()))
  child.stdout.resume()
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => { resolve(code); }))
  try {
    await waitFor('the watch to open the stream', () => err.includes('watching'), 60_000)
    child.kill('SIGTERM')
    const code = await Promise.race([exited, new Promise<'timeout'>((r) => setTimeout(() => { r('timeout'); }, 10_000))])
    assert.equal(code, 0, err)
  } finally {
    child.kill('SIGKILL')
  }
})

test('get events -w --json ends with 3 when the tide goes away', async () => {
  const w = watch(['get', 'events', '-w', '--json', '--group', 'web', '--api', url()])
  try {
    await waitFor('the watch to open the stream', () => w.err().includes('watching'))
    await post('pause')
    await waitFor('the group-paused event as a JSON line', () => w.out().split('\n').some((l) => l !== '' && (JSON.parse(l) as { type: string }).type === 'group-paused'))
    // The tide stops: its API closes the stream and stops listening.
    await server?.close()
    server = undefined
    await tide?.stop()
    tide = undefined
    assert.equal(await exitWithin(w.done, 20_000), 3, w.err())
    assert.match(w.err(), /tide: the tide at http:\/\/127\.0\.0\.1:\d+ went away/)
  } finally {
    w.stop()
  }
})
