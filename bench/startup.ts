/**
 * How fast a `tide` command answers (issue 11: a read command as fast as kubectl's, goal ≤ 0.15 s):
 * `tide --version` and `tide status --help`, each run as a new process, from the compiled build
 * (dist/, made by `npm ci`'s prepare script) beside the same command through tsx
 * (TIDE_FROM_SOURCE=1). Wall time of the whole process, median of several runs.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { fmt, type Table } from './table.ts'

const ROOT = fileURLToPath(new URL('../', import.meta.url))
const BIN = `${ROOT}bin/tide.js`
const RUNS = 7
const GOAL_S = 0.15

/** Median wall seconds of RUNS runs of `node …argv`. */
function timed(argv: readonly string[], fromSource = false): number {
  const times: number[] = []
  for (let i = 0; i < RUNS; i++) {
    const started = performance.now()
    const r = spawnSync(process.execPath, argv, { env: { ...process.env, TIDE_FROM_SOURCE: fromSource ? '1' : '' }, stdio: 'ignore', timeout: 30_000 })
    if (r.status !== 0) throw new Error(`node ${argv.join(' ')} exited ${r.status ?? r.signal}`)
    times.push((performance.now() - started) / 1000)
  }
  times.sort((a, b) => a - b)
  return times[times.length >> 1] ?? Number.NaN
}

/** Brings dist/ up to date with src/ (incremental), as `npm ci` would have, so the compiled rows measure the build. */
function ensureBuild(): void {
  execFileSync(process.execPath, [`${ROOT}scripts/build.mjs`], { cwd: ROOT, stdio: 'ignore' })
  if (!existsSync(`${ROOT}dist/.build-stamp`)) throw new Error('scripts/build.mjs made no build (is typescript installed?)')
}

export function run(): Promise<Table[]> {
  ensureBuild()
  const bare = timed(['-e', ''])
  const rows: (string | number)[][] = []
  const notes: string[] = []
  for (const args of [['--version'], ['status', '--help']]) {
    const built = timed([BIN, ...args])
    const source = timed([BIN, ...args], true)
    rows.push([`tide ${args.join(' ')}`, `${fmt(built, 3)} s`, `${fmt(source, 3)} s`, `${fmt(source / built)}x`, `${fmt(bare, 3)} s`])
    notes.push(`tide ${args.join(' ')}: ${fmt(built, 3)} s from the build (goal ≤ ${GOAL_S} s: ${built <= GOAL_S ? 'met' : 'NOT met'}); node itself starts in ${fmt(bare, 3)} s on this machine.`)
  }
  return Promise.resolve([
    {
      title: `Command start-up, median wall time of ${RUNS} runs`,
      columns: ['command', 'compiled (dist/)', 'through tsx', 'tsx ÷ compiled', 'node -e ""'],
      rows,
      notes,
    },
  ])
}
