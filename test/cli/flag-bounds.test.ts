// Every numeric flag of every command has a documented upper bound (FlagSpec.max, shown in
// --help), and the attacker's 1e308 of issue 13 is a usage error naming the flag, not a crash
// or a hang. `tide load` stops promptly on SIGTERM and SIGINT.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import { parseCommandArgs, type Command, type CommandGroup, type CommandTable, type FlagSpec } from '../../src/cli/args.ts'
import { commands, runTide } from '../support/run-tide.ts'

const NUMERIC = new Set(['positive-number', 'positive-int', 'non-negative-number'])

/** Every command of a table with its path (`trace from-access-log`), subcommands included. */
async function allCommands(table: CommandTable, prefix = ''): Promise<{ path: string; command: Command }[]> {
  const out: { path: string; command: Command }[] = []
  for (const [name, entry] of Object.entries(table)) {
    const resolved: Command | CommandGroup = typeof entry === 'function' ? (await (entry)()).command : entry
    const path = `${prefix}${name}`
    if ('subcommands' in resolved) out.push(...(await allCommands(resolved.subcommands, `${path} `)))
    else out.push({ path, command: resolved })
  }
  return out
}

/** A valid value for a required flag other than the one under test. */
function requiredValue(f: FlagSpec): string {
  if (f.kind === 'file') return fileURLToPath(import.meta.url)
  if (f.kind === 'output') return '/tmp/out'
  if (NUMERIC.has(f.kind)) return '1'
  return f.choices?.[0] ?? 'x'
}

test('every numeric flag of every command has an upper bound, shown in its help', async () => {
  const all = await allCommands(commands)
  assert.ok(all.length >= 15, `${all.length} commands`)
  let numeric = 0
  for (const { path, command } of all) {
    for (const [name, spec] of Object.entries(command.flags)) {
      if (!NUMERIC.has(spec.kind)) continue
      numeric++
      assert.ok(spec.max !== undefined && Number.isFinite(spec.max), `tide ${path} --${name} has no max`)
      const help = await runTide([...path.split(' '), '--help'])
      assert.match(help.stdout, new RegExp(`--${name} .*at most ${spec.max}`), `tide ${path} --help shows --${name}'s bound`)
      // 1e308 is refused as a usage error naming the flag (the other required flags given), and the bound itself is taken.
      const positionals = Array.from({ length: command.positionals?.min ?? 0 }, () => (command.positionals?.kind === 'file' ? fileURLToPath(import.meta.url) : (command.positionals?.choices?.[0] ?? 'x')))
      const others = [...positionals, ...Object.entries(command.flags).flatMap(([n, f]) => (n === name || f.required !== true ? [] : [`--${n}`, requiredValue(f)]))]
      assert.throws(
        () => parseCommandArgs(command, `tide ${path}`, [...others, `--${name}`, '1e308']),
        (err: Error & { code?: string }) => err.code === 'TIDE_ERR_USAGE' && err.message === `--${name}: must be at most ${spec.max}, got 1e308`,
        `tide ${path} --${name} 1e308`,
      )
      assert.equal(parseCommandArgs(command, `tide ${path}`, [...others, `--${name}`, String(spec.max)]).number(name), spec.max)
    }
  }
  assert.ok(numeric >= 15, `${numeric} numeric flags`)
})

test('tide simulate --instance-rps 1e308 and tide load --peak-rps 1e308 are usage errors', async () => {
  const sim = await runTide(['simulate', '--trace', fileURLToPath(new URL('../../bench/traces/flash-sale.csv', import.meta.url)), '--instance-rps', '1e308'])
  assert.equal(sim.status, 2)
  assert.match(sim.stderr, /^tide: --instance-rps: must be at most 1000000000, got 1e308\n\(see 'tide simulate --help'\)/)
  const load = await runTide(['load', '--url', 'http://127.0.0.1:9/', '--peak-rps', '1e308'])
  assert.equal(load.status, 2)
  assert.match(load.stderr, /^tide: --peak-rps: must be at most 100000, got 1e308/)
})

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  test(`tide load stops within seconds on ${signal} and prints its summary`, { timeout: 60_000 }, async (t) => {
    const server = createServer((_req, res) => res.writeHead(200).end('ok'))
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    t.after(() => server.close())
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`
    const bin = fileURLToPath(new URL('../../bin/tide.js', import.meta.url))
    const child = spawn(process.execPath, [bin, 'load', '--url', url, '--duration', '600', '--peak-rps', '100000', '--base-rps', '100000', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] })
    t.after(() => child.kill('SIGKILL'))
    let stdout = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    // Wait until it sends (the server sees requests), then signal it.
    await new Promise<void>((resolve, reject) => {
      const deadline = setTimeout(() => { reject(new Error('tide load never sent a request')); }, 30_000)
      server.once('request', () => {
        clearTimeout(deadline)
        resolve()
      })
    })
    const signalledAt = performance.now()
    child.kill(signal)
    const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => { resolve(c); }))
    assert.ok(performance.now() - signalledAt < 15_000, 'exited soon after the signal')
    assert.notEqual(code, null, 'exited by itself, not killed')
    const summary = JSON.parse(stdout) as { totalRequests: number }
    assert.ok(summary.totalRequests > 0)
  })
}
