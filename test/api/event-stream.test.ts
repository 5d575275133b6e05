/**
 * GET /events/stream over real HTTP on 127.0.0.1 against a running tide (one local group of the
 * tiny server): an event recorded through the API arrives with its store id, the filters,
 * Last-Event-ID resuming from the store, the heartbeat, bad input, the read rule, and that
 * streams closed by their clients leave no listener behind. Then the /metrics series the stream's
 * brief added: provider errors, router traffic, slo headroom. Every wait is bounded.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { createApiApp, type ApiApp } from '../../src/api/app.ts'
import { startApiServer, type ApiServer } from '../../src/api/server.ts'
import { TideService } from '../../src/app/tide-service.ts'
import { startTinyTide, tinyGroupValue, type RunningTide } from '../support/running-tide.ts'

const TOKEN = 'stream-test-token'
const AUTH = { authorization: `Bearer ${TOKEN}` }
let tide: RunningTide
let service: TideService
let api: ApiApp
let server: ApiServer

before(async () => {
  tide = await startTinyTide('web')
  service = new TideService(tide.runtime, { baseDir: tide.dir })
  api = createApiApp({ service, token: TOKEN, streamHeartbeatMs: 200 })
  server = await startApiServer(api, { host: '127.0.0.1', port: 0 })
})

after(async () => {
  await server.close()
  api.close()
  await tide.stop()
})

/** One SSE frame as read off the wire. */
interface Frame {
  readonly id?: string
  readonly event?: string
  readonly data?: string
  readonly comment?: string
}

/** An open stream: the frames read so far, a bounded wait for one, and closing it. */
interface Stream {
  readonly status: number
  readonly contentType: string
  readonly frames: Frame[]
  next(what: string, pred: (f: Frame) => boolean, timeoutMs?: number): Promise<Frame>
  close(): void
}

function parseFrame(block: string): Frame {
  const f: Record<string, string> = {}
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) f.comment = line.slice(1).trim()
    const m = /^(id|event|data): ?(.*)$/.exec(line)
    if (m?.[1] !== undefined && m[2] !== undefined) f[m[1]] = m[2]
  }
  return f
}

async function openStream(query = '', headers: Record<string, string> = {}): Promise<Stream> {
  const ac = new AbortController()
  const res = await fetch(`${server.url}/events/stream${query}`, { headers, signal: ac.signal })
  const frames: Frame[] = []
  const waiters = new Set<() => void>()
  let buf = ''
  if (res.body !== null && res.status === 200) {
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader()
    void (async () => {
      try {
        for (;;) {
          const { value, done } = await reader.read()
          if (done) return
          buf += value
          let at: number
          while ((at = buf.indexOf('\n\n')) >= 0) {
            frames.push(parseFrame(buf.slice(0, at)))
            buf = buf.slice(at + 2)
          }
          for (const w of waiters) w()
        }
      } catch {
        // aborted by close()
      }
    })()
  }
  return {
    status: res.status,
    contentType: res.headers.get('content-type') ?? '',
    frames,
    next: (what, pred, timeoutMs = 10_000) =>
      new Promise<Frame>((resolve, reject) => {
        const check = (): void => {
          const f = frames.find(pred)
          if (f === undefined) return
          clearTimeout(timer)
          waiters.delete(check)
          resolve(f)
        }
        const timer = setTimeout(() => {
          waiters.delete(check)
          reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; frames: ${JSON.stringify(frames)}`))
        }, timeoutMs)
        waiters.add(check)
        check()
      }),
    close: () => {
      ac.abort()
    },
  }
}

async function post(path: string): Promise<number> {
  const res = await fetch(`${server.url}${path}`, { method: 'POST', headers: AUTH, signal: AbortSignal.timeout(10_000) })
  await res.body?.cancel()
  return res.status
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/** Polls until `cond` holds; fails after `timeoutMs`. */
async function until(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await sleep(50)
  }
}

test('an event recorded through the API arrives on the stream with its store id and type', async () => {
  const s = await openStream()
  try {
    assert.equal(s.status, 200)
    assert.match(s.contentType, /^text\/event-stream/)
    await s.next('the open comment', (f) => f.comment === 'stream open')
    assert.equal(await post('/groups/web/pause'), 200)
    const f = await s.next('group-paused', (x) => x.event === 'group-paused')
    assert.match(f.id ?? '', /^[0-9]+$/)
    const data = JSON.parse(f.data ?? '{}') as { id: number; group: string; type: string }
    assert.equal(data.group, 'web')
    assert.equal(data.type, 'group-paused')
    assert.equal(String(data.id), f.id)
    // The same id the log answers with.
    assert.equal((await service.events({ types: ['group-paused'], limit: 1 })).events[0]?.id, data.id)
  } finally {
    s.close()
    await post('/groups/web/resume')
  }
})

test('filters: type= and group= as GET /events', async () => {
  const resumedOnly = await openStream('?type=group-resumed')
  const otherGroup = await openStream('?group=other')
  const webPauses = await openStream('?group=web&type=group-paused,group-resumed')
  try {
    for (const s of [resumedOnly, otherGroup, webPauses]) await s.next('the open comment', (f) => f.comment === 'stream open')
    assert.equal(await post('/groups/web/pause'), 200)
    assert.equal(await post('/groups/web/resume'), 200)
    await resumedOnly.next('group-resumed', (f) => f.event === 'group-resumed')
    await webPauses.next('group-resumed', (f) => f.event === 'group-resumed')
    await sleep(300)
    assert.deepEqual(resumedOnly.frames.filter((f) => f.event !== undefined).map((f) => f.event), ['group-resumed'])
    assert.deepEqual(webPauses.frames.filter((f) => f.event !== undefined).map((f) => f.event), ['group-paused', 'group-resumed'])
    assert.deepEqual(otherGroup.frames.filter((f) => f.event !== undefined), [])
  } finally {
    for (const s of [resumedOnly, otherGroup, webPauses]) s.close()
  }
})

test('Last-Event-ID resumes from the store: the events after it come first', async () => {
  const first = await openStream('?group=web')
  let lastSeen: string
  try {
    await first.next('the open comment', (f) => f.comment === 'stream open')
    assert.equal(await post('/groups/web/pause'), 200)
    lastSeen = (await first.next('group-paused', (f) => f.event === 'group-paused')).id ?? ''
  } finally {
    first.close()
  }
  // Missed while disconnected.
  assert.equal(await post('/groups/web/resume'), 200)
  const again = await openStream('?group=web', { 'Last-Event-ID': lastSeen })
  try {
    const f = await again.next('the missed group-resumed', (x) => x.event !== undefined)
    assert.equal(f.event, 'group-resumed')
    assert.ok(Number(f.id) > Number(lastSeen), `${f.id} comes after ${lastSeen}`)
  } finally {
    again.close()
  }
})

test('a heartbeat comment while nothing happens', async () => {
  const s = await openStream('?group=nothing-here')
  try {
    await s.next('a heartbeat', (f) => f.comment === 'heartbeat', 5_000)
  } finally {
    s.close()
  }
})

test('bad input is refused naming the parameter; reads from beyond loopback need the token', async () => {
  const bad = await fetch(`${server.url}/events/stream?type=nope`, { signal: AbortSignal.timeout(10_000) })
  assert.equal(bad.status, 400)
  assert.match(((await bad.json()) as { error: { message: string } }).error.message, /query\.type: unknown event type "nope"/)
  const extra = await fetch(`${server.url}/events/stream?limit=3`, { signal: AbortSignal.timeout(10_000) })
  assert.equal(extra.status, 400)
  await extra.body?.cancel()
  const remote = { incoming: { socket: { remoteAddress: '192.0.2.7' } } }
  const refused = await api.app.request('/events/stream', {}, remote)
  assert.equal(refused.status, 401)
  const allowed = await api.app.request('/events/stream', { headers: AUTH }, remote)
  assert.equal(allowed.status, 200)
  await allowed.body?.cancel()
})

test('50 streams opened and closed by their clients leave no listener behind', async () => {
  const start = service.listenerCount
  const streams = await Promise.all(Array.from({ length: 50 }, () => openStream()))
  await Promise.all(streams.map((s) => s.next('the open comment', (f) => f.comment === 'stream open')))
  assert.equal(service.listenerCount, start + 50)
  for (const s of streams) s.close()
  await until(`the listener count back to ${start} (now ${service.listenerCount})`, () => service.listenerCount === start)
})

test('/metrics: provider errors by kind, router traffic, slo headroom', async () => {
  // Traffic through tide's router to the tiny server.
  const endpoint = tide.runtime.endpoints().find((e) => e.group === 'web')
  assert.ok(endpoint, 'the web group is routed by tide')
  for (let i = 0; i < 3; i++) {
    const r = await fetch(`${endpoint.url}/env`, { signal: AbortSignal.timeout(10_000) })
    assert.equal(r.status, 200)
    await r.text()
  }
  const scrape = async (): Promise<string> => (await fetch(`${server.url}/metrics`, { signal: AbortSignal.timeout(10_000) })).text()
  await until('the router requests counted', async () => /^tide_router_requests_total\{group="web"\} [3-9]\d*$/m.test(await scrape()))
  const text = await scrape()
  assert.match(text, /^tide_router_bytes_out_total\{group="web"\} [1-9]\d*$/m)
  assert.match(text, /^tide_router_shed_total\{group="web"\} 0$/m)
  assert.match(text, /^tide_router_errors_total\{group="web"\} \d+$/m)
  assert.match(text, /^# TYPE tide_forecast_wape_percent gauge$/m)

  // A group whose command cannot start, with an slo: launches fail, and the headroom is applied.
  const body = tinyGroupValue('broken', { launch: { command: ['/nonexistent/tide-test-command'] }, slo: { instanceRps: 50 } })
  const put = await fetch(`${server.url}/groups/broken`, { method: 'PUT', headers: { ...AUTH, 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(30_000) })
  assert.equal(put.status, 201, await put.text())
  try {
    await tide.tickUntil('a launch-failed event of broken', async () => (await service.events({ group: 'broken', types: ['launch-failed'], limit: 1 })).events.length > 0, 30_000)
    const m = await scrape()
    assert.match(m, /^tide_provider_errors_total\{group="broken",kind="launch-failed"\} [1-9]\d*$/m)
    assert.match(m, /^tide_slo_headroom_percent\{group="broken"\} [0-9.]+$/m)
  } finally {
    const del = await fetch(`${server.url}/groups/broken`, { method: 'DELETE', headers: AUTH, signal: AbortSignal.timeout(30_000) })
    await del.body?.cancel()
  }
})
