/**
 * Replay before rollout (src/app/replay.ts): how long `POST /groups/{name}/replay` takes on 1, 7
 * and 14 days of recorded demand (per-minute means, as the store keeps them past the last hour,
 * plus the last hour at one reading per 15 s sync period), two runs of tide's default group
 * through the real controller; and how late the event loop (which the live control loop shares)
 * answers while a replay runs: a 100 ms timer's lateness and perf_hooks' event-loop delay.
 * Measured here, never in a test.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { runReplay } from '../src/app/replay.ts'
import { defaultGroupSpec } from '../src/simulator/default-group.ts'
import { resolveSimulationParams } from '../src/simulator/params.ts'
import { SqliteStore } from '../src/store/sqlite-store.ts'
import { fmt, type Table } from './table.ts'

const DAY_MS = 86_400_000
/** "Now" for the recorded demand: a fixed time, so runs compare. */
const NOW = Date.UTC(2026, 10, 11, 12, 0, 0)

/** Runs `task` while watching the event loop: a 100 ms timer's worst lateness and perf_hooks' delay histogram, ms. */
async function loopWhile(task: () => Promise<unknown>): Promise<{ late: number; p99Ms: number; maxMs: number }> {
  const delay = monitorEventLoopDelay({ resolution: 10 })
  let late = 0
  let expected = performance.now() + 100
  const timer = setInterval(() => {
    const now = performance.now()
    late = Math.max(late, now - expected)
    expected = now + 100
  }, 100)
  delay.enable()
  try {
    await task()
  } finally {
    delay.disable()
    clearInterval(timer)
  }
  return { late, p99Ms: delay.percentile(99) / 1e6, maxMs: delay.max / 1e6 }
}

/** A daily tide between about 200 and 1,800 req/s with a wobble, at `atMs`. */
function demandAt(atMs: number): number {
  return 1000 - 800 * Math.cos((2 * Math.PI * (atMs % DAY_MS)) / DAY_MS) + 50 * Math.sin(atMs / 370_000)
}

export async function run(): Promise<Table[]> {
  const dir = mkdtempSync(join(tmpdir(), 'tide-bench-replay-'))
  const store = SqliteStore.open(join(dir, 'tide.db'))
  try {
    // 14 days: one reading a minute up to the last hour (the minute tier is all that is kept of it), then one per 15 s.
    for (let t = NOW - 14 * DAY_MS; t < NOW - 3_600_000; t += 60_000) store.recordMetric('web', 'rps', t, demandAt(t))
    for (let t = NOW - 3_600_000; t < NOW; t += 15_000) store.recordMetric('web', 'rps', t, demandAt(t))
    const params = resolveSimulationParams({ instanceRps: 50 })
    const current = defaultGroupSpec(params, { group: 'web' })
    const proposed = defaultGroupSpec(params, { group: 'web', slo: { latencyP95Ms: 200, budgetPercent: 0.5, instanceRps: 50, headroom: { mode: 'fixed', percent: 30 } } })
    const rows: (string | number)[][] = []
    // The event loop with no replay, for comparison: what the machine's load alone does to it.
    {
      const idle = await loopWhile(() => new Promise((resolve) => setTimeout(resolve, 3000)))
      rows.push(['no replay (3 s)', '', '', '3.00', '', fmt(idle.late, 0), fmt(idle.p99Ms, 1), fmt(idle.maxMs, 1), '', ''])
    }
    for (const days of [1, 7, 14]) {
      const started = performance.now()
      const cpuStart = process.cpuUsage()
      let r: Awaited<ReturnType<typeof runReplay>> | undefined
      const loop = await loopWhile(async () => {
        r = await runReplay(store, { current, proposed, fromMs: NOW - days * DAY_MS, toMs: NOW, nowMs: NOW })
      })
      const wall = (performance.now() - started) / 1000
      const cpu = process.cpuUsage(cpuStart)
      if (r === undefined) throw new Error('bench: the replay answered nothing')
      rows.push([days, r.demandPoints, r.model.tickSeconds, fmt(wall, 2), fmt((cpu.user + cpu.system) / 1e6, 2), fmt(loop.late, 0), fmt(loop.p99Ms, 1), fmt(loop.maxMs, 1), `${fmt(r.current.costInstanceHours, 0)} → ${fmt(r.proposed.costInstanceHours, 0)}`, `${fmt(r.current.sloViolatedPercent, 2)} → ${fmt(r.proposed.sloViolatedPercent, 2)}`])
    }
    return [
      {
        title: 'Replay before rollout: two runs of the default group on recorded demand, and the event loop meanwhile',
        columns: ['days', 'demand points', 'step s', 'wall s', 'cpu s', 'timer late, max ms', 'loop delay p99 ms', 'loop delay max ms', 'instance-hours', 'SLO violated %'],
        rows,
        notes: [
          'The replay gives the event loop a turn every 10 ms of wall-clock time (REPLAY_YIELD_EVERY_MS), so the control loop and the API keep answering while it runs; windows over a day run in 5 s steps (the controller still decides every 15 s of simulated time).',
          'The machine is shared (2 cores); figures vary by ±30 % from run to run, and wall time exceeds cpu time when other work holds the cores.',
        ],
      },
    ]
  } finally {
    store.close()
    rmSync(dir, { recursive: true, force: true })
  }
}
