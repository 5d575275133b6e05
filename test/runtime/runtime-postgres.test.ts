// The runtime on a PostgreSQL store (RuntimeOptions.storeUrl) over a throwaway cluster: every tick,
// whatever it wrote (a launch, instance records, events, status, metric samples), reaches the
// database in at most ONE statement, counted in the server's own statement log; an API-style
// change flushes too; a fence that no longer holds calls onFenced and writes nothing.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { Runtime } from '../../src/runtime/runtime.ts'
import { GlobalSchema, GroupSchema } from '../../src/spec/schema.ts'
import type { Fence } from '../../src/store/errors.ts'
import { startPostgres, type TestPostgres } from '../support/postgres.ts'
import { tinyGroupValue } from '../support/running-tide.ts'
import { missingBinary } from '../support/system-binaries.ts'

const skip = missingBinary('postgres')
let server: TestPostgres | undefined

before(async () => {
  if (skip === false) server = await startPostgres({ logStatements: true })
})
after(async () => {
  await server?.stop()
})

test('a tick on a PostgreSQL store is one round trip; a change between ticks is flushed; a lost fence writes nothing', { skip, timeout: 120_000 }, async (t) => {
  const pg = server as TestPostgres
  const url = await pg.createDatabase()
  const dir = mkdtempSync(join(tmpdir(), 'tide-rt-pg-'))
  let fence: Fence | undefined
  const fenced: Error[] = []
  const spec = GroupSchema.parse(tinyGroupValue('tiny', { replicas: { min: 2, max: 3 } }))
  const runtime = await Runtime.start({
    config: { groups: [spec], global: GlobalSchema.parse({ store: { url }, api: { listen: 0 } }) },
    stateDir: join(dir, 'state'),
    storePath: join(dir, 'unused.db'),
    storeUrl: url,
    storeLog: () => undefined,
    fence: () => fence,
    onFenced: (err) => fenced.push(err),
  })
  try {
    const perTick: number[] = []
    for (let i = 0; i < 12; i++) {
      const before = pg.statements('tide').length
      await runtime.tick()
      perTick.push(pg.statements('tide').length - before)
      if (runtime.controller.status('tiny')?.instances.filter((x) => x.phase === 'in-service').length === 2) break
      await new Promise((r) => setTimeout(r, 300))
    }
    t.diagnostic(`statements per tick: ${perTick.join(', ')}`)
    // A tick that launches makes its intent durable first (ControllerOptions.persist: an operation
    // record is in PostgreSQL before the provider is called), then sends its batch: two; any other, one.
    assert.ok(perTick.every((n) => n <= 2), `statements per tick: ${perTick.join(', ')}`)
    assert.ok(perTick.filter((n) => n === 2).length <= 1, `only the launching tick sends its intent first: ${perTick.join(', ')}`)
    assert.ok(perTick.filter((n) => n === 1).length >= 2, `the ticks that wrote sent their batch: ${perTick.join(', ')}`)
    const launched = await pg.query<{ n: string }>(url, "SELECT count(*) AS n FROM tide_local_instances WHERE group_name = 'tiny'")
    assert.equal(Number(launched[0]?.n), 2, 'both launches are recorded in PostgreSQL')
    // An operator's change between ticks (what the API does, then flushes).
    assert.equal(runtime.controller.setPaused('tiny', true), true)
    await runtime.flush()
    const op = await pg.query<{ value: { pausedSinceMs?: number } }>(url, "SELECT value FROM tide_group_kv WHERE group_name = 'tiny' AND kind = 'operator'")
    assert.equal(typeof op[0]?.value.pausedSinceMs, 'number')
    // A lease someone else holds now: the next tick's writes are refused whole, and the runtime is told.
    await pg.query(url, "INSERT INTO tide_lease (name, holder, epoch, renewed_at, duration_ms) VALUES ('tide', 'other', 2, now(), 15000)")
    fence = { lease: 'tide', holder: 'me', epoch: 1 }
    const events = Number((await pg.query<{ n: string }>(url, 'SELECT count(*) AS n FROM tide_events'))[0]?.n)
    runtime.controller.setPaused('tiny', false)
    await runtime.tick()
    assert.equal(fenced.length, 1)
    assert.match(fenced[0]?.message ?? '', /held by other at epoch 2; nothing was written/)
    assert.equal(Number((await pg.query<{ n: string }>(url, 'SELECT count(*) AS n FROM tide_events'))[0]?.n), events, 'no event of the fenced tick was written')
    const still = await pg.query<{ value: { pausedSinceMs?: number } }>(url, "SELECT value FROM tide_group_kv WHERE group_name = 'tiny' AND kind = 'operator'")
    assert.equal(typeof still[0]?.value.pausedSinceMs, 'number', 'the resume was not written')
    fence = undefined
  } finally {
    await runtime.stop()
    rmSync(dir, { recursive: true, force: true })
  }
})
