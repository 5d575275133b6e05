// The real `tide` command, spawned as a child process with argv arrays (no shell).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseTrace } from '../../src/core/trace.ts'

const bin = fileURLToPath(new URL('../../bin/tide.js', import.meta.url))
const dir = mkdtempSync(join(tmpdir(), 'tide-cli-'))

function tide(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...argv], { env: { ...process.env, TIDE_DEBUG: '' }, timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1
      resolve({ code, stdout, stderr })
    })
  })
}

test('validate prints the groups of a good file and exits 0', async () => {
  const file = join(dir, 'good.yaml')
  writeFileSync(file, 'group: shop-web\nprovider: sim\nreplicas: { min: 2, max: 20 }\nmetrics:\n  - { type: cpu, target: { averageUtilization: 60 } }\n')
  const r = await tide(['validate', '-c', file])
  assert.equal(r.code, 0, r.stderr)
  assert.match(r.stdout, /valid, 1 group\n {2}shop-web: provider sim, replicas 2\.\.20/)
  assert.match(r.stdout, /metrics: cpu 60%/)
})

test('validate lists every error of a bad file with lines and exits 1', async () => {
  const file = join(dir, 'bad.yaml')
  writeFileSync(file, 'group: shop-web\nprovider: sim\nreplcas: { min: 2 }\nsyncPeriodSeconds: -5\n')
  const r = await tide(['validate', '-c', file])
  assert.equal(r.code, 1)
  assert.equal(r.stdout, '')
  assert.equal(
    r.stderr,
    `tide: 2 errors in ${file}:\n  ${file}:3:1: replcas: unknown field "replcas"; did you mean "replicas"?\n  ${file}:4:20: syncPeriodSeconds: must be > 0, got -5\n`,
  )
})

test('a bad flag is a usage error: exit 2 and the flag named', async () => {
  const r = await tide(['validate', '--config'])
  assert.equal(r.code, 2)
  assert.match(r.stderr, /^tide: --config needs a value/)
  const missing = await tide(['validate', '-c', join(dir, 'absent.yaml')])
  assert.equal(missing.code, 2)
  assert.match(missing.stderr, /^tide: --config: no such file: /)
})

test('trace from-access-log writes a trace that parses, and reports skipped lines', async () => {
  const log = join(dir, 'access.log')
  const out = join(dir, 'trace.csv')
  const at = (s: number): string => `10.0.0.1 - - [11/Nov/2026:12:00:0${s} +0800] "GET / HTTP/1.1" 200 5 "-" "curl/8"`
  writeFileSync(log, [at(0), at(0), 'not a log line', at(2)].join('\n') + '\n')
  const strict = await tide(['trace', 'from-access-log', log])
  assert.equal(strict.code, 1)
  assert.match(strict.stderr, new RegExp(`^tide: ${log.replace(/[.]/g, '\\.')}:3: not a common or combined log line`))
  const r = await tide(['trace', 'from-access-log', log, '--skip-bad', '--out', out])
  assert.equal(r.code, 0, r.stderr)
  assert.match(r.stderr, /3 requests from 2026-11-11T04:00:00\.000Z, 3 rows of 1 s .*skipped 1 malformed line \(first at line 3\)/)
  const trace = parseTrace(readFileSync(out, 'utf8'), out)
  assert.deepEqual([...trace.rps], [2, 0, 1])
})

test('trace info summarises a trace, and reports a bad row with its line', async () => {
  const good = join(dir, 'good.csv')
  writeFileSync(good, 'seconds,rps\n0,5\n10,20\n20,2\n')
  const r = await tide(['trace', 'info', good, '--json'])
  assert.equal(r.code, 0, r.stderr)
  const summary = JSON.parse(r.stdout) as { rows: number; totalRequests: number }
  assert.equal(summary.rows, 3)
  assert.equal(summary.totalRequests, 270) // 5×10 + 20×10 + 2×10
  const bad = join(dir, 'bad.csv')
  writeFileSync(bad, 'seconds,rps\n0,5\n10,-1\n')
  const b = await tide(['trace', 'info', bad])
  assert.equal(b.code, 1)
  assert.equal(b.stderr, `tide: ${bad}:3: negative rate -1\n`)
})

test('import prints a tide.yaml that validate accepts', async () => {
  const hpa = join(dir, 'hpa.yaml')
  writeFileSync(hpa, 'apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: { name: web }\nspec:\n  maxReplicas: 5\n  metrics:\n  - type: Resource\n    resource: { name: cpu, target: { type: Utilization, averageUtilization: 50 } }\n')
  const converted = join(dir, 'tide.yaml')
  const r = await tide(['import', hpa, '-o', converted])
  assert.equal(r.code, 0, r.stderr)
  assert.match(r.stderr, /converted 1 HorizontalPodAutoscaler \(web\)/)
  const v = await tide(['validate', '-c', converted])
  assert.equal(v.code, 0, v.stderr)
  assert.match(v.stdout, /web: provider kubernetes, replicas 1\.\.5/)
})

test('tide --version prints package.json\'s version; tide alone prints the help to stdout and exits 0', async () => {
  const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
  assert.deepEqual(await tide(['--version']), { code: 0, stdout: `${version}\n`, stderr: '' })
  const bare = await tide([])
  assert.equal(bare.code, 0)
  assert.equal(bare.stderr, '')
  assert.match(bare.stdout, /^Usage: tide <command> \[flags\]\n\nCommands:\n/)
})

/** The command names a program's or group's help lists. */
function listed(help: string): string[] {
  return [...(help.split('\nCommands:\n')[1]?.split('\n\n')[0] ?? '').matchAll(/^ {2}([a-z-]+) {2,}/gm)].map((m) => m[1] ?? '')
}

/** `tide …path --help` of `paths`, four processes at a time (a loaded machine runs all of them at once too slowly). */
async function helpsOf(paths: readonly (readonly string[])[]): Promise<{ path: readonly string[]; code: number; stdout: string; stderr: string }[]> {
  const out: { path: readonly string[]; code: number; stdout: string; stderr: string }[] = []
  for (let i = 0; i < paths.length; i += 4) out.push(...(await Promise.all(paths.slice(i, i + 4).map(async (path) => ({ path, ...(await tide([...path, '--help'])) })))))
  return out
}

let helps: ReturnType<typeof helpsOf> | undefined

/** The help of every command, a group's subcommands instead of the group (found from the helps, not a list); spawned once for the tests below. */
function everyHelp(): ReturnType<typeof helpsOf> {
  helps ??= (async () => {
    const top = await helpsOf(listed((await tide(['--help'])).stdout).map((name) => [name]))
    const isGroup = (h: { path: readonly string[]; stdout: string }): boolean => h.stdout.startsWith(`Usage: tide ${h.path.join(' ')} <command>`)
    const subs = await helpsOf(top.filter(isGroup).flatMap((g) => listed(g.stdout).map((sub) => [...g.path, sub])))
    return [...top.filter((h) => !isGroup(h)), ...subs]
  })()
  return helps
}

test('every command\'s --help ends with examples of that command', async () => {
  const all = await everyHelp()
  assert.ok(all.length >= 9, all.map((h) => h.path.join(' ')).join(', '))
  assert.ok(all.some((h) => h.path.join(' ') === 'trace info') && all.some((h) => h.path.join(' ') === 'token rotate'), 'the groups\' subcommands are there')
  for (const h of all) {
    const path = h.path.join(' ')
    assert.equal(h.code, 0, `tide ${path} --help: ${h.stderr}`)
    const examples = h.stdout.split('\nExamples:\n')[1] ?? ''
    const lines = examples.trimEnd().split('\n').filter((_, n) => n % 2 === 0)
    assert.ok(lines.length >= 2, `tide ${path} --help has examples`)
    for (const l of lines) assert.ok(l.startsWith(`  tide ${path} `) || l.startsWith(`  tide ${path}\n`) || l === `  tide ${path}`, `an example of tide ${path}: ${l}`)
  }
})

test('README\'s command table and docs/cli.md name every command of tide --help, and docs/cli.md every flag', async () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8')
  const table = (readme.split('\n## Commands\n')[1] ?? '').trimStart().split('\n\n')[0] ?? ''
  const cliDoc = readFileSync(new URL('../../docs/cli.md', import.meta.url), 'utf8')
  for (const h of await everyHelp()) {
    const path = h.path.join(' ')
    assert.ok(table.includes(`\`tide ${path}`) || table.includes(`/ \`tide ${path} `), `README's command table has tide ${path}`)
    assert.ok(cliDoc.includes(`\n### tide ${path}\n`), `docs/cli.md has tide ${path} (npm run docs:cli)`)
    const section = cliDoc.split(`\n### tide ${path}\n`)[1]?.split('\n### ')[0] ?? ''
    for (const flag of h.stdout.matchAll(/^ {2}(?:-\w, | {4})(--[a-z-]+)/gm)) {
      assert.ok(section.includes(flag[1] ?? ''), `docs/cli.md's tide ${path} has ${flag[1] ?? ''} (npm run docs:cli)`)
    }
  }
})
