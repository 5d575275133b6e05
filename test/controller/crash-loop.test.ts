import { test } from 'node:test'
import assert from 'node:assert/strict'
import { CrashLoop, crashBackoffMs, exitText, startFailureMessage } from '../../src/controller/crash-loop.ts'
import { Controller } from '../../src/controller/reconciler.ts'
import { sameBackend } from '../../src/controller/backend.ts'
import { ManualClock } from '../../src/core/clock.ts'
import { MemoryEventLog } from '../../src/store/events.ts'
import { MemoryStateStore } from '../../src/store/state-store.ts'
import type { InstanceRecord } from '../../src/providers/provider.ts'
import { GroupSchema } from '../../src/spec/schema.ts'
import { FakeProvider } from '../support/fake-provider.ts'

const backoffCases = [
  { failures: 0, want: 0 },
  { failures: 1, want: 1000 },
  { failures: 2, want: 2000 },
  { failures: 3, want: 4000 },
  { failures: 6, want: 32_000 }, // 2^5 s
  { failures: 7, want: 60_000 }, // 64 s, capped at 60
  { failures: 1000, want: 60_000 },
] as const
for (const c of backoffCases) {
  test(`crashBackoffMs(${c.failures}) = ${c.want} ms`, () => {
    assert.equal(crashBackoffMs(c.failures), c.want)
  })
}

test('CrashLoop: waits double after each start failure; serving resets', () => {
  const loop = new CrashLoop()
  assert.equal(loop.blocks(0), false)
  assert.equal(loop.failed(0), 1000)
  assert.equal(loop.blocks(999), true)
  assert.equal(loop.blocks(1000), false)
  assert.equal(loop.failed(1000), 2000)
  assert.equal(loop.failures, 2)
  assert.equal(loop.blocks(2999), true)
  loop.served()
  assert.equal(loop.failures, 0)
  assert.equal(loop.blocks(1001), false)
  assert.equal(loop.failed(5000), 1000)
})

const record = (meta: Record<string, string> | undefined): InstanceRecord => ({ id: 'web-1', group: 'web', status: 'failed', size: { cpu: 0.25, memoryMiB: 256 }, launchedAtMs: 10_000, ...(meta ? { meta } : {}) })

const exitCases = [
  { name: 'an exit code', meta: { exit: 'code 1' }, want: 'exit code 1' },
  { name: 'a signal', meta: { exit: 'signal SIGKILL' }, want: 'killed by SIGKILL' },
  { name: 'unknown (adopted)', meta: undefined, want: 'exited' },
] as const
for (const c of exitCases) {
  test(`exitText: ${c.name}`, () => {
    assert.equal(exitText(record(c.meta)), c.want)
  })
}

test('startFailureMessage: how it ended, when, the wait, and the log tail indented', () => {
  const r = record({ exit: 'code 1', logPath: '/s/logs/web/web-1.log', logTail: "Error: Cannot find module '/x/server.js'\n…\nNode.js v20" })
  assert.equal(
    startFailureMessage(r, 11_500, 1, 1000, true),
    "instance web-1 failed to start (exit code 1, within 1.5 s of launch); next launch in 1 s; the end of its log /s/logs/web/web-1.log:\n    | Error: Cannot find module '/x/server.js'\n    | …\n    | Node.js v20",
  )
  assert.equal(startFailureMessage(r, 12_000, 3, 4000, false), 'instance web-1 failed to start (exit code 1, within 2.0 s of launch, 3 start failures in a row); next launch in 4 s')
})

test('controller: an instance that dies before serving is reported with its exit and log, and relaunches back off 1 s, 2 s, 4 s', async () => {
  const clock = new ManualClock(Date.parse('2026-11-11T00:00:00Z'))
  const provider = new FakeProvider(clock)
  const events = new MemoryEventLog()
  const spec = GroupSchema.parse({ group: 'web', provider: 'sim', replicas: { min: 1, max: 3 }, metrics: [] })
  const controller = new Controller({ groups: [spec], backend: sameBackend({ provider, signals: { read: () => undefined } }), clock, events, store: new MemoryStateStore() })
  /** Kills every starting instance as a missing script would, then ticks after `ms`. */
  const dieAndTick = async (ms: number): Promise<void> => {
    for (const r of provider.instances.values()) {
      if (r.status !== 'starting') continue
      provider.markFailed(r.id)
      r.meta = { exit: 'code 1', logPath: `/logs/${r.id}.log`, logTail: "Error: Cannot find module '/here/server.js'" }
    }
    clock.advance(ms)
    await controller.reconcileOnce()
  }
  await controller.reconcileOnce()
  assert.equal(provider.countCalls('launch'), 1)
  await dieAndTick(500) // noticed: failure 1, wait 1 s
  assert.equal(provider.countCalls('launch'), 1, 'no relaunch in the same tick')
  const failed = events.list().filter((e) => e.type === 'instance-failed')
  assert.equal(failed.length, 1)
  assert.match(failed[0]?.message ?? '', /^instance i-1 failed to start \(exit code 1, within 0\.5 s of launch\); next launch in 1 s; the end of its log \/logs\/i-1\.log:\n {4}\| Error: Cannot find module/)
  clock.advance(1000)
  await controller.reconcileOnce()
  assert.equal(provider.countCalls('launch'), 2, 'relaunched once the second passed')
  await dieAndTick(500) // failure 2: wait 2 s
  clock.advance(1000)
  await controller.reconcileOnce()
  assert.equal(provider.countCalls('launch'), 2, 'still waiting: 1 of 2 s')
  clock.advance(1000)
  await controller.reconcileOnce()
  assert.equal(provider.countCalls('launch'), 3)
  await dieAndTick(500) // failure 3: wait 4 s
  const messages = events.list().filter((e) => e.type === 'instance-failed').map((e) => e.message)
  assert.match(messages[2] ?? '', /3 start failures in a row\); next launch in 4 s$/, 'the same log tail is not repeated')
  // An instance that serves ends the loop: a later crash is replaced at the next tick, no wait.
  clock.advance(4000)
  await controller.reconcileOnce()
  const fourth = [...provider.instances.values()].find((r) => r.status === 'starting')
  assert.ok(fourth)
  provider.markRunning(fourth.id)
  clock.advance(1000)
  await controller.reconcileOnce()
  provider.markFailed(fourth.id)
  clock.advance(1000)
  await controller.reconcileOnce()
  const launches = provider.countCalls('launch')
  assert.equal(launches, 5, 'a crash after serving is replaced at once')
  assert.ok(events.list().some((e) => e.type === 'instance-failed' && e.message === `instance ${fourth.id} died`))
})

test('CrashLoop: after the clock steps back an hour, the wait ends its own length later, not an hour later', () => {
  const loop = new CrashLoop()
  const T = 36_000_000
  assert.equal(loop.failed(T), crashBackoffMs(1)) // waits until T + 1 s
  const back = T - 3_600_000
  assert.equal(loop.blocks(back), true)
  assert.equal(loop.blocks(back + crashBackoffMs(1)), false)
})
