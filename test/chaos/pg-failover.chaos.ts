/**
 * Chaos: leader failover through the PostgreSQL store's lease (docs/ha.md). Three rounds on one
 * throwaway PostgreSQL, each with a leader and a standby `tide up` over a tiny local group: the
 * leader is SIGKILLed together with its instance (two faults), and the time until the standby
 * holds the lease and until it acts (launches the replacement) is measured. Each round's standby
 * is the next round's leader, and a fresh standby joins it. The figures go to the chaos tally
 * (recoveryMs: kill → the new leader's first launch); every round must act within the 15 s
 * target plus FAILOVER_SLACK_MS for a loaded machine. Skips, saying why, without PostgreSQL.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { FAILOVER_SLACK_MS, FAILOVER_TARGET_MS, alive, apiOf, electedConfig, eventAtMs, instancePids } from '../support/pg-election.ts'
import { startPostgres, type TestPostgres } from '../support/postgres.ts'
import { missingBinary } from '../support/system-binaries.ts'
import { tideUp, type UpRun } from '../support/tide-up.ts'
import { recordChaos } from './tally.ts'

const ROUNDS = 3

let pg: TestPostgres | undefined
const runs: UpRun[] = []
const pids = new Set<number>()
let dir = ''

after(async () => {
  for (const r of runs) await r.stop(20_000)
  for (const pid of pids) if (alive(pid)) process.kill(pid, 'SIGKILL')
  await pg?.stop()
  if (dir !== '') rmSync(dir, { recursive: true, force: true })
})

test('pg failover: SIGKILL the leader and its instance, the standby leads and launches (target: within 15 s), three rounds', { skip: missingBinary('postgres'), timeout: 280_000 }, async () => {
  pg = await startPostgres()
  dir = mkdtempSync(join(tmpdir(), 'tide-chaos-pg-'))
  const url = await pg.createDatabase()
  const file = electedConfig(dir, url)
  const db = pg
  const query = (sql: string, params: unknown[]): Promise<Record<string, unknown>[]> => db.query(url, sql, params)
  let n = 0
  const start = (): UpRun => {
    const up = tideUp(['-c', file, '--state-dir', join(dir, `t${String(++n)}`), '--heartbeat', '0'], dir)
    runs.push(up)
    return up
  }
  let leader = start()
  await leader.waitForLine(/^leading: lease 'tide' at epoch 1 /, 60_000)
  const leadMs: number[] = []
  const actMs: number[] = []
  for (let round = 1; round <= ROUNDS; round++) {
    const leaderApi = await apiOf(leader, false)
    await leader.waitForLine(/tiny (instance-ready|adopted): /, 60_000)
    const standby = start()
    await standby.waitForLine(/^standby: the lease is held by /, 60_000)
    const mine = await instancePids(leaderApi)
    for (const p of mine) pids.add(p)
    assert.ok(mine.length > 0, `round ${round}: the leader runs an instance`)
    const killedAt = Date.now()
    leader.signal('SIGKILL')
    for (const p of mine) if (alive(p)) process.kill(p, 'SIGKILL')
    await standby.waitForLine(new RegExp(`^leading: lease 'tide' at epoch ${String(round + 1)} `), 30_000)
    const ledAt = standby.lines.length
    await standby.waitForLine(/tiny launch: /, 30_000)
    // By tide's own clock (the events' times in the store), not by when its output reached this process.
    leadMs.push((await eventAtMs(query, 'leadership', killedAt)) - killedAt)
    actMs.push((await eventAtMs(query, 'launch', killedAt)) - killedAt)
    console.log(`round ${round}: the new leader, from taking the lease to its first launch:\n  ${standby.lines.slice(ledAt - 1).join('\n  ')}`)
    await leader.exited
    leader = standby
  }
  for (const p of await instancePids(await apiOf(leader, false))) pids.add(p)
  assert.equal(await leader.stop(30_000), 0, leader.stderr())
  const s = (ms: readonly number[]): string => ms.map((m) => `${(m / 1000).toFixed(1)} s`).join(', ')
  console.log(`pg failover: the new leader's leadership event after ${s(leadMs)}; first launch after ${s(actMs)} (target ≤ ${FAILOVER_TARGET_MS / 1000} s)`)
  recordChaos({
    scenario: 'pg failover: SIGKILL the leader and its instance',
    faults: ROUNDS * 2,
    requestsSent: 0,
    requestsFailed: 0,
    recoveryMs: actMs,
    note: `leadership event after ${s(leadMs)}; recoveryMs = kill → the new leader's first launch (event times in the store)`,
  })
  for (const ms of actMs) assert.ok(ms <= FAILOVER_TARGET_MS + FAILOVER_SLACK_MS, `a round acted ${ms} ms after the kill`)
})
