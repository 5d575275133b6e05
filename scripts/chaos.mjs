// `npm run chaos`: issue 13's chaos suite. Runs every test/chaos/**/*.chaos.ts one file at a time
// (they kill processes and measure recovery; running them side by side would measure the machine),
// bounded as a whole, then prints the figures the scenarios recorded (test/chaos/tally.ts).
// Exit status: the test run's (1 when a scenario failed or the bound was hit).
// Loopback only: every scenario sends its traffic to 127.0.0.1.
import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { clearTimeout, setTimeout } from 'node:timers'

const ROOT = fileURLToPath(new URL('../', import.meta.url))
const BOUND_MS = Number(process.env.TIDE_CHAOS_BOUND_MS ?? 15 * 60_000)
const TALLY = join(ROOT, 'test-artifacts/chaos/tally.jsonl')

function chaosFiles(dir) {
  const out = []
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name)
    if (e.isDirectory()) out.push(...chaosFiles(p))
    else if (e.name.endsWith('.chaos.ts')) out.push(p)
  }
  return out.sort()
}

const files = chaosFiles(join(ROOT, 'test/chaos'))
if (files.length === 0) {
  console.error('chaos: no test/chaos/**/*.chaos.ts file')
  process.exit(1)
}
mkdirSync(join(ROOT, 'test-artifacts/chaos'), { recursive: true })
rmSync(TALLY, { force: true })

const started = Date.now()
const child = spawn(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=1', '--test-reporter=spec', '--test-timeout=300000', '--test-force-exit', ...files], {
  cwd: ROOT,
  stdio: 'inherit',
  env: { ...process.env, TIDE_CHAOS_TALLY: TALLY },
})
const bound = setTimeout(() => {
  console.error(`chaos: the suite passed its bound of ${BOUND_MS / 1000} s; stopping it`)
  child.kill('SIGKILL')
}, BOUND_MS)
const status = await new Promise((resolve) => child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0))))
clearTimeout(bound)

const records = existsSync(TALLY)
  ? readFileSync(TALLY, 'utf8').split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l))
  : []
const sum = (k) => records.reduce((a, r) => a + (r[k] ?? 0), 0)
console.log(`\n== chaos figures (${records.length} scenarios, ${((Date.now() - started) / 1000).toFixed(0)} s)`)
console.log('| scenario | faults | requests sent | failed | recovery ms | note |')
console.log('|---|---|---|---|---|---|')
for (const r of records) {
  const rec = r.recoveryMs?.length ? r.recoveryMs.map((x) => Math.round(x)).join(', ') : ''
  console.log(`| ${r.scenario} | ${r.faults} | ${r.requestsSent} | ${r.requestsFailed} | ${rec} | ${[r.note, ...(r.found ?? []).map((f) => `found: ${f}`)].filter(Boolean).join('; ')} |`)
}
console.log(`| **total** | ${sum('faults')} | ${sum('requestsSent')} | ${sum('requestsFailed')} | | |`)
process.exit(status)
