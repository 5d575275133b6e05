import assert from 'node:assert/strict'
import { once } from 'node:events'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { test, type TestContext } from 'node:test'
import { MemoryDeliveryLog } from '../../src/store/delivery-log.ts'
import { WebhookAlerts, parseRetryAfter, retryDelayMs, type AlertPayload, type WebhookAlertOptions } from '../../src/alerts/webhook.ts'
import { ManualClock } from '../../src/core/clock.ts'
import type { TideEvent } from '../../src/store/events.ts'
import { emptyHistory } from '../../src/engine/types.ts'
import type { AlertEvent } from '../../src/spec/schema.ts'
import { SqliteStore } from '../../src/store/sqlite-store.ts'

interface Received {
  readonly body: AlertPayload
  readonly headers: IncomingMessage['headers']
}

/** A real webhook receiver on 127.0.0.1; `respond` decides each answer (default 204). */
async function receiver(t: TestContext, respond: (n: number, res: ServerResponse) => void = (_n, res) => res.writeHead(204).end()) {
  const received: Received[] = []
  let onRequest: (() => void) | undefined
  const server = createServer((req, res) => {
    let text = ''
    req.on('data', (b: Buffer) => (text += b.toString()))
    req.on('end', () => {
      received.push({ body: JSON.parse(text) as AlertPayload, headers: req.headers })
      onRequest?.()
      respond(received.length, res)
    })
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.after(() => {
    server.closeAllConnections()
    server.close()
  })
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}/hook`,
    received,
    /** Resolves once `n` requests have arrived. */
    until: (n: number) =>
      new Promise<void>((resolve) => {
        if (received.length >= n) resolve()
        else
          onRequest = () => {
            if (received.length >= n) resolve()
          }
      }),
  }
}

const T = Date.UTC(2026, 10, 11, 12, 0, 0)
const clock = new ManualClock(T)

function sink(t: TestContext, url: string, on: readonly AlertEvent[], extra: Partial<WebhookAlertOptions> = {}) {
  const log = new MemoryDeliveryLog()
  const alerts = new WebhookAlerts({ groups: [{ group: 'web', alerts: [{ webhook: url, on: [...on] }] }], clock, log, baseDelayMs: 10, maxDelayMs: 50, timeoutMs: 2000, ...extra })
  t.after(() => alerts.close(100))
  return { alerts, log }
}

const unhealthy: TideEvent = { atMs: T, group: 'web', type: 'instance-failed', message: 'instance i-3 died', instanceId: 'i-3' }

test('a subscribed event is POSTed as JSON without blocking append', async (t) => {
  const hook = await receiver(t)
  const { alerts, log } = sink(t, hook.url, ['instance-unhealthy', 'scaled'])
  alerts.append(unhealthy)
  assert.equal(hook.received.length, 0, 'append returned before any delivery')
  await alerts.idle()
  assert.equal(hook.received.length, 1)
  const [r] = hook.received
  assert.ok(r)
  assert.equal(r.headers['content-type'], 'application/json')
  assert.equal(r.headers['idempotency-key'], r.body.deliveryId)
  assert.deepEqual({ ...r.body, deliveryId: 'x' }, {
    deliveryId: 'x',
    group: 'web',
    type: 'instance-unhealthy',
    eventType: 'instance-failed',
    message: 'instance i-3 died',
    atMs: T,
    at: '2026-11-11T12:00:00.000Z',
    instanceId: 'i-3',
  })
  assert.deepEqual(
    log.attempts.map((a) => [a.attempt, a.outcome, a.status]),
    [[1, 'delivered', 204]],
  )
})

test('only subscribed alerts of configured groups are sent', async (t) => {
  const hook = await receiver(t)
  const { alerts } = sink(t, hook.url, ['scaled'])
  const scale = { group: 'web', atMs: T, kind: 'scale' as const, from: 2, to: 5, reason: 'DesiredWithinRange' as const, explanation: 'scaled 2→5: cpu 90% > 60%', recommendations: [], limits: [], scaleInCandidates: [], history: emptyHistory }
  alerts.append(unhealthy) // not subscribed
  alerts.append({ ...unhealthy, group: 'api' }) // no alerts configured
  alerts.append({ atMs: T, group: 'web', type: 'decision', message: 'hold', decision: { ...scale, kind: 'hold', to: 2 } })
  alerts.append({ atMs: T, group: 'web', type: 'decision', message: scale.explanation, decision: scale })
  await alerts.idle()
  assert.deepEqual(
    hook.received.map((r) => [r.body.type, r.body.decision]),
    [['scaled', { from: 2, to: 5, reason: 'DesiredWithinRange', explanation: 'scaled 2→5: cpu 90% > 60%' }]],
  )
})

test('an endpoint that fails twice then succeeds gets the same alert three times, each attempt logged', async (t) => {
  const hook = await receiver(t, (n, res) => res.writeHead(n <= 2 ? 503 : 200).end())
  const store = SqliteStore.open(':memory:')
  t.after(() => { store.close(); })
  const alerts = new WebhookAlerts({ groups: [{ group: 'web', alerts: [{ webhook: hook.url, on: ['instance-unhealthy'] }] }], clock, log: store, baseDelayMs: 10, maxDelayMs: 50 })
  t.after(() => alerts.close(100))
  alerts.append(unhealthy)
  await alerts.idle()
  assert.equal(hook.received.length, 3)
  assert.equal(new Set(hook.received.map((r) => r.body.deliveryId)).size, 1, 'one deliveryId across retries')
  assert.deepEqual(
    hook.received.map((r) => r.headers['x-tide-attempt']),
    ['1', '2', '3'],
  )
  assert.deepEqual(
    store
      .queryDeliveries()
      .reverse()
      .map((d) => [d.attempt, d.outcome, d.status, d.error]),
    [
      [1, 'retrying', 503, 'HTTP 503'],
      [2, 'retrying', 503, 'HTTP 503'],
      [3, 'delivered', 200, undefined],
    ],
  )
  assert.deepEqual(alerts.stats(), { queued: 0, inFlight: 0, waitingRetry: 0, delivered: 1, failed: 0, dropped: 0 })
})

const finalCases = [
  { name: 'a 4xx answer is final after one attempt', status: 400, maxAttempts: 5, want: [[1, 'failed', 400]] },
  {
    name: 'retries stop at maxAttempts',
    status: 500,
    maxAttempts: 3,
    want: [
      [1, 'retrying', 500],
      [2, 'retrying', 500],
      [3, 'failed', 500],
    ],
  },
] as const
for (const c of finalCases) {
  test(c.name, async (t) => {
    const hook = await receiver(t, (_n, res) => res.writeHead(c.status).end())
    const { alerts, log } = sink(t, hook.url, ['instance-unhealthy'], { maxAttempts: c.maxAttempts })
    alerts.append(unhealthy)
    await alerts.idle()
    assert.deepEqual(
      log.attempts.map((a) => [a.attempt, a.outcome, a.status]),
      c.want,
    )
    assert.equal(hook.received.length, c.want.length)
    assert.equal(alerts.stats().failed, 1)
  })
}

test('a refused connection is retried and logged with the error code, never the secret', async (t) => {
  // Port 1 on loopback: nothing listens there (it is privileged, so no test server can).
  const dead = `http://127.0.0.1:1/hook?token=s3cr3t`
  const { alerts, log } = sink(t, dead, ['instance-unhealthy'], { maxAttempts: 2 })
  alerts.append(unhealthy)
  await alerts.idle()
  assert.deepEqual(
    log.attempts.map((a) => [a.attempt, a.outcome, a.error]),
    [
      [1, 'retrying', 'ECONNREFUSED'],
      [2, 'failed', 'ECONNREFUSED'],
    ],
  )
  assert.ok(log.attempts.every((a) => a.url === 'http://127.0.0.1:1/hook'))
})

test('close() flushes what is queued', async (t) => {
  const hook = await receiver(t)
  const { alerts } = sink(t, hook.url, ['instance-unhealthy'])
  for (let i = 0; i < 10; i++) alerts.append({ ...unhealthy, message: `instance i-${i} died` })
  const report = await alerts.close(5000)
  assert.equal(report.delivered, 10)
  assert.deepEqual(report.undelivered, [])
  assert.equal(hook.received.length, 10)
})

test('close() reports and logs alerts it could not deliver by the deadline, and drops later ones', async (t) => {
  // The receiver never answers: every delivery hangs.
  const hook = await receiver(t, () => undefined)
  const { alerts, log } = sink(t, hook.url, ['instance-unhealthy'], { concurrency: 1 })
  alerts.append({ ...unhealthy, message: 'first' })
  alerts.append({ ...unhealthy, message: 'second' })
  await hook.until(1)
  const report = await alerts.close(100)
  assert.deepEqual(
    report.undelivered.map((p) => p.message).sort(),
    ['first', 'second'],
  )
  assert.deepEqual(
    log.attempts.map((a) => a.outcome),
    ['undelivered', 'undelivered'],
  )
  alerts.append({ ...unhealthy, message: 'late' })
  assert.equal(alerts.stats().dropped, 1)
  assert.equal(log.attempts.at(-1)?.outcome, 'dropped')
})

test('a full queue drops new alerts and logs them', async (t) => {
  const hook = await receiver(t, () => undefined)
  const { alerts, log } = sink(t, hook.url, ['instance-unhealthy'], { concurrency: 1, maxQueue: 2 })
  for (let i = 0; i < 4; i++) alerts.append({ ...unhealthy, message: `m${i}` })
  // m0 is in flight, m1 and m2 wait in the queue, m3 finds it full.
  assert.deepEqual(alerts.stats(), { queued: 2, inFlight: 1, waitingRetry: 0, delivered: 0, failed: 0, dropped: 1 })
  assert.deepEqual(
    log.attempts.map((a) => [a.outcome, a.error]),
    [['dropped', 'queue full (2 alerts waiting)']],
  )
})

const delays = [
  { name: 'first retry waits the base delay', attempt: 1, retryAfterMs: undefined, want: 1000 },
  { name: 'each retry doubles', attempt: 3, retryAfterMs: undefined, want: 4000 }, // 1000 · 2²
  { name: 'the cap holds', attempt: 10, retryAfterMs: undefined, want: 60_000 }, // 1000 · 2⁹ = 512 000 → 60 000
  { name: 'a longer Retry-After wins', attempt: 1, retryAfterMs: 7000, want: 7000 },
  { name: 'a shorter Retry-After does not shorten the backoff', attempt: 3, retryAfterMs: 1000, want: 4000 },
  { name: 'Retry-After never passes the cap', attempt: 1, retryAfterMs: 3_600_000, want: 60_000 },
] as const
for (const c of delays) {
  test(`retryDelayMs: ${c.name}`, () => {
    assert.equal(retryDelayMs(c.attempt, 1000, 60_000, c.retryAfterMs), c.want)
  })
}

const retryAfters = [
  { name: 'seconds', value: '3', want: 3000 },
  { name: 'padded seconds', value: ' 12 ', want: 12_000 },
  { name: 'an HTTP date is ignored', value: 'Wed, 21 Oct 2026 07:28:00 GMT', want: undefined },
  { name: 'absent', value: undefined, want: undefined },
  { name: 'first of several', value: ['2', '9'], want: 2000 },
] as const
for (const c of retryAfters) {
  test(`parseRetryAfter: ${c.name}`, () => {
    assert.equal(parseRetryAfter(typeof c.value === 'object' ? [...c.value] : c.value), c.want)
  })
}
