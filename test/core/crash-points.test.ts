import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { CRASH_POINTS, parseCrashAt } from '../../src/core/crash-points.ts'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))

test('TIDE_CRASH_AT: a known point, optionally #n; anything else is refused naming the variable', () => {
  const cases: { value: string | undefined; want: ReturnType<typeof parseCrashAt> | RegExp }[] = [
    { value: undefined, want: undefined },
    { value: '  ', want: undefined },
    { value: 'scale-out:launched', want: { name: 'scale-out:launched', pass: 1 } },
    { value: 'scale-in:backup-running#3', want: { name: 'scale-in:backup-running', pass: 3 } },
    { value: 'scale-out:lunched', want: /TIDE_CRASH_AT: unknown crash point "scale-out:lunched"/ },
    { value: 'scale-out:launched#0', want: /TIDE_CRASH_AT: .* whole number ≥ 1/ },
    { value: 'scale-out:launched#1.5', want: /whole number/ },
    { value: 'scale-out:launched#2#3', want: /whole number/ },
  ]
  for (const c of cases) {
    if (c.want instanceof RegExp) assert.throws(() => parseCrashAt(c.value), c.want, String(c.value))
    else assert.deepEqual(parseCrashAt(c.value), c.want, String(c.value))
  }
})

/** Runs a child that passes `point` three times, printing after each pass, with TIDE_CRASH_AT set to `at`. */
function passThrice(at: string | undefined): { status: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string } {
  const script = `import { crashPoint } from './src/core/crash-points.ts'\nfor (let i = 1; i <= 3; i++) { crashPoint('scale-out:launched'); crashPoint('scale-in:terminated'); process.stdout.write('pass ' + i + '\\n') }`
  const env = { ...process.env }
  delete env.TIDE_CRASH_AT
  if (at !== undefined) env.TIDE_CRASH_AT = at
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT, env, encoding: 'utf8', timeout: 30_000 })
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr }
}

test('crashPoint kills the process with SIGKILL on the asked pass of the named point, and does nothing otherwise', () => {
  const none = passThrice(undefined)
  assert.equal(none.status, 0)
  assert.equal(none.stdout, 'pass 1\npass 2\npass 3\n')
  const second = passThrice('scale-out:launched#2')
  assert.equal(second.signal, 'SIGKILL')
  assert.equal(second.stdout, 'pass 1\n', 'killed on the second pass, before the second line')
  assert.match(second.stderr, /tide: crash point scale-out:launched#2 reached \(TIDE_CRASH_AT\): SIGKILL/)
  const typo = passThrice('nowhere')
  assert.notEqual(typo.status, 0, 'a typo fails loudly at start-up')
  assert.match(typo.stderr, /unknown crash point "nowhere"/)
})

test('docs/chaos.md lists every crash point', () => {
  const doc = readFileSync(new URL('../../docs/chaos.md', import.meta.url), 'utf8')
  for (const name of Object.keys(CRASH_POINTS)) assert.ok(doc.includes(`\`${name}\``), `docs/chaos.md names ${name}`)
})
