/**
 * A real `tide up` on a PostgreSQL store (`store.url`) over a throwaway cluster
 * (test/support/postgres.ts): it scales a tiny local group, `tide status --store postgres://…`
 * shows the state from PostgreSQL, and a restarted `tide up` adopts the instances the first one
 * kept, from the registry in the database. The URL carries a password (trust authentication
 * ignores it) that must appear nowhere. Skipped, with the reason, without PostgreSQL.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { startPostgres, type TestPostgres } from '../support/postgres.ts'
import { runTide } from '../support/run-tide.ts'
import { missingBinary } from '../support/system-binaries.ts'
import { tideUp } from '../support/tide-up.ts'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const TINY = join(ROOT, 'test/providers/fixtures/tiny-server.ts')
const PASSWORD = 'Sw0rdfish-not-for-logs'
const skip = missingBinary('postgres')
let server: TestPostgres | undefined

before(async () => {
  if (skip === false) server = await startPostgres()
})
after(async () => {
  await server?.stop()
})

function config(dir: string, url: string): string {
  const file = join(dir, 'tide.yaml')
  writeFileSync(
    file,
    [
      `store: { url: ${JSON.stringify(url)} }`,
      '---',
      'group: tiny',
      `launch: { command: [${JSON.stringify(process.execPath)}, --import, tsx, ${JSON.stringify(TINY)}], cwd: ${JSON.stringify(ROOT)} }`,
      'replicas: { min: 2, max: 3 }',
      'syncPeriodSeconds: 1',
      'startupSeconds: 1',
      'warmupSeconds: 0',
      'health: { path: /healthz, intervalSeconds: 0.5, healthyThreshold: 1, graceSeconds: 10 }',
      'routing: { listen: 0, drainSeconds: 1 }',
      '',
    ].join('\n'),
  )
  return file
}

interface StatusJson {
  readonly group: string
  readonly desiredReplicas: number
  readonly instances: readonly { readonly id: string }[]
}

test('tide up on store.url: scales a local group, status --store reads it from PostgreSQL, a restart adopts the kept instances; no password anywhere', { skip, timeout: 180_000 }, async () => {
  const pg = server as TestPostgres
  const url = (await pg.createDatabase()).replace('postgres@', `postgres:${PASSWORD}@`)
  const dir = mkdtempSync(join(tmpdir(), 'tide-up-pg-'))
  const file = config(dir, url)
  const state = join(dir, 'state')
  let up = tideUp(['-c', file, '--state-dir', state, '--keep-instances'], dir)
  try {
    // 0 → 2: a scale-out, every write through the store's flush.
    await up.waitForLine(/tiny instance-ready: instance tiny-\w+ is serving/, 60_000)
    await waitUntil('two instances serving', () => up.lines.filter((l) => /tiny instance-ready/.test(l)).length >= 2, 60_000)
    // The status of a tick after both serve reaches the database (one flush per tick).
    let statuses: StatusJson[] = []
    await waitUntil('status in PostgreSQL shows 2 instances', async () => {
      const r = await runTide(['status', '--store', url, '--json'])
      assert.equal(r.status, 0, r.stderr)
      assert.ok(!r.stdout.includes(PASSWORD) && !r.stderr.includes(PASSWORD), 'status prints no password')
      statuses = JSON.parse(r.stdout) as StatusJson[]
      return statuses.at(0)?.instances.length === 2
    }, 30_000)
    assert.equal(statuses.at(0)?.group, 'tiny')
    assert.equal(statuses.at(0)?.desiredReplicas, 2)
    const launched = new Set(statuses.at(0)?.instances.map((i) => i.id))
    const registered = await pg.query<{ id: string }>(url, "SELECT id FROM tide_local_instances WHERE group_name = 'tiny' ORDER BY seq")
    assert.deepEqual(new Set(registered.map((k) => k.id)), launched, `the registry rows are in PostgreSQL while tide runs: ${JSON.stringify(await pg.query(url, 'SELECT * FROM tide_local_instances'))}`)
    const rows = await pg.query<{ n: string }>(url, "SELECT count(*) AS n FROM tide_events WHERE group_name = 'tiny' AND type = 'instance-ready'")
    assert.ok(Number(rows[0]?.n) >= 2, 'the events are in PostgreSQL')
    // Stop, keeping the instances for the next tide (the registry rows are flushed on close).
    up.signal('SIGINT')
    assert.equal(await Promise.race([up.exited, new Promise((r) => setTimeout(r, 60_000, 'timeout'))]), 0, up.stderr())
    const stderr1 = up.stderr()
    const kept = await pg.query<{ id: string }>(url, "SELECT id FROM tide_local_instances WHERE group_name = 'tiny' ORDER BY seq")
    assert.deepEqual(new Set(kept.map((k) => k.id)), launched, `the registry rows are in PostgreSQL after the stop: ${up.lines.slice(-8).join('\n')}\n${stderr1}`)
    up = tideUp(['-c', file, '--state-dir', state], dir)
    await waitUntil('the restarted tide adopts both instances from PostgreSQL', () => up.lines.filter((l) => /adopted running instance/.test(l)).length >= 2, 60_000).catch((err: unknown) => {
      throw new Error(`${(err as Error).message}:\n${up.lines.join('\n')}\n${up.stderr()}`)
    })
    const adopted = up.lines.filter((l) => /adopted running instance/.test(l)).map((l) => /tiny-\w+/.exec(l)?.[0])
    assert.deepEqual(new Set(adopted), launched, up.lines.join('\n'))
    assert.equal(await up.stop(60_000), 0, up.stderr())
    const r = await runTide(['validate', '-c', file, '--json'])
    assert.equal(r.status, 0, r.stderr)
    assert.match(r.stdout, /"url": "postgres:\/\/postgres:\*\*\*@127\.0\.0\.1/)
    for (const text of [stderr1, up.stderr(), up.lines.join('\n'), r.stdout]) assert.ok(!text.includes(PASSWORD), text)
    const leaked = await pg.query<{ n: string }>(url, 'SELECT count(*) AS n FROM tide_events WHERE message LIKE $1', [`%${PASSWORD}%`])
    assert.equal(Number(leaked[0]?.n), 0, 'no event holds the password')
  } finally {
    await up.stop()
    rmSync(dir, { recursive: true, force: true })
  }
})

async function waitUntil(what: string, cond: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (await cond()) return
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 300))
  }
}
