import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { test } from 'node:test'
import Database from 'better-sqlite3'
import { runCommandLine, type CommandIo } from '../../src/cli/args.ts'
import { command as status, statusText } from '../../src/cli/status.ts'
import { sameBackend } from '../../src/controller/backend.ts'
import type { GroupStatus } from '../../src/controller/group-status.ts'
import type { MetricsSource } from '../../src/controller/metrics-source.ts'
import { Controller } from '../../src/controller/reconciler.ts'
import { ManualClock } from '../../src/core/clock.ts'
import type { Provider } from '../../src/providers/provider.ts'
import { GroupSchema } from '../../src/spec/schema.ts'
import { LATEST_SCHEMA_VERSION } from '../../src/store/migrations.ts'
import { SqliteStore } from '../../src/store/sqlite-store.ts'
import { FakeProvider } from '../support/fake-provider.ts'
import { serveApi, startTinyTide } from '../support/running-tide.ts'
import { tempDir } from '../store/temp-dir.ts'

function io(): CommandIo & { out: () => string; err: () => string } {
  let out = ''
  let err = ''
  return { stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s) }, env: {}, out: () => out, err: () => err }
}

const table = { status }
const T0 = Date.parse('2026-11-11T04:00:00Z')

/** A store holding the statuses a real controller saved over four ticks: 'web' held at its max of 3, 'api' whose provider fails. */
async function storeWithStatuses(path: string): Promise<void> {
  const clock = new ManualClock(T0)
  const provider = new FakeProvider(clock, 0)
  const web = GroupSchema.parse({ group: 'web', provider: 'sim', replicas: { min: 1, max: 3 }, warmupSeconds: 0, metrics: [{ type: 'cpu', target: { averageUtilization: 50 } }] })
  const api = GroupSchema.parse({ group: 'api', provider: 'sim', replicas: { min: 1, max: 3 }, warmupSeconds: 0, metrics: [{ type: 'cpu', target: { averageUtilization: 50 } }] })
  const signals: MetricsSource = { read: (_s, instances, nowMs) => ({ atMs: nowMs, instances: new Map(instances.map((i) => [i.id, { cpuRatio: 0.95, cpuAtMs: nowMs, cpuWindowMs: 0 }])), group: {} }) }
  const store = SqliteStore.open(path)
  // The provider fails to list 'api', every time.
  const failing: Provider = {
    name: provider.name,
    capabilities: provider.capabilities,
    list: (spec) => (spec.group === 'api' ? Promise.reject(new Error('cloud API timeout')) : provider.list(spec)),
    launch: (spec, size, count) => provider.launch(spec, size, count),
    terminate: (spec, id) => provider.terminate(spec, id),
  }
  const controller = new Controller({ groups: [web, api], backend: sameBackend({ provider: failing, signals }), clock, store })
  for (let i = 0; i < 4; i++) {
    await controller.reconcileOnce()
    clock.advance(15_000)
  }
  store.close()
}

test('tide status prints each group: count, instances, every condition with its reason, the last decision', async (t) => {
  const path = join(tempDir(t), 'tide.db')
  await storeWithStatuses(path)
  const o = io()
  assert.equal(await runCommandLine(table, ['status', '--store', path], o), 0, o.err())
  const out = o.out()
  // api: never listed, so no count; its condition says why.
  assert.match(out, /^api \(status of 2026-11-11 04:00:45 UTC\)\n {2}desired 0 of 1 cpu\/512 MiB; no instances\n {2}AbleToScale {2}False {2}FailedGetScale {2}since 2026-11-11 04:00:00 UTC: tide was unable to list the group's instances: cloud API timeout$/m)
  // web: cpu at 95 % of 50 % asks for more than max 3.
  assert.match(out, /^web \(status of 2026-11-11 04:00:45 UTC\)\n {2}desired 3 of 1 cpu\/512 MiB; instances 3 in-service$/m)
  assert.match(out, /^ {2}ScalingLimited +True +TooManyReplicas +since .*: the desired count \d+ is more than the maximum: capped at max 3$/m)
  assert.match(out, /^ {2}last decision \(2026-11-11 04:00:45 UTC\): held at 3: cpu 95% > target 50%; capped at max 3$/m)
  assert.ok(out.indexOf('api (') < out.indexOf('web ('), 'groups in name order')
})

test('tide status GROUP --json prints that group as the stored JSON', async (t) => {
  const path = join(tempDir(t), 'tide.db')
  await storeWithStatuses(path)
  const o = io()
  assert.equal(await runCommandLine(table, ['status', 'web', '--store', path, '--json'], o), 0, o.err())
  const [s, ...rest] = JSON.parse(o.out()) as GroupStatus[]
  assert.equal(rest.length, 0)
  assert.ok(s)
  assert.equal(s.group, 'web')
  assert.equal(s.atMs, T0 + 45_000)
  assert.deepEqual(
    s.conditions.map((c) => [c.type, c.status, c.reason]),
    [
      ['AbleToScale', 'True', 'ReadyForNewScale'],
      ['ScalingActive', 'True', 'ValidMetricFound'],
      ['ScalingLimited', 'True', 'TooManyReplicas'],
    ],
  )
})

test('tide status: a missing store is an error naming it, and creates nothing; an unknown group names the known ones', async (t) => {
  const dir = tempDir(t)
  const missing = join(dir, 'nope.db')
  const o = io()
  assert.notEqual(await runCommandLine(table, ['status', '--store', missing], o), 0)
  assert.match(o.err(), /no store at .*nope\.db/)
  assert.equal(existsSync(missing), false)
  const path = join(dir, 'tide.db')
  await storeWithStatuses(path)
  const u = io()
  assert.notEqual(await runCommandLine(table, ['status', 'shop', '--store', path], u), 0)
  assert.match(u.err(), /no status of group 'shop' .*groups with one: api, web/)
})

test('tide status --store reads and never migrates: a store of an older schema is an error naming its version, and stays at it', async (t) => {
  const path = join(tempDir(t), 'old.db')
  await storeWithStatuses(path)
  // As a store written by an older tide: its newest migration not yet applied.
  const raw = new Database(path)
  raw.prepare('DELETE FROM schema_migrations WHERE version = ?').run(LATEST_SCHEMA_VERSION)
  raw.close()
  const o = io()
  assert.notEqual(await runCommandLine(table, ['status', '--store', path], o), 0)
  assert.match(o.err(), new RegExp(`schema version ${LATEST_SCHEMA_VERSION - 1}, older than this tide's ${LATEST_SCHEMA_VERSION}; a reader does not migrate`))
  const after = new Database(path, { readonly: true })
  assert.equal(after.prepare('SELECT MAX(version) FROM schema_migrations').pluck().get(), LATEST_SCHEMA_VERSION - 1)
  after.close()
})

test('statusText: each risk the radar sees, with its ETA and basis', () => {
  const s: GroupStatus = {
    group: 'g',
    atMs: T0,
    desiredReplicas: 2,
    size: { cpu: 1, memoryMiB: 512 },
    instances: [],
    conditions: [],
    risks: [
      { kind: 'max', etaSeconds: 2100, basis: 'trend', message: 'at this trend g reaches max 20 in ~35 min' },
      { kind: 'budget', etaSeconds: 0, basis: 'trend', message: "g has spent today's SLO violation budget" },
    ],
  }
  assert.equal(
    statusText(s),
    [
      'g (status of 2026-11-11 04:00:00 UTC)',
      '  desired 2 of 1 cpu/512 MiB; no instances',
      '  risk: max in ~35 min (trend): at this trend g reaches max 20 in ~35 min',
      "  risk: budget now (trend): g has spent today's SLO violation budget",
    ].join('\n'),
  )
})

test('statusText: the slo and the forecaster when the group has them', () => {
  const s: GroupStatus = {
    group: 'g',
    atMs: T0,
    desiredReplicas: 2,
    size: { cpu: 1, memoryMiB: 512 },
    instances: [],
    conditions: [],
    slo: { latencyP95Ms: 200, budgetPercent: 0.5, budget: { budgetPercent: 0.5, todayViolatedPercent: 0, weekViolatedPercent: 0, todayMeasuredSeconds: 0, weekMeasuredSeconds: 0 } },
    forecast: { fullFits: 1, refits: 0, bucketsRecorded: 600, liveScored: 0, method: 'hw-daily-additive', status: 'ok', accuracyWapePercent: 12.34, accuracySource: 'backtest', expectedRps: 420.4 },
  }
  assert.equal(
    statusText(s),
    ['g (status of 2026-11-11 04:00:00 UTC)', '  desired 2 of 1 cpu/512 MiB; no instances', '  slo: p95 200 ms; budget 0.5 %: 0 % today, 0 % this week', '  forecast: ok, hw-daily-additive, WAPE 12.3 % (backtest), expected now 420 req/s'].join('\n'),
  )
})

test('tide status asks the running tide over its API and says so; --store says the store answered; no tide is exit 3 with the --store hint', async (t) => {
  const tide = await startTinyTide('web')
  const server = await serveApi(tide, 'status-test-token')
  t.after(async () => {
    await server.close()
    await tide.stop()
  })
  const human = io()
  assert.equal(await runCommandLine(table, ['status', '--api', server.url], human), 0, human.err())
  assert.match(human.out(), new RegExp(`^\\(from the API at ${server.url.replaceAll('.', '\\.')}\\)\\nweb \\(status of \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d UTC\\)\\n {2}desired 1 of .*; instances 1 in-service\\n`))
  const json = io()
  assert.equal(await runCommandLine(table, ['status', 'web', '--json', '--api', server.url], json), 0, json.err())
  const statuses = JSON.parse(json.out()) as GroupStatus[]
  assert.deepEqual(statuses.map((s) => [s.group, s.instances.length]), [['web', 1]])
  assert.equal(json.err(), `tide: status from the API at ${server.url}\n`)
  const unknown = io()
  assert.equal(await runCommandLine(table, ['status', 'shop', '--api', server.url], unknown), 1)
  assert.match(unknown.err(), /^tide: TIDE_ERR_API_NOT_FOUND: /)

  const path = join(tempDir(t), 'tide.db')
  await storeWithStatuses(path)
  const stored = io()
  assert.equal(await runCommandLine(table, ['status', '--store', path], stored), 0, stored.err())
  assert.match(stored.out(), new RegExp(`^\\(from the store ${path.replaceAll('.', '\\.')}, as of each group's last tick\\)\\napi \\(`))

  // A port just closed: nothing answers there.
  const probe = createServer()
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
  const port = (probe.address() as { port: number }).port
  await new Promise((resolve) => probe.close(resolve))
  const none = io()
  assert.equal(await runCommandLine(table, ['status', '--api', `http://127.0.0.1:${port}`], none), 3)
  assert.match(none.err(), /^tide: no tide answered at http:\/\/127\.0\.0\.1:\d+ .*\ntide: a stopped tide's last statuses are in its store: tide status --store PATH \(or -c tide\.yaml\)\n$/)
  const both = io()
  assert.equal(await runCommandLine(table, ['status', '--api', server.url, '--store', path], both), 2)
  assert.match(both.err(), /^tide: --api asks the running tide; --store and -c read a store file: give one/)
})
