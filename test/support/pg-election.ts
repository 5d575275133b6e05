/**
 * Helpers of the tests that run `tide up` elected through a PostgreSQL store
 * (test/cli/pg-leader.test.ts, test/chaos/pg-failover.chaos.ts): the config, the API a run
 * printed, the group's instance pids, bounded polling. No test of its own.
 */
/* eslint-disable @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-explicit-any -- API answers are JSON */
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { setTimeout as sleep } from 'node:timers/promises'
import type { UpRun } from './tide-up.ts'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const TINY = join(ROOT, 'test/providers/fixtures/tiny-server.ts')

/** The failover target of issue 13, ms. */
export const FAILOVER_TARGET_MS = 15_000

/**
 * What the tests allow beyond the target, ms: on a loaded 2-core machine (load average 13) the
 * new leader's start took up to 11 s after taking the lease (19 s in all); the figure is printed
 * and recorded either way (docs/ha.md).
 */
export const FAILOVER_SLACK_MS = 10_000

/** A config with store.url and one tiny local group (router on any free port), written into `dir`. */
export function electedConfig(dir: string, url: string): string {
  const file = join(dir, 'tide.yaml')
  writeFileSync(
    file,
    [
      `store: { url: ${JSON.stringify(url)} }`,
      '---',
      'group: tiny',
      `launch: { command: [${JSON.stringify(process.execPath)}, --import, tsx, ${JSON.stringify(TINY)}], cwd: ${JSON.stringify(ROOT)} }`,
      'replicas: { min: 1, max: 2 }',
      'syncPeriodSeconds: 1',
      'startupSeconds: 1',
      'warmupSeconds: 0',
      'health: { path: /healthz, intervalSeconds: 0.5, healthyThreshold: 1, graceSeconds: 10 }',
      'routing: { listen: 0, drainSeconds: 1 }',
      'metrics:',
      '  - { type: rps, target: { averageValue: 50 } }',
    ].join('\n'),
  )
  return file
}

/** The URL a `tide up` printed for its API (`API: …` or `standby API: …`), waiting for it. */
export async function apiOf(up: UpRun, standby: boolean, timeoutMs = 60_000): Promise<string> {
  const line = await up.waitForLine(standby ? /^standby API: http:\/\/\S+/ : /^API: http:\/\/\S+/, timeoutMs)
  return /(http:\/\/[^\s]+)/.exec(line)?.[1] ?? assert.fail(`no URL in ${line}`)
}

export async function get(url: string): Promise<{ status: number; body: any }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(10_000) })
  return { status: res.status, body: await res.json() }
}

/** The pids of the group's instances as the API says (status.instances[].meta.pid). */
export async function instancePids(api: string): Promise<number[]> {
  const { body } = await get(`${api}/groups/tiny`)
  return ((body.status?.instances ?? []) as { meta?: { pid?: string } }[]).map((i) => Number(i.meta?.pid)).filter((p) => Number.isInteger(p) && p > 0)
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

export async function until<T>(what: string, check: () => Promise<T | undefined> | T | undefined, ms: number): Promise<T> {
  const end = Date.now() + ms
  while (Date.now() < end) {
    const v = await check()
    if (v !== undefined) return v
    await sleep(100)
  }
  return assert.fail(`${what}: not within ${ms} ms`)
}


/**
 * When the store's event log says the first event of `type` after `sinceMs` happened (its atMs,
 * tide's own wall clock, the test's too: one machine), waiting up to `timeoutMs` for it to be
 * flushed. Measures a failover by tide's clock rather than by when its output reached the test.
 */
export async function eventAtMs(query: (sql: string, params: unknown[]) => Promise<Record<string, unknown>[]>, type: string, sinceMs: number, timeoutMs = 30_000): Promise<number> {
  return until(
    `a ${type} event after ${new Date(sinceMs).toISOString()}`,
    async () => {
      const rows = await query('SELECT min(at_ms) AS at FROM tide_events WHERE type = $1 AND at_ms >= $2', [type, sinceMs])
      const at = rows[0]?.at
      return at === null || at === undefined ? undefined : Number(at)
    },
    timeoutMs,
  )
}
