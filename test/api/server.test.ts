/**
 * The API over real HTTP on 127.0.0.1 (a port the OS picks): a read from loopback, a change with
 * and without the token, and a port already taken.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { createServer } from 'node:net'
import { createApiApp, type ApiApp } from '../../src/api/app.ts'
import { startApiServer, type ApiServer } from '../../src/api/server.ts'
import { isApiError } from '../../src/app/errors.ts'
import { TideService } from '../../src/app/tide-service.ts'
import { serveApi, startTinyTide, type RunningTide } from '../support/running-tide.ts'

const TOKEN = 'server-test-token'
let tide: RunningTide
let server: ApiServer

before(async () => {
  tide = await startTinyTide('web')
  server = await serveApi(tide, TOKEN)
})

after(async () => {
  await server.close()
  await tide.stop()
})

test('over HTTP: reads open from loopback, a change needs the token', async () => {
  assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/)
  const groups = await fetch(`${server.url}/groups`, { signal: AbortSignal.timeout(10_000) })
  assert.equal(groups.status, 200)
  assert.equal(((await groups.json()) as { groups: { group: string }[] }).groups[0]?.group, 'web')

  const refused = await fetch(`${server.url}/groups/web/pause`, { method: 'POST', signal: AbortSignal.timeout(10_000) })
  assert.equal(refused.status, 401)
  assert.equal(((await refused.json()) as { error: { code: string } }).error.code, 'TIDE_ERR_API_UNAUTHORIZED')
  assert.equal(tide.runtime.controller.isPaused('web'), false)

  const paused = await fetch(`${server.url}/groups/web/pause`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` }, signal: AbortSignal.timeout(10_000) })
  assert.equal(paused.status, 200)
  assert.equal(tide.runtime.controller.isPaused('web'), true)
})

test('a port already taken: TIDE_ERR_API_LISTEN naming the address and the reason', async () => {
  const taken = createServer()
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve))
  const port = (taken.address() as { port: number }).port
  let app: ApiApp | undefined
  try {
    app = createApiApp({ service: new TideService(tide.runtime, { baseDir: tide.dir }), token: TOKEN })
    await assert.rejects(startApiServer(app, { host: '127.0.0.1', port }), (err: unknown) => isApiError(err, 'TIDE_ERR_API_LISTEN') && err.message.startsWith(`the API cannot listen on 127.0.0.1:${port}: EADDRINUSE`))
  } finally {
    app?.close()
    await new Promise((resolve) => taken.close(resolve))
  }
})

test('close ends the open event streams, so that a stopping tide is not held by a watching client', async () => {
  const second = await serveApi(tide, TOKEN)
  const res = await fetch(`${second.url}/events/stream`, { signal: AbortSignal.timeout(30_000) })
  assert.equal(res.status, 200)
  const reader = (res.body as ReadableStream<Uint8Array> | null)?.getReader()
  assert.ok(reader)
  const first = await reader.read()
  assert.match(new TextDecoder().decode(first.value), /^: stream open/)
  let timer: NodeJS.Timeout | undefined
  const closed = await Promise.race([second.close().then(() => 'closed'), new Promise((r) => (timer = setTimeout(() => { r('still open after 10 s'); }, 10_000)))])
  clearTimeout(timer)
  assert.equal(closed, 'closed')
  // The client sees its stream end.
  for (let r = await reader.read(); !r.done; r = await reader.read()) assert.ok(r.value)
})
