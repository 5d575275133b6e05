/**
 * Fuzzing every command's command line with fast-check, in-process through the real command
 * table: random argv built from each command's own flags (with values of every kind: huge,
 * negative, NaN, binary, empty, paths of good, bad and special files) and random words.
 * - Every command: the flag layer (parseCommandArgs) accepts the line or throws a usage error
 *   (TIDE_ERR_USAGE) naming what is wrong; never another exception.
 * - Commands that only read files and print (validate, import, trace info, trace from-access-log,
 *   simulate on a tiny trace): run whole; each exits 0, 1 (a TIDE_ERR_* message) or 2 (usage),
 *   never an internal error or a stack trace, in bounded time. Commands that start processes,
 *   servers or load (up, demo, load, the API clients, backup, restore) are fuzzed at the flag layer only.
 * Fixed seeds.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { parseCommandArgs, type Command, type CommandGroup, type CommandTable } from '../../src/cli/args.ts'
import { isTideError } from '../../src/errors.ts'
import { commands, runTide } from '../support/run-tide.ts'

const SEED = 1316

async function allCommands(table: CommandTable, prefix: string[] = []): Promise<{ path: string[]; command: Command }[]> {
  const out: { path: string[]; command: Command }[] = []
  for (const [name, entry] of Object.entries(table)) {
    const resolved: Command | CommandGroup = typeof entry === 'function' ? (await entry()).command : entry
    if ('subcommands' in resolved) out.push(...(await allCommands(resolved.subcommands, [...prefix, name])))
    else out.push({ path: [...prefix, name], command: resolved })
  }
  return out
}

const dir = mkdtempSync(join(tmpdir(), 'tide-argfuzz-'))
const files = {
  trace: join(dir, 'trace.csv'),
  badTrace: join(dir, 'bad.csv'),
  config: join(dir, 'tide.yaml'),
  badConfig: join(dir, 'bad.yaml'),
  log: join(dir, 'access.log'),
  binary: join(dir, 'binary.bin'),
  empty: join(dir, 'empty'),
  fifo: join(dir, 'fifo'),
}
writeFileSync(files.trace, 'seconds,rps\n0,10\n60,20\n120,5\n')
writeFileSync(files.badTrace, 'seconds,rps\n0,10\n0,x\n')
writeFileSync(files.config, 'group: web\nprovider: sim\nmetrics: [{ type: cpu, target: { averageUtilization: 60 } }]\n')
writeFileSync(files.badConfig, 'group: web\nprovider: sim\nreplicas: { max: 1e308 }\n')
writeFileSync(files.log, '127.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.0" 200 2326\n')
writeFileSync(files.binary, Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256)))
writeFileSync(files.empty, '')
execFileSync('mkfifo', [files.fifo])

const values = fc.oneof(
  fc.constantFrom('1e308', '-1e308', 'NaN', 'Infinity', '-1', '0', '0.5', '1', '60', '', ' ', '--', '-', '0x10', '1e-400', '9'.repeat(400)),
  fc.constantFrom(...Object.values(files), dir, '/dev/zero', '/nonexistent/x', join(dir, 'out.txt')),
  fc.string({ maxLength: 20 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
)

/** A random command line for `command`: its flags (long, short, --flag=value), values, stray words. */
function argvFor(command: Command) {
  const names = Object.keys(command.flags)
  const flag = names.length === 0 ? fc.constant('--help-me') : fc.constantFrom(...names)
  const token = fc.oneof(
    { weight: 4, arbitrary: fc.tuple(flag, values).map(([f, v]) => [`--${f}`, v]) },
    { weight: 2, arbitrary: fc.tuple(flag, values).map(([f, v]) => [`--${f}=${v}`]) },
    { weight: 1, arbitrary: flag.map((f) => [`--${f}`]) },
    { weight: 2, arbitrary: values.map((v) => [v]) },
    { weight: 1, arbitrary: fc.constantFrom(['--unknown-flag'], ['-z'], ['--json'], ['-c', files.config]) },
  )
  return fc.array(token, { maxLength: 6 }).map((ts) => ts.flat())
}

test('every command: the flag layer accepts a line or throws a usage error, nothing else', async () => {
  const all = await allCommands(commands)
  for (const { path, command } of all) {
    fc.assert(
      fc.property(argvFor(command), (argv) => {
        try {
          parseCommandArgs(command, `tide ${path.join(' ')}`, argv)
        } catch (err) {
          if (!isTideError(err, 'TIDE_ERR_USAGE')) throw err
          assert.ok(err.message.length > 0 && err.message.length < 2000)
        }
      }),
      { seed: SEED, numRuns: 150 },
    )
  }
})

/** Commands run whole: they only read files and print. simulate gets the tiny trace so that a valid line ends fast. */
const RUNNABLE = [['validate'], ['import'], ['trace', 'info'], ['trace', 'from-access-log'], ['simulate']]

test('file-reading commands run whole on random lines: exit 0, 1 or 2 with a message, never an internal error', { timeout: 120_000 }, async (t) => {
  // A random --out (a relative path) is written in the working directory: the fuzz directory, not the repository.
  const cwd = process.cwd()
  process.chdir(dir)
  t.after(() => {
    process.chdir(cwd)
    rmSync(dir, { recursive: true, force: true })
  })
  const all = await allCommands(commands)
  for (const path of RUNNABLE) {
    const found = all.find((c) => c.path.join(' ') === path.join(' '))
    assert.ok(found !== undefined, path.join(' '))
    const extra = path[0] === 'simulate' ? ['--trace', files.trace, '--tick-seconds', '10'] : []
    await fc.assert(
      fc.asyncProperty(argvFor(found.command), async (argv) => {
        const started = performance.now()
        // simulate's own flags after the random ones: the last --trace wins, so the run stays tiny.
        const r = await runTide([...path, ...argv, ...(path[0] === 'simulate' && !argv.includes('--help') && !argv.includes('-h') ? extra : [])])
        assert.ok([0, 1, 2].includes(r.status), `status ${r.status}`)
        assert.doesNotMatch(r.stderr, /internal error|\n\s+at /, r.stderr.slice(0, 500))
        if (r.status !== 0) assert.match(r.stderr, /^tide: /)
        assert.ok(performance.now() - started < 20_000, 'bounded time')
      }),
      { seed: SEED + 1, numRuns: 60 },
    )
  }
})
