/**
 * The data plane outlives tide (issue 13), as a scenario: a real `tide up` with one tiny local
 * group (routing.dataPlane: process) under steady load on 127.0.0.1 (half keep-alive, half new
 * connections), SIGKILL tide mid-load, keep the load going while tide is down, start tide again
 * on the same state directory, measure how long it takes to re-attach (its `data plane adopted`
 * line), keep the load going, then stop tide cleanly. Every request is tallied: the caller
 * asserts none failed and none was reset. Used by test/chaos/dataplane.chaos.ts (both proxies).
 * Not in `npm test`: two starts of tide up take more than 15 s on a loaded machine; its quick
 * counterpart there is test/router/data-plane.test.ts's SIGKILL of a router primary's process.
 * Bounded throughout.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Client, Pool } from 'undici'
import { listRecords } from '../../src/router/data-plane-record.ts'
import { killDataPlanes, tideUp, type UpRun } from './tide-up.ts'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const TINY = join(ROOT, 'test/providers/fixtures/tiny-server.ts')

/** What to run. */
export interface DataPlaneKillOptions {
  readonly proxy: 'tide' | 'haproxy'
  /** routing.workers (proxy cores, or HAProxy threads). */
  readonly workers: number
  /** Requests per second, sent open-loop, alternating a kept-alive connection and a new one. */
  readonly rps: number
  /** Seconds of load in all. */
  readonly loadSeconds: number
  /** Seconds into the load when tide is SIGKILLed. */
  readonly killAtSeconds: number
  /** Seconds tide stays down before it is started again. */
  readonly downSeconds: number
}

/** What happened. */
export interface DataPlaneKillResult {
  readonly sent: number
  readonly ok: number
  /** Requests that got no 200 (a status, a reset, a refused connection), each with when and why. */
  readonly failures: readonly string[]
  /** Of those, connection resets. */
  readonly resets: number
  /** Requests answered while tide was down (between the kill and the adoption line). */
  readonly okWhileDown: number
  /** From starting the second tide to its `data plane adopted` line, ms. */
  readonly reattachMs: number
  /** The adoption line of the second tide. */
  readonly adoptedLine: string
  /** A heartbeat of the second tide showing traffic counted after the adoption (stats resumed). */
  readonly statsLine: string
  /** The data-plane pid before the kill and after the restart (the same process). */
  readonly pids: readonly [number, number]
  /** Whether data planes were left running after the final clean stop (must be 0). */
  readonly leftRunning: number
}

/** The tiny group's config in `dir`; the listen port is chosen by the first data plane and kept. */
function config(dir: string, o: DataPlaneKillOptions): string {
  const file = join(dir, 'tide.yaml')
  writeFileSync(
    file,
    [
      `store: { path: ${JSON.stringify(join(dir, 'tide.db'))} }`,
      '---',
      'group: tiny',
      `launch: { command: [${JSON.stringify(process.execPath)}, --import, tsx, ${JSON.stringify(TINY)}], cwd: ${JSON.stringify(ROOT)} }`,
      'replicas: { min: 2, max: 2 }',
      'syncPeriodSeconds: 1',
      'startupSeconds: 1',
      'warmupSeconds: 0',
      'health: { path: /healthz, intervalSeconds: 0.5, healthyThreshold: 1, graceSeconds: 10 }',
      `routing: { listen: 0, drainSeconds: 1, dataPlane: process, proxy: ${o.proxy}, workers: ${o.workers} }`,
    ].join('\n'),
  )
  return file
}

/** Runs the scenario (see the file comment) and returns its figures; cleans up whatever it started. */
export async function runDataPlaneKill(o: DataPlaneKillOptions): Promise<DataPlaneKillResult> {
  const dir = mkdtempSync(join(tmpdir(), 'tide-dp-kill-'))
  const state = join(dir, 'state')
  const args = ['-c', config(dir, o), '--state-dir', state, '--heartbeat', '1', '--no-api']
  let first: UpRun | undefined
  let second: UpRun | undefined
  let keepAlive: Pool | undefined
  try {
    first = tideUp(args, dir)
    const url = /routing (http:\/\/\S+)/.exec(await first.waitForLine(/^tiny: routing http:/, 60_000))?.[1] ?? ''
    await first.waitForLine(/data plane started: pid \d+/, 10_000)
    // Both instances serving before the load starts.
    await first.waitForLine(/instances 2 in-service/, 60_000)
    const pidBefore = listRecords(state)[0]?.pid ?? 0
    const pool = new Pool(url, { connections: 4, keepAliveTimeout: 60_000 })
    keepAlive = pool
    const failures: string[] = []
    let ok = 0
    let okWhileDown = 0
    let resets = 0
    let killedAtMs = 0
    let adoptedAtMs = 0
    const startMs = Date.now()
    const one = async (fresh: boolean): Promise<void> => {
      const client = fresh ? new Client(url) : pool
      try {
        const res = await client.request({ path: '/env', method: 'GET', headersTimeout: 10_000, bodyTimeout: 10_000 })
        await res.body.text()
        if (res.statusCode === 200) {
          ok++
          if (killedAtMs > 0 && adoptedAtMs === 0) okWhileDown++
        } else failures.push(`${Date.now() - startMs} ms: ${fresh ? 'new' : 'keep-alive'}: status ${res.statusCode}`)
      } catch (err) {
        const code = (err as { code?: string }).code ?? ''
        if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET') resets++
        failures.push(`${Date.now() - startMs} ms: ${fresh ? 'new' : 'keep-alive'}: ${code} ${(err as Error).message}`)
      } finally {
        if (fresh) await client.close().catch(() => undefined)
      }
    }
    const sent: Promise<void>[] = []
    const intervalMs = 1000 / o.rps
    let reattachMs = 0
    let adoptedLine = ''
    let restart: Promise<void> | undefined
    // At least loadSeconds, and on for 3 s after the adoption (a loaded machine may take long to start tide), 150 s at most.
    const loading = (): boolean => {
      const at = Date.now() - startMs
      if (at > 150_000) return false
      return at < o.loadSeconds * 1000 || killedAtMs === 0 || adoptedAtMs === 0 || Date.now() - adoptedAtMs < 3000
    }
    for (let i = 0; loading(); i++) {
      sent.push(one(i % 2 === 1))
      const at = Date.now() - startMs
      if (killedAtMs === 0 && at >= o.killAtSeconds * 1000) {
        killedAtMs = Date.now()
        first.signal('SIGKILL')
      }
      if (killedAtMs > 0 && restart === undefined && Date.now() - killedAtMs >= o.downSeconds * 1000) {
        const t0 = Date.now()
        const up = tideUp(args, dir)
        second = up
        restart = up.waitForLine(/data plane adopted( in \d+ ms)?: pid \d+/, 90_000).then((line) => {
          adoptedAtMs = Date.now()
          reattachMs = adoptedAtMs - t0
          adoptedLine = line
        })
        // A failed restart fails the scenario below; no unhandled rejection meanwhile.
        restart.catch(() => undefined)
      }
      // Open loop: the next request leaves on schedule, whatever the last one is doing.
      const next = startMs + (i + 1) * intervalMs
      await new Promise((r) => setTimeout(r, Math.max(0, next - Date.now())))
    }
    await Promise.all(sent)
    if (restart === undefined || second === undefined) throw new Error('the load ended before tide was restarted: lengthen loadSeconds')
    if (adoptedAtMs === 0) throw new Error(`the restarted tide did not adopt its data plane within 150 s of load; stdout:\n${second.lines.join('\n')}`)
    await restart
    // Stats resumed: a heartbeat after the adoption that counted requests.
    const adoptedIndex = second.lines.findIndex((l) => /data plane adopted/.test(l))
    const statsLine = await second.waitForLine(/tiny: [1-9]\d* req\/s/, 15_000).catch(() => '')
    const pidAfter = listRecords(state)[0]?.pid ?? 0
    await pool.close()
    keepAlive = undefined
    const code = await second.stop(60_000)
    if (code !== 0) throw new Error(`the second tide exited ${code}: ${second.stderr()}`)
    const leftRunning = listRecords(state).length
    return {
      sent: sent.length,
      ok,
      failures,
      resets,
      okWhileDown,
      reattachMs,
      adoptedLine,
      statsLine: second.lines.indexOf(statsLine) > adoptedIndex ? statsLine : '',
      pids: [pidBefore, pidAfter],
      leftRunning,
    }
  } finally {
    await keepAlive?.close().catch(() => undefined)
    await second?.stop(30_000)
    await first?.stop(5_000)
    // A clean stop of the last tide stopped its data plane and instances; a failed run's data plane goes here.
    killDataPlanes(state)
    rmSync(dir, { recursive: true, force: true })
  }
}

