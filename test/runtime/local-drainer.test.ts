import { test } from 'node:test'
import assert from 'node:assert/strict'
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { LocalDrainer, readInFlight, runBackup } from '../../src/runtime/local-drainer.ts'
import { systemClock } from '../../src/core/clock.ts'
import { MemoryEventLog } from '../../src/store/events.ts'
import type { InstanceRecord } from '../../src/providers/provider.ts'
import { GroupSchema } from '../../src/spec/schema.ts'

test('runBackup runs in the given folder: ./flush.sh is found there, and its relative paths are there', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tide-backup-'))
  try {
    writeFileSync(join(dir, 'flush.sh'), '#!/bin/sh\npwd > flushed.txt\necho "$TIDE_INSTANCE_ID" >> flushed.txt\n')
    chmodSync(join(dir, 'flush.sh'), 0o755)
    const r = await runBackup(['./flush.sh'], { TIDE_INSTANCE_ID: 'web-1' }, 5000, dir)
    assert.deepEqual(r, { ok: true, detail: 'succeeded' })
    assert.equal(readFileSync(join(dir, 'flushed.txt'), 'utf8'), `${dir}\nweb-1\n`)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('runBackup reports a missing program, a failure with its stderr, and a timeout', async () => {
  const missing = await runBackup(['./nope.sh'], {}, 5000, tmpdir())
  assert.equal(missing.ok, false)
  assert.match(missing.detail, /ENOENT/)
  const failing = await runBackup([process.execPath, '-e', "console.error('disk full'); process.exit(4)"], {}, 5000)
  assert.deepEqual(failing, { ok: false, detail: 'failed (4): disk full' })
  const slow = await runBackup([process.execPath, '-e', 'setTimeout(() => {}, 10000)'], {}, 200)
  assert.deepEqual(slow, { ok: false, detail: 'timed out after 200 ms' })
})

const replies = [
  { name: 'inFlight 3', body: '{"inFlight": 3}', want: { kind: 'busy', inFlight: 3 } },
  { name: 'inflight 3 (lower case)', body: '{"inflight": 3}', want: { kind: 'busy', inFlight: 3 } },
  { name: 'in_flight 2 (snake case)', body: '{"in_flight": 2, "draining": true}', want: { kind: 'busy', inFlight: 2 } },
  { name: 'inFlight 0', body: '{"draining": true, "inFlight": 0, "served": 91}', want: { kind: 'quiet' } },
  { name: 'a bare number', body: '4\n', want: { kind: 'busy', inFlight: 4 } },
  { name: 'a bare zero', body: '0', want: { kind: 'quiet' } },
  { name: 'an empty body', body: '', want: { kind: 'quiet' } },
  { name: 'another shape', body: '{"status": "draining"}', want: { kind: 'unknown', why: 'no inFlight field in "{\\"status\\": \\"draining\\"}"' } },
  { name: 'a count that is a string', body: '{"inFlight": "3"}', want: { kind: 'unknown', why: 'the count is not a number ≥ 0: "{\\"inFlight\\": \\"3\\"}"' } },
  { name: 'a negative count', body: '-1', want: { kind: 'unknown', why: 'the count is not a number ≥ 0: "-1"' } },
  { name: 'text', body: 'OK', want: { kind: 'unknown', why: 'not JSON: "OK"' } },
  { name: 'an array', body: '[3]', want: { kind: 'unknown', why: 'the count is not a number ≥ 0: "[3]"' } },
] as const
for (const c of replies) {
  test(`readInFlight: ${c.name}`, () => {
    assert.deepEqual(readInFlight(c.body), c.want)
  })
}

/** A real instance stand-in on 127.0.0.1 whose /drain answers `bodies` in turn (the last one from then on). */
async function hookServer(bodies: readonly string[]): Promise<{ server: Server; port: number; calls: string[] }> {
  const calls: string[] = []
  const server = createServer((req, res) => {
    calls.push(`${req.method ?? ''} ${req.url ?? ''}`)
    const body = bodies[Math.min(calls.length - 1, bodies.length - 1)] ?? ''
    res.writeHead(200, { 'content-type': 'application/json' }).end(body)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { server, port: (server.address() as AddressInfo).port, calls }
}

async function drainWith(bodies: readonly string[], timeoutSeconds: number): Promise<{ messages: string[]; calls: string[] }> {
  const { server, port, calls } = await hookServer(bodies)
  try {
    const events = new MemoryEventLog()
    const spec = GroupSchema.parse({ group: 'web', launch: { command: ['node'] }, lifecycle: { preStop: { http: '/drain', timeoutSeconds } } })
    const instance: InstanceRecord = { id: 'web-1', group: 'web', status: 'running', size: spec.size, launchedAtMs: 0, address: { host: '127.0.0.1', port } }
    await new LocalDrainer({ routers: new Map(), events, clock: systemClock, pollMs: 20 }).drain(spec, instance)
    return { messages: events.list().map((e) => e.message), calls }
  } finally {
    await new Promise((resolve) => server.close(resolve))
  }
}

test('preStop: {"inflight": 3} is work in flight: tide polls until the app reports 0', { timeout: 30_000 }, async () => {
  const { messages, calls } = await drainWith(['{"inflight": 3}', '{"inflight": 2}', '{"inflight": 0}'], 10)
  assert.deepEqual(calls, ['POST /drain', 'GET /drain', 'GET /drain'])
  assert.deepEqual(messages, ['web-1: preStop /drain reports quiet'])
})

test('preStop: a bare number works as the count', { timeout: 30_000 }, async () => {
  const { messages, calls } = await drainWith(['1', '0'], 10)
  assert.equal(calls.length, 2)
  assert.deepEqual(messages, ['web-1: preStop /drain reports quiet'])
})

test('preStop: a reply not understood is said once and never taken for quiet; tide waits for the timeout', { timeout: 30_000 }, async () => {
  const { messages, calls } = await drainWith(['{"status": "draining", "pending": 3}'], 0.5)
  assert.ok(calls.length >= 3, `kept asking: ${calls.length} calls`)
  assert.deepEqual(messages, [
    'web-1: preStop /drain reply not understood (no inFlight field in "{\\"status\\": \\"draining\\", \\"pending\\": 3}"): expected {"inFlight": N} or a number; asking again until the timeout (0.5 s)',
    'web-1: preStop /drain timed out after 500 ms, its reply never understood',
  ])
})

test('preStop: still busy at the timeout says how many were in flight', { timeout: 30_000 }, async () => {
  const { messages } = await drainWith(['{"inFlight": 5}'], 0.3)
  assert.deepEqual(messages, ['web-1: preStop /drain timed out after 300 ms, 5 still in flight'])
})
