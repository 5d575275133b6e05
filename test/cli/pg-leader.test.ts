/**
 * Two real `tide up` processes on one real PostgreSQL store (test/support/postgres.ts) with a
 * tiny local group, elected through the store's lease (src/cli/pg-leader.ts), default timings
 * (8 s lease, renewals every 2 s, 6 s renew deadline):
 * - the standby serves GET /status (role standby, the leader, the epoch), /groups and /events
 *   from the store, and answers a change 503 TIDE_ERR_API_NOT_LEADER naming the leader;
 * - the leader SIGKILLed (its instance killed with it), the standby takes over and launches a
 *   replacement: the time from the kill to that launch is printed (target ≤ 15 s) and bounded;
 * - the leader SIGSTOPped past its lease, the standby takes over; the old leader, woken with the
 *   new one held still, performs no provider action and writes nothing to the store, says it lost
 *   leadership and exits 1.
 * Skips, saying why, without PostgreSQL.
 */
/* eslint-disable @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-return, @typescript-eslint/no-unsafe-argument, @typescript-eslint/no-explicit-any -- API answers are JSON, checked field by field */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { FAILOVER_SLACK_MS, FAILOVER_TARGET_MS, alive, apiOf, electedConfig, eventAtMs, get, instancePids, until } from '../support/pg-election.ts'
import { startPostgres, type TestPostgres } from '../support/postgres.ts'
import { missingBinary } from '../support/system-binaries.ts'
import { tideUp, type UpRun } from '../support/tide-up.ts'

describe('tide up elected through PostgreSQL', { skip: missingBinary('postgres'), timeout: 300_000 }, () => {
  let pg: TestPostgres
  const dirs: string[] = []
  const runs: UpRun[] = []
  const pids = new Set<number>()
  before(async () => {
    pg = await startPostgres()
  })
  after(async () => {
    for (const r of runs) {
      r.signal('SIGCONT')
      await r.stop(20_000)
    }
    for (const pid of pids) if (alive(pid)) process.kill(pid, 'SIGKILL')
    await pg.stop()
    for (const d of dirs) rmSync(d, { recursive: true, force: true })
  })

  const start = (dir: string, file: string, name: string): UpRun => {
    const up = tideUp(['-c', file, '--state-dir', join(dir, name), '--heartbeat', '0'], dir)
    runs.push(up)
    return up
  }

  test('the standby serves reads and refuses changes; the leader SIGKILLed, the standby leads and acts (target: within 15 s)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tide-pg-leader-'))
    dirs.push(dir)
    const url = await pg.createDatabase()
    const file = electedConfig(dir, url)
    const a = start(dir, file, 'a')
    await a.waitForLine(/^leading: lease 'tide' at epoch 1 as /, 60_000)
    const aApi = await apiOf(a, false)
    await a.waitForLine(/tiny instance-ready: instance tiny-\w+ is serving/, 60_000)
    const b = start(dir, file, 'b')
    const bApi = await apiOf(b, true)
    await b.waitForLine(/^standby: the lease is held by /)

    // The leader's API says leader; the standby's says standby, naming the leader and its epoch.
    const aStatus = (await get(`${aApi}/status`)).body
    assert.equal(aStatus.role, 'leader')
    assert.equal(aStatus.epoch, 1)
    const bStatus = await get(`${bApi}/status`)
    assert.deepEqual({ ...bStatus.body, identity: undefined }, { role: 'standby', leader: aStatus.identity, epoch: 1, lease: 'tide', identity: undefined })
    // Reads from the store: the group with the status the leader saved, and the leader's events.
    const groups = await until('the standby sees the leader status', async () => {
      const g = (await get(`${bApi}/groups`)).body.groups
      return g[0]?.status?.instances?.length === 1 ? g : undefined
    }, 20_000)
    assert.equal(groups[0].group, 'tiny')
    const events = (await get(`${bApi}/events?type=leadership`)).body.events
    assert.match(events[0].message, new RegExp(`^${aStatus.identity} leads \\(lease 'tide', epoch 1\\)$`))
    // A change: 503 naming the leader.
    const res = await fetch(`${bApi}/groups/tiny/pause`, { method: 'POST', headers: { authorization: 'Bearer whatever' }, signal: AbortSignal.timeout(10_000) })
    assert.equal(res.status, 503)
    const refused = (await res.json()) as any
    assert.equal(refused.error.code, 'TIDE_ERR_API_NOT_LEADER')
    assert.match(refused.error.message, new RegExp(`the leader is ${aStatus.identity} \\(epoch 1\\)`))

    // SIGKILL the leader and its instance: the standby must take over and launch a replacement.
    const [instance] = await instancePids(aApi)
    assert.ok(instance !== undefined)
    pids.add(instance)
    const killedAt = Date.now()
    a.signal('SIGKILL')
    process.kill(instance, 'SIGKILL')
    await b.waitForLine(/^leading: lease 'tide' at epoch 2 as .* \(taken over from /, 30_000)
    await b.waitForLine(/tiny launch: /, 30_000)
    // By tide's own clock (the events' times in the store), not by when its output reached this process.
    const query = (sql: string, params: unknown[]): Promise<Record<string, unknown>[]> => pg.query(url, sql, params)
    const leadMs = (await eventAtMs(query, 'leadership', killedAt)) - killedAt
    const actMs = (await eventAtMs(query, 'launch', killedAt)) - killedAt
    console.log(`failover: SIGKILLed leader → the standby's leadership event in ${(leadMs / 1000).toFixed(1)} s, launches the replacement in ${(actMs / 1000).toFixed(1)} s (target ≤ ${FAILOVER_TARGET_MS / 1000} s)`)
    assert.ok(actMs <= FAILOVER_TARGET_MS + FAILOVER_SLACK_MS, `the new leader acted ${actMs} ms after the kill`)
    const bLeaderApi = await apiOf(b, false)
    assert.equal((await get(`${bLeaderApi}/status`)).body.role, 'leader')
    for (const p of await instancePids(bLeaderApi)) pids.add(p)
    assert.equal(await a.exited, null)
    assert.equal(await b.stop(30_000), 0, b.stderr())
  })

  test('a leader frozen past its lease and woken performs no provider action, writes nothing, says it lost leadership and exits 1', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tide-pg-freeze-'))
    dirs.push(dir)
    const url = await pg.createDatabase()
    const file = electedConfig(dir, url)
    const a = start(dir, file, 'a')
    await a.waitForLine(/^leading: lease 'tide' at epoch 1 as /, 60_000)
    const aApi = await apiOf(a, false)
    await a.waitForLine(/tiny instance-ready: instance tiny-\w+ is serving/, 60_000)
    const b = start(dir, file, 'b')
    await b.waitForLine(/^standby: the lease is held by /, 60_000)
    const [instance] = await instancePids(aApi)
    assert.ok(instance !== undefined)
    pids.add(instance)

    // Freeze the leader; kill its instance meanwhile, so that, woken, it would want to launch.
    a.signal('SIGSTOP')
    process.kill(instance, 'SIGKILL')
    await b.waitForLine(/^leading: lease 'tide' at epoch 2 as /, 30_000)
    const bApi = await apiOf(b, false)
    await b.waitForLine(/tiny instance-ready: instance tiny-\w+ is serving/, 60_000)
    for (const p of await instancePids(bApi)) pids.add(p)

    // Freeze the new leader too for the old one's wake-up: whatever reaches the store meanwhile is the old leader's.
    b.signal('SIGSTOP')
    const snapshot = async (): Promise<string> => {
      const rows = await pg.query(
        url,
        `SELECT (SELECT count(*) FROM tide_events) AS events, (SELECT coalesce(max(id), 0) FROM tide_events) AS last_event,
                (SELECT md5(coalesce(string_agg(group_name || kind || value::text, ',' ORDER BY group_name, kind), '')) FROM tide_group_kv) AS kv,
                (SELECT md5(coalesce(string_agg(row_to_json(i)::text, ',' ORDER BY seq), '')) FROM tide_local_instances i) AS instances,
                (SELECT holder || '@' || epoch FROM tide_lease WHERE name = 'tide') AS lease`,
      )
      return JSON.stringify(rows[0])
    }
    const before = await snapshot()
    assert.match(before, /@2"/)
    const linesBefore = a.lines.length
    a.signal('SIGCONT')
    const code = await Promise.race([a.exited, sleep(20_000).then(() => 'still running 20 s after SIGCONT')])
    const woke = a.lines.slice(linesBefore)
    console.log(`the old leader, woken after ${a.lines.length - linesBefore} line(s):\n  ${woke.join('\n  ')}`)
    assert.equal(code, 1, `the old leader's exit; after waking it said:\n${woke.join('\n')}\n${a.stderr()}`)
    assert.ok(
      woke.some((l) => /lost leadership \(lease 'tide', epoch 1\)/.test(l)),
      `it says it lost leadership:\n${woke.join('\n')}`,
    )
    // No provider action: no launch, terminate or drain line, and its child processes are only the dead one.
    assert.deepEqual(
      woke.filter((l) => /tiny (launch|terminate|drain-start): /.test(l)),
      [],
    )
    assert.equal(await snapshot(), before, 'the old leader wrote nothing to the store')
    b.signal('SIGCONT')
    // The new leader goes on leading.
    await sleep(3000)
    assert.equal((await get(`${bApi}/status`)).body.role, 'leader')
    assert.equal(await b.stop(30_000), 0, b.stderr())
  })
})
