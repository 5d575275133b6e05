/**
 * Chaos of instances (issue 13): a real `tide up` with three instances of the chaos fixture
 * behind its router, steady keep-alive GET load through the router, and three faults one after
 * the other: an instance killed (SIGKILL), one frozen (SIGSTOP for longer than the health
 * timeout, then SIGCONT), and one whose health check answers after the timeout while it still
 * serves. Checked: no failed request through the router (GET is idempotent: retries and the
 * ejection of a sick instance must cover every fault), each sick instance replaced (or, once it
 * answers again, readmitted) so that three serve again, and the events saying what happened.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { tideUp, type UpRun } from '../support/tide-up.ts'
import { steadyLoad } from './steady-load.ts'
import { recordChaos } from './tally.ts'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const INSTANCE = join(ROOT, 'test/chaos/fixtures/chaos-instance.mjs')

function config(dir: string): string {
  const file = join(dir, 'tide.yaml')
  writeFileSync(
    file,
    [
      `store: { path: ${JSON.stringify(join(dir, 'tide.db'))} }`,
      '---',
      'group: web',
      `launch: { command: [${JSON.stringify(process.execPath)}, ${JSON.stringify(INSTANCE)}], cwd: ${JSON.stringify(dir)}, env: { CHAOS_DIR: ${JSON.stringify(dir)} } }`,
      'replicas: { min: 3, max: 3 }',
      'syncPeriodSeconds: 1',
      'startupSeconds: 1',
      'warmupSeconds: 0',
      // Checks every 0.5 s, 0.5 s timeout, two failures condemn: a sick instance is out within ~1.5 s.
      'health: { path: /healthz, intervalSeconds: 0.5, timeoutSeconds: 0.5, healthyThreshold: 2, unhealthyThreshold: 2, graceSeconds: 5 }',
      'routing: { listen: 0, drainSeconds: 2, workers: 1 }',
      'metrics:',
      '  - { type: rps, target: { averageValue: 1000 } }',
    ].join('\n'),
  )
  return file
}

/** The live instance processes of the fixture, by pid (their files in dir; dead ones left out). */
function liveInstances(dir: string): { pid: number; port: number }[] {
  const out: { pid: number; port: number }[] = []
  for (const f of readdirSync(dir)) {
    if (!/^instance-\d+\.json$/.test(f)) continue
    const rec = JSON.parse(readFileSync(join(dir, f), 'utf8')) as { pid: number; port: number }
    try {
      process.kill(rec.pid, 0)
      out.push(rec)
    } catch {
      // gone
    }
  }
  return out
}

/** Resolves once `count` lines match `re` after line index `from`; the index just past the last. */
async function waitForLines(up: UpRun, re: RegExp, count: number, from: number, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const hits: number[] = []
    up.lines.forEach((l, i) => {
      if (i >= from && re.test(l)) hits.push(i)
    })
    if (hits.length >= count) return (hits[count - 1] ?? from) + 1
    if (Date.now() > deadline) throw new Error(`fewer than ${count} lines ${re} within ${timeoutMs} ms; stdout:\n${up.lines.slice(from).join('\n')}\nstderr:\n${up.stderr()}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

test('instances killed, frozen and slow to answer health checks: no failed GET through the router, each replaced or readmitted', { timeout: 180_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tide-chaos-instances-'))
  const up = tideUp(['-c', config(dir), '--state-dir', join(dir, 'state'), '--heartbeat', '0', '--no-api'], dir)
  const frozen: number[] = []
  const recoveryMs: number[] = []
  let faults = 0
  try {
    const routed = await up.waitForLine(/^web: routing http:\/\/127\.0\.0\.1:\d+/, 60_000)
    const url = /(http:\/\/127\.0\.0\.1:\d+)/.exec(routed)?.[1] ?? ''
    let at = await waitForLines(up, /web instance-ready: /, 3, 0, 60_000)
    assert.equal(liveInstances(dir).length, 3)
    const load = steadyLoad(`${url}/`, { rps: 60, workers: 4 })
    await sleep(2000)

    // 1. SIGKILL: the router retries on another instance; the controller replaces it.
    const killed = liveInstances(dir)[0]!
    let t0 = performance.now()
    process.kill(killed.pid, 'SIGKILL')
    faults++
    at = await waitForLines(up, new RegExp(`web instance-(failed|unhealthy): instance \\S+ (died|failed its health checks)`), 1, at, 30_000)
    at = await waitForLines(up, /web instance-ready: /, 1, at, 30_000)
    recoveryMs.push(performance.now() - t0)
    await sleep(1500)

    // 2. SIGSTOP for 3 s (six health timeouts), then SIGCONT: ejected, then replaced or readmitted.
    const victim = liveInstances(dir)[0]!
    t0 = performance.now()
    process.kill(victim.pid, 'SIGSTOP')
    frozen.push(victim.pid)
    faults++
    await sleep(3000)
    process.kill(victim.pid, 'SIGCONT')
    frozen.pop()
    at = await waitForLines(up, /web instance-unhealthy: /, 1, at, 30_000)
    // Three in service again: a replacement ready (the controller replaces an unhealthy instance).
    at = await waitForLines(up, /web instance-ready: /, 1, at, 30_000)
    recoveryMs.push(performance.now() - t0)
    await sleep(1500)

    // 3. Health checks answer after the timeout (1.5 s > 0.5 s) while the instance serves on.
    const slow = liveInstances(dir)[0]!
    t0 = performance.now()
    writeFileSync(join(dir, `slow-health-${slow.pid}`), '1500')
    faults++
    at = await waitForLines(up, /web instance-unhealthy: /, 1, at, 30_000)
    await waitForLines(up, /web instance-ready: /, 1, at, 30_000)
    recoveryMs.push(performance.now() - t0)
    rmSync(join(dir, `slow-health-${slow.pid}`), { force: true })
    await sleep(2000)

    const result = await load.stop()
    const events = up.lines.filter((l) => /web (instance-|launch|terminate|drain)/.test(l))
    recordChaos({
      scenario: 'instances: kill, freeze, slow health',
      faults,
      requestsSent: result.sent,
      requestsFailed: result.failed.length,
      recoveryMs,
      note: `3 instances, 60 req/s keep-alive GET; recovery = fault to a replacement serving`,
    })
    assert.ok(result.sent > 500, `only ${result.sent} requests were sent`)
    assert.deepEqual(result.failed, [], `failed requests through the router:\n${events.join('\n')}`)
    // The events say what happened: a death, two sick instances, each replaced.
    assert.ok(events.some((l) => /instance-failed: instance \S+ died/.test(l)), events.join('\n'))
    assert.ok(events.filter((l) => /instance-unhealthy: /.test(l)).length >= 2, events.join('\n'))
    assert.ok(events.filter((l) => /instance-replaced: /.test(l)).length >= 2, events.join('\n'))
    assert.equal(liveInstances(dir).length, 3, 'three instances run again')
  } finally {
    for (const pid of frozen) process.kill(pid, 'SIGCONT')
    await up.stop(30_000)
    rmSync(dir, { recursive: true, force: true })
  }
})
