/**
 * The PostgreSQL lease against a real throwaway server (test/support/postgres.ts): candidates
 * racing take it exactly once, every acquisition increments the epoch, expiry is judged by the
 * database's clock (the row's renewed_at moved back by SQL, not by waiting), the renew deadline
 * by the leader's monotonic clock (stepped by the test), a leader whose row was taken loses at
 * its next renewal, and release hands over at once. Durations are shortened (a 3 s lease) so
 * every case is bounded to a few seconds; the arithmetic is the default's.
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import pg from 'pg'
import { migratePostgres } from '../../../src/store/postgres/migrations.ts'
import { PgLease, openPgLease, type PgLeaseOptions } from '../../../src/store/postgres/lease.ts'
import { missingBinary } from '../../support/system-binaries.ts'
import { startPostgres, type TestPostgres } from '../../support/postgres.ts'

const FAST = { durationMs: 3000, renewEveryMs: 500, renewDeadlineMs: 2000, retryEveryMs: 200 }


describe('PostgreSQL lease', { skip: missingBinary('postgres') }, () => {
  let server: TestPostgres
  let url: string
  let pool: pg.Pool
  const opened: { close(): Promise<void> }[] = []
  before(async () => {
    server = await startPostgres()
    url = await server.createDatabase()
    pool = new pg.Pool({ connectionString: url, max: 20 })
    pool.on('error', () => undefined)
    // The store's migrations create tide_lease (migration 1), as a PostgreSQL store's open does.
    const client = await pool.connect()
    try {
      await migratePostgres(client, 'test')
    } finally {
      client.release()
    }
  })
  after(async () => {
    for (const o of opened) await o.close()
    await pool.end()
    await server.stop()
  })

  const candidate = (name: string, identity: string, more: Partial<PgLeaseOptions> = {}): PgLease => {
    const lease = new PgLease({ db: pool, name, identity, ...FAST, ...more })
    opened.push({
      close: () => {
        lease.stop()
        return Promise.resolve()
      },
    })
    return lease
  }
  const row = async (name: string): Promise<{ holder: string | null; epoch: string }> => {
    const r = (await pool.query<{ holder: string | null; epoch: string }>('SELECT holder, epoch FROM tide_lease WHERE name = $1', [name])).rows[0]
    assert.ok(r, `no lease row ${name}`)
    return r
  }

  test('ten candidates racing on a fresh row: exactly one takes it, at epoch 1', async () => {
    const all = Array.from({ length: 10 }, (_, i) => candidate('race', `c${i}`))
    const fences = await Promise.all(all.map((c) => c.tryAcquire()))
    const winners = fences.filter((f) => f !== undefined)
    assert.equal(winners.length, 1, `winners: ${JSON.stringify(winners)}`)
    const winner = winners[0]
    assert.ok(winner)
    assert.equal(winner.epoch, 1)
    assert.equal(all.filter((c) => c.held()).length, 1)
    const r = await row('race')
    assert.equal(r.holder, winner.holder)
    // The losers saw who holds it.
    for (const c of all.filter((x) => !x.held())) assert.equal(c.holder, winner.holder)
  })

  test('ten candidates racing on an expired row: exactly one takes it, the epoch goes up by one', async () => {
    const first = candidate('race2', 'old')
    assert.equal((await first.tryAcquire())?.epoch, 1)
    first.stop()
    // Expire it by the database's clock.
    await pool.query(`UPDATE tide_lease SET renewed_at = now() - interval '1 hour' WHERE name = 'race2'`)
    const all = Array.from({ length: 10 }, (_, i) => candidate('race2', `n${i}`))
    const fences = (await Promise.all(all.map((c) => c.tryAcquire()))).filter((f) => f !== undefined)
    assert.equal(fences.length, 1)
    assert.equal(fences[0]?.epoch, 2)
    assert.equal((await row('race2')).epoch, '2')
  })

  test('a held, renewed lease is not taken; expiry is judged by the database clock, not the candidate', async () => {
    const a = candidate('expiry', 'a')
    // b's own monotonic clock says hours have passed: it does not matter, the row is fresh.
    const b = candidate('expiry', 'b', { monotonicMs: () => performance.now() + 3_600_000 })
    assert.ok(await a.tryAcquire())
    await sleep(800)
    assert.equal(await b.tryAcquire(), undefined)
    assert.equal(b.holder, 'a')
    a.stop() // no more renewals, and no release
    // Not yet expired by the database's clock…
    assert.equal(await b.tryAcquire(), undefined)
    // …until its renewed_at is older than its duration.
    await pool.query(`UPDATE tide_lease SET renewed_at = now() - interval '3001 milliseconds' WHERE name = 'expiry'`)
    const fence = await b.tryAcquire()
    assert.deepEqual(fence, { lease: 'expiry', holder: 'b', epoch: 2 })
  })

  test('the leader renews; SIGKILL-like silence lets a waiting follower take over after the lease duration, with a higher epoch', async () => {
    const a = candidate('failover', 'a')
    const b = candidate('failover', 'b')
    const fa = await a.acquire()
    const seen: string[] = []
    const ac = new AbortController()
    const takeover = b.acquire(ac.signal, (h) => seen.push(h))
    await sleep(1500)
    assert.ok(a.held(), 'a renews and still holds')
    assert.equal(b.held(), false)
    const killedAt = performance.now()
    a.stop()
    const fb = await Promise.race([takeover, sleep(10_000).then(() => assert.fail('no takeover within 10 s'))])
    const tookMs = performance.now() - killedAt
    assert.equal(fb.epoch, fa.epoch + 1)
    assert.deepEqual(seen, ['a'])
    // After a's last renewal (at most renewEveryMs before the stop) the row lives durationMs.
    assert.ok(tookMs >= FAST.durationMs - FAST.renewEveryMs - 100 && tookMs <= FAST.durationMs + FAST.retryEveryMs + 500, `took over after ${Math.round(tookMs)} ms`)
  })

  test('the renew deadline: a leader whose renewals fail stops holding at the deadline (monotonic clock) and says why', async () => {
    let nowMs = 0
    let failing = false
    const db = {
      query: (text: string, values: unknown[]) => (failing ? Promise.reject(new Error('connection refused')) : pool.query(text, values)),
    }
    const errors: string[] = []
    const a = new PgLease({ db, name: 'deadline', identity: 'a', ...FAST, monotonicMs: () => nowMs, onError: (e) => errors.push(String(e)) })
    opened.push({
      close: () => {
        a.stop()
        return Promise.resolve()
      },
    })
    const lost = new Promise<string>((resolve) => {
      a.onLost(resolve)
    })
    assert.ok(await a.tryAcquire())
    assert.ok(a.held())
    failing = true
    nowMs = FAST.renewDeadlineMs - 1
    assert.ok(a.held(), 'held just before the deadline')
    nowMs = FAST.renewDeadlineMs
    assert.equal(a.held(), false, 'not known held at the deadline, even before any timer fires')
    const why = await Promise.race([lost, sleep(5000).then(() => 'no loss within 5 s')])
    assert.match(why, /no renewal for 2 s \(renew deadline 2 s\)/)
    assert.equal(a.lostWhy, why)
  })

  test('a leader whose row was taken (it froze past the lease) loses at its next renewal, naming the new holder', async () => {
    const a = candidate('taken', 'a')
    const lost = new Promise<string>((resolve) => {
      a.onLost(resolve)
    })
    await a.acquire()
    await pool.query(`UPDATE tide_lease SET holder = 'b', epoch = epoch + 1, renewed_at = now() WHERE name = 'taken'`)
    const why = await Promise.race([lost, sleep(5000).then(() => 'no loss within 5 s')])
    assert.equal(why, 'the lease is held by b (epoch 2; this tide held epoch 1)')
    assert.equal(a.held(), false)
    // It writes nothing back: the row is b's.
    await sleep(FAST.renewEveryMs * 2)
    assert.deepEqual(await row('taken'), { holder: 'b', epoch: '2' })
  })

  test('revoke (the store refused a write as fenced) makes held() false at once and tells onLost', async () => {
    const a = candidate('revoke', 'a')
    const why: string[] = []
    a.onLost((w) => why.push(w))
    await a.acquire()
    a.revoke('a write was fenced')
    a.revoke('twice')
    assert.equal(a.held(), false)
    assert.deepEqual(why, ['a write was fenced'])
  })

  test('release empties the holder at once and a follower takes the lease at its next try, epoch + 1; a stale release does nothing', async () => {
    const a = candidate('release', 'a')
    const b = candidate('release', 'b')
    const fa = await a.acquire()
    assert.equal(await b.tryAcquire(), undefined)
    await a.release()
    assert.equal((await row('release')).holder, null)
    const fb = await b.tryAcquire()
    assert.equal(fb?.epoch, fa.epoch + 1)
    // a's release again (stale epoch) changes nothing.
    await a.release()
    assert.deepEqual(await row('release'), { holder: 'b', epoch: String(fa.epoch + 1) })
  })

  test('a restarted candidate of the same identity takes the lease at once with a new epoch', async () => {
    const a1 = candidate('same', 'pod-0')
    const f1 = await a1.acquire()
    a1.stop()
    const a2 = candidate('same', 'pod-0')
    const f2 = await a2.tryAcquire()
    assert.equal(f2?.epoch, f1.epoch + 1)
  })

  test('read() says holder, epoch and expiry by the database clock', async () => {
    const a = candidate('read', 'a')
    assert.equal(await a.read(), undefined)
    await a.acquire()
    assert.deepEqual(await a.read(), { holder: 'a', epoch: 1, expired: false })
    a.stop()
    await pool.query(`UPDATE tide_lease SET renewed_at = now() - interval '1 hour' WHERE name = 'read'`)
    assert.deepEqual(await a.read(), { holder: 'a', epoch: 1, expired: true })
  })

  test('openPgLease: its own pool; an unreachable database is an error told, not a crash, and the candidate holds nothing', async () => {
    const errors: unknown[] = []
    const o = openPgLease('postgres://postgres@127.0.0.1:1/none', { identity: 'x', ...FAST, onError: (e) => errors.push(e) })
    opened.push(o)
    assert.equal(await o.lease.tryAcquire(), undefined)
    assert.equal(o.lease.held(), false)
    assert.ok(errors.length > 0)
    const ok = openPgLease(url, { name: 'opened', identity: 'y', ...FAST })
    opened.push(ok)
    assert.equal((await ok.lease.tryAcquire())?.epoch, 1)
  })

  test('options: the renew deadline must be below the lease and above the renew interval; the identity non-empty', () => {
    assert.throws(() => new PgLease({ db: pool, identity: 'a', durationMs: 3000, renewDeadlineMs: 3000 }), /renew deadline \(3000 ms\) must be shorter than the lease \(3000 ms\)/)
    assert.throws(() => new PgLease({ db: pool, identity: 'a', renewEveryMs: 8000 }), /must come more often than the renew deadline/)
    assert.throws(() => new PgLease({ db: pool, identity: '' }), /needs an identity/)
  })
})
