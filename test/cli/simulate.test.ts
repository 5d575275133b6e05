import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { TICKS_CSV_HEADER } from '../../src/simulator/report.ts'

const run = promisify(execFile)
const bin = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'tide.js')

/** Runs `tide ARGS` as a real process; resolves with the exit code and output, never rejects on a non-zero exit. */
async function tide(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [bin, ...args], { timeout: 60_000 })
    return { code: 0, stdout, stderr }
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string }
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' }
  }
}

const dir = mkdtempSync(join(tmpdir(), 'tide-simulate-cli-'))
const tracePath = join(dir, 'surge.csv')
// 10 minutes: 150 req/s, a surge to 450 from 60 s to 360 s.
writeFileSync(tracePath, ['seconds,rps', ...Array.from({ length: 10 }, (_, i) => `${i * 60},${i >= 1 && i < 6 ? 450 : 150}`)].join('\n') + '\n')
const configPath = join(dir, 'tide.yaml')
writeFileSync(configPath, 'group: shop\nprovider: sim\nreplicas: { min: 1, max: 3 }\nmetrics: [{ type: cpu, target: { averageUtilization: 70 } }]\nsimulation: { instanceRps: 50 }\n')

const contractKeys = [
  'policy', 'durationSeconds', 'instanceHours', 'oracleInstanceHours', 'sloViolationSeconds', 'sloViolationRatio',
  'totalRequests', 'failedRequests', 'scaleOutActions', 'scaleInActions', 'instanceCapacityRps',
] as const

test('--json prints exactly one JSON object with the contract fields', async () => {
  const r = await tide('simulate', '--trace', tracePath, '--policy', 'hpa', '--json')
  assert.equal(r.code, 0, r.stderr)
  const out = JSON.parse(r.stdout) as Record<string, unknown>
  for (const key of contractKeys) assert.ok(key in out, `missing ${key}`)
  assert.equal(out.policy, 'hpa')
  assert.equal(out.durationSeconds, 600)
  assert.equal(out.instanceCapacityRps, 100) // the default
  assert.equal(typeof out.instanceHours, 'number')
})

test('flags override the config, which overrides the defaults', async () => {
  const fromConfig = JSON.parse((await tide('simulate', '--trace', tracePath, '-c', configPath, '--json')).stdout) as Record<string, unknown>
  assert.equal(fromConfig.instanceCapacityRps, 50)
  assert.equal(fromConfig.group, 'shop')
  assert.ok((fromConfig.maxInstances as number) <= 3, 'the config max holds')
  const flagged = JSON.parse(
    (await tide('simulate', '--trace', tracePath, '-c', configPath, '--instance-rps', '75', '--startup-seconds', '10', '--slo-p95-ms', '300', '--tick-seconds', '2', '--json')).stdout,
  ) as Record<string, unknown>
  assert.equal(flagged.instanceCapacityRps, 75)
  assert.equal(flagged.startupSeconds, 10)
  assert.equal(flagged.sloP95Ms, 300)
  assert.equal(flagged.tickSeconds, 2)
})

test('--out writes ticks.csv with one row per step and chart.svg; the summary is readable text', async () => {
  const out = join(dir, 'out')
  const r = await tide('simulate', '--trace', tracePath, '--policy', 'oracle', '--tick-seconds', '5', '--out', out)
  assert.equal(r.code, 0, r.stderr)
  assert.match(r.stdout, /policy oracle/)
  assert.match(r.stdout, /instance-hours/)
  const lines = readFileSync(join(out, 'ticks.csv'), 'utf8').trimEnd().split('\n')
  assert.equal(lines[0], TICKS_CSV_HEADER)
  assert.equal(lines.length - 1, 600 / 5)
  assert.ok(existsSync(join(out, 'chart.svg')))
  assert.match(readFileSync(join(out, 'chart.svg'), 'utf8'), /^<svg/)
})

const bad = [
  { name: 'missing --trace', args: [], message: /--trace/ },
  { name: 'unknown policy', args: ['--trace', tracePath, '--policy', 'magic'], message: /--policy/ },
  { name: 'zero instance-rps', args: ['--trace', tracePath, '--instance-rps', '0'], message: /--instance-rps/ },
  { name: 'negative startup', args: ['--trace', tracePath, '--startup-seconds', '-5'], message: /--startup-seconds/ },
  { name: 'non-numeric tick', args: ['--trace', tracePath, '--tick-seconds', 'fast'], message: /--tick-seconds/ },
  { name: 'a tick so small the run would never end', args: ['--trace', tracePath, '--tick-seconds', '0.00001'], message: /--tick-seconds/ },
  { name: 'missing trace file', args: ['--trace', join(dir, 'nope.csv')], message: /nope\.csv/ },
] as const
for (const c of bad) {
  test(`usage error: ${c.name} (exit 2, the flag named)`, async () => {
    const r = await tide('simulate', ...c.args)
    assert.equal(r.code, 2)
    assert.match(r.stderr, c.message)
    assert.equal(r.stdout, '')
  })
}

test('a malformed trace fails with its line (exit 1)', async () => {
  const badTrace = join(dir, 'bad.csv')
  writeFileSync(badTrace, 'seconds,rps\n0,10\n5,-1\n')
  const r = await tide('simulate', '--trace', badTrace, '--json')
  assert.equal(r.code, 1)
  assert.match(r.stderr, /bad\.csv:3/)
  assert.equal(r.stdout, '')
})

test.after(() => {
  rmSync(dir, { recursive: true, force: true })
})

test('--policy predictive and mixed run from the command line; --history is read and its bad rows name the line', async () => {
  const historyPath = join(dir, 'history.csv')
  writeFileSync(historyPath, ['seconds,rps', ...Array.from({ length: 100 }, (_, i) => `${i * 60},150`)].join('\n') + '\n')
  const p = await tide('simulate', '--trace', tracePath, '--policy', 'predictive', '--history', historyPath, '--json')
  assert.equal(p.code, 0, p.stderr)
  const out = JSON.parse(p.stdout) as { policy: string; forecast?: { fullFits: number }; costHours: number }
  assert.equal(out.policy, 'predictive')
  assert.equal(out.forecast?.fullFits, 0, '100 minutes of history is too little to fit')
  const m = await tide('simulate', '--trace', tracePath, '--policy', 'mixed')
  assert.equal(m.code, 0, m.stderr)
  assert.match(m.stdout, /policy mixed/)
  const bad = join(dir, 'bad-history.csv')
  writeFileSync(bad, 'seconds,rps\n0,150\n60,-3\n')
  const b = await tide('simulate', '--trace', tracePath, '--policy', 'predictive', '--history', bad)
  assert.equal(b.code, 1)
  assert.match(b.stderr, /bad-history\.csv.*3/)
})
