/**
 * Replay before rollout (src/app/replay.ts) on a real SQLite store whose demand is written
 * directly, as the runtime records it (one `rps` sample per sync period): the window's checks,
 * the trace read from both tiers, both runs' figures, and too little demand.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { isApiError } from '../../src/app/errors.ts'
import { DEFAULT_REPLAY_HOURS, MAX_REPLAY_HOURS, recordedDemand, replayTickSeconds, replayWindow, runReplay } from '../../src/app/replay.ts'
import { GroupSchema } from '../../src/spec/schema.ts'
import { SqliteStore } from '../../src/store/sqlite-store.ts'

const HOUR = 3_600_000
/** The end of the recorded demand: "now" for every case. */
const NOW = Date.UTC(2026, 10, 11, 12, 0, 0)

let dir: string
let store: SqliteStore

/** Records `rps(t)` every `everyS` seconds over [fromMs, toMs), as the runtime does once per sync period. */
function record(group: string, fromMs: number, toMs: number, everyS: number, rps: (atMs: number) => number): void {
  for (let t = fromMs; t < toMs; t += everyS * 1000) store.recordMetric(group, 'rps', t, rps(t))
}

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'tide-replay-'))
  store = SqliteStore.open(join(dir, 'tide.db'))
  // Two hours of a steady ramp 100 → 700 req/s, every 15 s: the first hour only in the minute tier once pruned.
  record('web', NOW - 2 * HOUR, NOW, 15, (t) => 100 + (600 * (t - (NOW - 2 * HOUR))) / (2 * HOUR))
  // Five minutes only.
  record('young', NOW - 5 * 60_000, NOW, 15, () => 80)
})

after(() => {
  store.close()
  rmSync(dir, { recursive: true, force: true })
})

const spec = (max: number, name = 'web') =>
  GroupSchema.parse({ group: name, provider: 'sim', replicas: { min: 1, max }, slo: { latencyP95Ms: 200, budgetPercent: 0.5, instanceRps: 50 } })

const windows = [
  { name: 'default: the last 24 h', q: {}, want: { fromMs: NOW - DEFAULT_REPLAY_HOURS * HOUR, toMs: NOW } },
  { name: 'hours back from now', q: { hours: 2 }, want: { fromMs: NOW - 2 * HOUR, toMs: NOW } },
  { name: 'hours back from to', q: { hours: 1, toMs: NOW - HOUR }, want: { fromMs: NOW - 2 * HOUR, toMs: NOW - HOUR } },
  { name: 'from and to', q: { fromMs: NOW - 3 * HOUR, toMs: NOW - HOUR }, want: { fromMs: NOW - 3 * HOUR, toMs: NOW - HOUR } },
] as const
for (const c of windows) {
  test(`replayWindow: ${c.name}`, () => {
    assert.deepEqual(replayWindow(c.q, NOW), c.want)
  })
}

const badWindows = [
  { name: 'zero hours', q: { hours: 0 }, says: /hours: a number of hours above 0/ },
  { name: 'more than 14 days', q: { hours: MAX_REPLAY_HOURS + 1 }, says: /at most 336/ },
  { name: 'hours and from', q: { hours: 1, fromMs: NOW - HOUR }, says: /give one of them/ },
  { name: 'from after to', q: { fromMs: NOW, toMs: NOW - HOUR }, says: /must be before/ },
  { name: 'from/to over 14 days', q: { fromMs: NOW - 15 * 24 * HOUR }, says: /at most 336 h/ },
] as const
for (const c of badWindows) {
  test(`replayWindow refuses ${c.name}`, () => {
    assert.throws(() => replayWindow(c.q, NOW), (err: unknown) => isApiError(err, 'TIDE_ERR_API_BAD_REQUEST') && c.says.test((err as Error).message))
  })
}

test('replayTickSeconds: 1 s steps up to a day, 5 s beyond', () => {
  assert.equal(replayTickSeconds(24 * HOUR), 1)
  assert.equal(replayTickSeconds(24 * HOUR + 1), 5)
})

test('recordedDemand reads minute means beyond the per-second hour and per-sync points within it', async () => {
  const d = await recordedDemand(store, 'web', NOW - 2 * HOUR, NOW, NOW)
  assert.ok(d !== undefined)
  // The first hour (less the per-second tier's margin minute) in minutes: 61 of them; the last 59 min at 15 s: 236 points.
  assert.equal(d.points, 61 + 59 * 4)
  assert.equal(d.trace.startMs, NOW - 2 * HOUR)
  assert.equal(d.trace.seconds[0], 0)
  assert.ok(d.notes.some((n) => /61 minute means/.test(n)), d.notes.join(' | '))
  assert.ok(d.notes.some((n) => /236 per-second points/.test(n)), d.notes.join(' | '))
  // The ramp is read back: the last point is near 700 req/s, the first minute's mean near 100.
  assert.ok(Math.abs((d.trace.rps[0] ?? 0) - 102.5) < 1, String(d.trace.rps[0]))
  assert.ok((d.trace.rps.at(-1) ?? 0) > 695)
  assert.equal(await recordedDemand(store, 'nobody', NOW - HOUR, NOW, NOW), undefined)
})

test('a replay runs both specs on the recorded demand: a max that caps the ramp violates the SLO, a higher one does not', async () => {
  const r = await runReplay(store, { current: spec(6), proposed: spec(20), fromMs: NOW - 2 * HOUR, toMs: NOW, nowMs: NOW })
  assert.equal(r.group, 'web')
  assert.equal(r.fromMs, NOW - 2 * HOUR)
  assert.ok(r.toMs <= NOW && r.toMs > NOW - 60_000, `${r.toMs}`)
  // 700 req/s needs 14 instances of 50 req/s: max 6 serves 300 req/s at most.
  assert.equal(r.current.peakInstances, 6)
  assert.ok(r.proposed.peakInstances >= 14, `${r.proposed.peakInstances}`)
  assert.ok(r.current.sloViolatedPercent > 30, `current ${r.current.sloViolatedPercent}`)
  assert.ok(r.proposed.sloViolatedPercent < 1, `proposed ${r.proposed.sloViolatedPercent}`)
  assert.ok(r.current.failedRequestsPercent > r.proposed.failedRequestsPercent)
  assert.ok(r.proposed.costInstanceHours > r.current.costInstanceHours)
  assert.equal(r.delta.peakInstances, r.proposed.peakInstances - r.current.peakInstances)
  assert.ok(r.delta.costPercent !== null && r.delta.costPercent > 0)
  // At least one decision per sync period (15 s) over two hours (the slo's fast path decides in between), each counted once by direction.
  for (const f of [r.current, r.proposed]) {
    const { up, down, hold } = f.decisions
    assert.ok(up + down + hold >= 478, `${up}+${down}+${hold}`)
    assert.ok(up >= 3 && up >= f.scaleOutActions - 1, `${up} up, ${f.scaleOutActions} scale-outs`)
  }
  assert.ok(r.proposed.costRatioToOracle >= 1 && r.proposed.costRatioToOracle < 3, `${r.proposed.costRatioToOracle}`)
  assert.deepEqual(r.model, { instanceRps: 50, startupSeconds: 30, sloP95Ms: 200, tickSeconds: 1 })
})

test('the same spec twice gives the same figures (the same start, the same demand)', async () => {
  const r = await runReplay(store, { current: spec(20), proposed: spec(20), fromMs: NOW - 2 * HOUR, toMs: NOW, nowMs: NOW })
  assert.deepEqual(r.proposed, r.current)
  assert.equal(r.delta.costInstanceHours, 0)
})

test('a proposed spec that changes the model is replayed on the model in force, and a note says so', async () => {
  const proposed = GroupSchema.parse({ group: 'web', provider: 'sim', replicas: { min: 1, max: 20 }, slo: { latencyP95Ms: 200, budgetPercent: 0.5, instanceRps: 80 } })
  const r = await runReplay(store, { current: spec(20), proposed, fromMs: NOW - HOUR, toMs: NOW, nowMs: NOW })
  assert.equal(r.model.instanceRps, 50)
  assert.ok(r.notes.some((n) => /instanceRps 50 → 80/.test(n)), r.notes.join(' | '))
})

test('too little recorded demand is refused, saying how much there is', async () => {
  await assert.rejects(
    runReplay(store, { current: spec(5, 'young'), proposed: spec(9, 'young'), fromMs: NOW - 24 * HOUR, toMs: NOW, nowMs: NOW }),
    (err: unknown) => isApiError(err, 'TIDE_ERR_API_INSUFFICIENT_DATA') && /300 s \(20 points\).*at least 10 min/.test((err as Error).message),
  )
  await assert.rejects(
    runReplay(store, { current: spec(5, 'none'), proposed: spec(9, 'none'), fromMs: NOW - 24 * HOUR, toMs: NOW, nowMs: NOW }),
    (err: unknown) => isApiError(err, 'TIDE_ERR_API_INSUFFICIENT_DATA') && /: none;/.test((err as Error).message),
  )
})
