/**
 * How fast a `tide` command answers (issue 11: a read command as fast as kubectl's, goal ≤ 0.15 s):
 * `tide --version`, `tide status --help`, and `tide status` answered by a running `tide up`'s API
 * (one small local group, started by the bench), each run as a new process, from the compiled build
 * (dist/, made by `npm ci`'s prepare script) beside the same command through tsx
 * (TIDE_FROM_SOURCE=1). Wall time of the whole process, median of several runs.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
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

/** The smallest instance: node:http on $PORT answering 200 (health checks included). */
const INSTANCE = "require('node:http').createServer((q, s) => s.end('ok')).listen(Number(process.env.PORT), '127.0.0.1')"

/**
 * A real `tide up` (the compiled build) with one local group of one instance, its API on a free
 * port; resolves with the API's URL once the instance serves, and a stop that waits for its exit
 * (bounded: 60 s to start, 30 s to stop, then SIGKILL).
 */
async function runningTide(): Promise<{ url: string; stop: () => Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'tide-bench-startup-'))
  const config = join(dir, 'tide.yaml')
  writeFileSync(
    config,
    [
      `store: { path: ${JSON.stringify(join(dir, 'tide.db'))} }`,
      '---',
      'group: web',
      `launch: { command: [${JSON.stringify(process.execPath)}, -e, ${JSON.stringify(INSTANCE)}] }`,
      'replicas: { min: 1, max: 1 }',
      'routing: { listen: 0 }',
    ].join('\n'),
  )
  const child = spawn(process.execPath, [BIN, 'up', '-c', config, '--state-dir', join(dir, 'state'), '--api-listen', '0', '--heartbeat', '0'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TIDE_FROM_SOURCE: '' } })
  const exited = new Promise<void>((resolve) => child.once('exit', () => { resolve(); }))
  const stop = async (): Promise<void> => {
    child.kill('SIGINT')
    const killer = setTimeout(() => child.kill('SIGKILL'), 30_000)
    await exited
    clearTimeout(killer)
    rmSync(dir, { recursive: true, force: true })
  }
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let out = ''
      let api: string | undefined
      const timer = setTimeout(() => { reject(new Error(`tide up did not serve within 60 s: ${out.slice(-500)}`)); }, 60_000)
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        out += chunk
        api ??= /^API: (http:\/\/\S+)/m.exec(out)?.[1]
        if (api !== undefined && / web instance-ready: /.test(out)) {
          clearTimeout(timer)
          resolve(api)
        }
      })
      void exited.then(() => { reject(new Error(`tide up exited: ${out.slice(-500)}`)); })
    })
    return { url, stop }
  } catch (err) {
    await stop()
    throw err
  }
}

export async function run(): Promise<Table[]> {
  ensureBuild()
  const bare = timed(['-e', ''])
  const rows: (string | number)[][] = []
  const notes: string[] = []
  const tide = await runningTide()
  const commands = [['--version'], ['status', '--help'], ['status', '--api', tide.url]]
  try {
    measure(commands, bare, rows, notes)
  } finally {
    await tide.stop()
  }
  return [
    {
      title: `Command start-up, median wall time of ${RUNS} runs`,
      columns: ['command', 'compiled (dist/)', 'through tsx', 'tsx ÷ compiled', 'node -e ""'],
      rows,
      notes,
    },
  ]
}

/** Times each command line, from the build and through tsx, into `rows` and `notes`. */
function measure(commands: readonly (readonly string[])[], bare: number, rows: (string | number)[][], notes: string[]): void {
  for (const args of commands) {
    const built = timed([BIN, ...args])
    const source = timed([BIN, ...args], true)
    const name = `tide ${args.join(' ').replace(/--api \S+/, '--api URL')}`
    rows.push([name, `${fmt(built, 3)} s`, `${fmt(source, 3)} s`, `${fmt(source / built)}x`, `${fmt(bare, 3)} s`])
    notes.push(`${name}: ${fmt(built, 3)} s from the build (goal ≤ ${GOAL_S} s: ${built <= GOAL_S ? 'met' : 'NOT met'}); node itself starts in ${fmt(bare, 3)} s on this machine.`)
  }
}
