import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runCommandLine, UsageError, type Command, type CommandTable } from '../../src/cli/args.ts'
import { TideError } from '../../src/errors.ts'

const dir = mkdtempSync(join(tmpdir(), 'tide-args-'))
const existing = join(dir, 'in.txt')
writeFileSync(existing, 'x')

/** Records what the command saw, so that tests check parsing through the real frame. */
let seen: { args: Record<string, unknown>; positionals: readonly string[] } | undefined

const echo: Command = {
  summary: 'echo the parsed flags',
  usage: '[flags] [FILE]',
  flags: {
    config: { kind: 'file', short: 'c', description: 'a file' },
    step: { kind: 'positive-number', description: 'seconds' },
    count: { kind: 'positive-int', description: 'how many' },
    delay: { kind: 'non-negative-number', description: 'seconds' },
    policy: { kind: 'string', choices: ['hpa', 'oracle'], description: 'which' },
    out: { kind: 'output', description: 'where' },
    json: { kind: 'boolean', description: 'json' },
  },
  positionals: { names: ['FILE'], min: 0, max: 1 },
  run(args) {
    seen = {
      args: { config: args.string('config'), step: args.number('step'), count: args.number('count'), delay: args.number('delay'), policy: args.string('policy'), out: args.string('out'), json: args.boolean('json') },
      positionals: args.positionals,
    }
    return 0
  },
}

const table: CommandTable = {
  echo,
  needs: { summary: 'needs a flag', usage: '--name X', flags: { name: { kind: 'string', description: 'n', required: true } }, run: () => 0 },
  fail: { summary: 'fails', usage: '', flags: {}, run: () => { throw new TideError('TIDE_ERR_FILE', 'it broke') } },
  inner: { summary: 'finds a usage mistake late', usage: '', flags: {}, run: () => { throw new TideError('TIDE_ERR_USAGE', '--url: not a URL') } },
  short: { summary: 'names itself without tide', usage: '', flags: {}, run: () => { throw new UsageError('short', '--x: bad') } },
  bug: { summary: 'has a bug', usage: '', flags: {}, run: () => { throw new TypeError('oops') } },
  group: { summary: 'a group', subcommands: { sub: { summary: 'a subcommand', usage: '', flags: {}, run: () => 3 } } },
  broken: () => Promise.reject(new Error('SyntaxError in broken.ts')),
  lazy: () => Promise.resolve({ command: { summary: 'loaded lazily', usage: '', flags: {}, run: () => 0 } satisfies Command }),
}

async function run(argv: string[], env: Record<string, string> = {}, version?: string): Promise<{ code: number; out: string; err: string }> {
  let out = ''
  let err = ''
  seen = undefined
  const code = await runCommandLine(table, argv, { stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s) }, env }, 'tide', version)
  return { code, out, err }
}

test('flags are parsed, converted and handed to the command', async () => {
  const r = await run(['echo', '-c', existing, '--step', '2.5', '--count', '3', '--delay', '0', '--policy', 'hpa', '--out', join(dir, 'o.csv'), '--json', 'pos'])
  assert.equal(r.code, 0, r.err)
  assert.deepEqual(seen, {
    args: { config: existing, step: 2.5, count: 3, delay: 0, policy: 'hpa', out: join(dir, 'o.csv'), json: true },
    positionals: ['pos'],
  })
})

const usageCases = [
  { name: 'unknown command with a suggestion', argv: ['ecko'], match: /^tide: unknown command 'ecko'; did you mean 'echo'\?/ },
  { name: 'unknown flag with a suggestion', argv: ['echo', '--stpe', '1'], match: /^tide: unknown flag --stpe; did you mean --step\?\n\(see 'tide echo --help'\)/ },
  { name: 'missing flag value', argv: ['echo', '--step'], match: /^tide: --step needs a value/ },
  { name: 'a negative value without =', argv: ['echo', '--delay', '-1'], match: /^tide: --delay needs a value \(one starting with "-" is written --delay=VALUE\)/ },
  { name: 'value for a switch', argv: ['echo', '--json=yes'], match: /^tide: --json is a switch and takes no value/ },
  { name: 'non-numeric number', argv: ['echo', '--step', 'fast'], match: /^tide: --step: 'fast' is not a number/ },
  { name: 'zero where positive is needed', argv: ['echo', '--step', '0'], match: /^tide: --step: must be positive, got 0/ },
  { name: 'fraction where a whole number is needed', argv: ['echo', '--count', '1.5'], match: /^tide: --count: must be a whole number, got 1\.5/ },
  { name: 'negative where non-negative is needed', argv: ['echo', '--delay=-1'], match: /^tide: --delay: must not be negative, got -1/ },
  { name: 'hex is not a number', argv: ['echo', '--step', '0x10'], match: /^tide: --step: '0x10' is not a number/ },
  { name: 'missing file', argv: ['echo', '-c', join(dir, 'nope.yaml')], match: /^tide: --config: no such file: .*nope\.yaml/ },
  { name: 'a directory is not a file', argv: ['echo', '-c', dir], match: /^tide: --config: not a regular file/ },
  { name: 'choice not allowed', argv: ['echo', '--policy', 'magic'], match: /^tide: --policy: 'magic' is not one of hpa, oracle/ },
  { name: 'output directory missing', argv: ['echo', '--out', join(dir, 'no/such/dir/x.csv')], match: /^tide: --out: directory .*no\/such\/dir does not exist/ },
  { name: 'too many positionals', argv: ['echo', 'a', 'b'], match: /^tide: unexpected argument 'b' \(takes FILE\)/ },
  { name: 'required flag missing', argv: ['needs'], match: /^tide: missing --name VALUE\n\(see 'tide needs --help'\)/ },
  { name: 'unknown subcommand', argv: ['group', 'nope'], match: /^tide: unknown command 'nope'.*\n\(see 'tide group --help'\)/ },
] as const
for (const c of usageCases) {
  test(`usage error exits 2: ${c.name}`, async () => {
    const r = await run([...c.argv])
    assert.equal(r.code, 2)
    assert.match(r.err, c.match)
    assert.equal(seen, undefined, 'the command must not run')
  })
}

test('a TIDE_ERR_USAGE raised inside a command exits 2 with the command\'s help hint', async () => {
  const r = await run(['inner'])
  assert.equal(r.code, 2)
  assert.equal(r.err, "tide: --url: not a URL\n(see 'tide inner --help')\n")
  const s = await run(['short'])
  assert.equal(s.err, "tide: --x: bad\n(see 'tide short --help')\n")
})

test('a TideError prints its message without a stack and exits 1', async () => {
  const r = await run(['fail'])
  assert.equal(r.code, 1)
  assert.equal(r.err, 'tide: it broke\n')
})

test('TIDE_DEBUG=1 adds the stack', async () => {
  const r = await run(['fail'], { TIDE_DEBUG: '1' })
  assert.equal(r.code, 1)
  assert.match(r.err, /^tide: TideError: it broke\n\s+at /)
})

test('any other error is reported as a bug with its stack', async () => {
  const r = await run(['bug'])
  assert.equal(r.code, 1)
  assert.match(r.err, /^tide: internal error \(a bug; please report it\): TypeError: oops\n\s+at /)
})

test('subcommands and lazily loaded commands run; the exit status is the command\'s', async () => {
  assert.equal((await run(['group', 'sub'])).code, 3)
  assert.equal((await run(['lazy'])).code, 0)
})

test('--help lists commands; a command\'s --help lists its flags and does not run it', async () => {
  const top = await run(['--help'])
  assert.equal(top.code, 0)
  assert.match(top.out, /^Usage: tide <command> \[flags\]\n\nCommands:\n {2}echo +echo the parsed flags\n/)
  assert.match(top.out, /lazy +loaded lazily/)
  assert.match(top.out, /broken +\(cannot be loaded: SyntaxError in broken\.ts\)/)
  const help = await run(['echo', '--help'])
  assert.equal(help.code, 0)
  assert.equal(seen, undefined)
  assert.match(help.out, /^Usage: tide echo \[flags\] \[FILE\]\n/)
  assert.match(help.out, /\n {2}-c, --config FILE +a file\n/)
  assert.match(help.out, /--policy hpa\|oracle/)
  const group = await run(['group', '--help'])
  assert.match(group.out, /^Usage: tide group <command>/)
})

test('no arguments prints the help to stdout and exits 0; a group alone too', async () => {
  const r = await run([])
  assert.equal(r.code, 0)
  assert.equal(r.err, '')
  assert.match(r.out, /^Usage: tide <command>/)
  const g = await run(['group'])
  assert.equal(g.code, 0)
  assert.match(g.out, /^Usage: tide group <command>/)
})

test('--version (and -V) prints the version given and exits 0; the help says so', async () => {
  for (const flag of ['--version', '-V']) {
    const r = await run([flag], {}, '1.2.3')
    assert.deepEqual(r, { code: 0, out: '1.2.3\n', err: '' })
  }
  assert.match((await run([], {}, '1.2.3')).out, /\n'tide --version' prints its version\.\n$/)
  // Without a version, --version is an unknown command like any other.
  assert.equal((await run(['--version'])).code, 2)
})

test('a command\'s examples end its --help, each with what it does', async () => {
  const withExamples: Command = { summary: 's', usage: '', flags: {}, examples: [{ command: 'tide ex --fast', does: 'quickly' }, { command: 'tide ex', does: 'slowly' }], run: () => 0 }
  let out = ''
  const code = await runCommandLine({ ex: withExamples }, ['ex', '--help'], { stdout: { write: (s: string) => (out += s) }, stderr: { write: () => true }, env: {} })
  assert.equal(code, 0)
  assert.match(out, /\n {2}-h, --help +show this help\n\nExamples:\n {2}tide ex --fast\n {6}quickly\n {2}tide ex\n {6}slowly\n$/)
})

test('UsageError carries the command path and the usage code', () => {
  const e = new UsageError('tide x', 'bad')
  assert.equal(e.code, 'TIDE_ERR_USAGE')
  assert.equal(e.commandPath, 'tide x')
})

test("'tide help CMD' prints CMD's help; 'tide help' the command list; an unknown CMD is a usage error", async () => {
  const help = await run(['help', 'echo'])
  assert.equal(help.code, 0, help.err)
  assert.equal(help.out, (await run(['echo', '--help'])).out)
  assert.match((await run(['help'])).out, /^Usage: tide <command> \[flags\]\n\nCommands:\n/)
  assert.match((await run(['help', 'group'])).out, /^Usage: tide group <command>/)
  const unknown = await run(['help', 'ecko'])
  assert.equal(unknown.code, 2)
  assert.match(unknown.err, /^tide: unknown command 'ecko'; did you mean 'echo'\?/)
})

test('more usage errors in our words: a value that looks like a flag, a positional not in its choices, a flag of the program', async () => {
  const cases = [
    { argv: ['echo', '-c', '--json'], match: /^tide: --config needs a value \(one starting with "-" is written --config=VALUE\)\n\(see 'tide echo --help'\)/ },
    { argv: ['pick', 'purple'], match: /^tide: COLOUR: 'purple' is not one of red, green\n\(see 'tide pick --help'\)/ },
    { argv: ['--verbose'], match: /^tide: unknown flag --verbose\n\(see 'tide --help'\)/ },
    { argv: ['group', 'sub', '--x'], match: /^tide: unknown flag --x\n\(see 'tide group sub --help'\)/ },
  ]
  const withPick: CommandTable = { ...table, pick: { summary: 'pick', usage: 'COLOUR', flags: {}, positionals: { names: ['COLOUR'], min: 1, choices: ['red', 'green'] }, run: () => 0 } }
  for (const c of cases) {
    let err = ''
    const code = await runCommandLine(withPick, c.argv, { stdout: { write: () => true }, stderr: { write: (s: string) => (err += s) }, env: {} })
    assert.equal(code, 2, c.argv.join(' '))
    assert.match(err, c.match)
  }
})

test("a flag named no-… is a switch of its own (not commander's negation of another flag)", async () => {
  let seenOff: boolean | undefined
  const t: CommandTable = { serve: { summary: 's', usage: '', flags: { 'no-api': { kind: 'boolean', description: 'no API' } }, run: (args) => { seenOff = args.boolean('no-api'); return 0 } } }
  const io = { stdout: { write: () => true }, stderr: { write: () => true }, env: {} }
  assert.equal(await runCommandLine(t, ['serve'], io), 0)
  assert.equal(seenOff, false)
  assert.equal(await runCommandLine(t, ['serve', '--no-api'], io), 0)
  assert.equal(seenOff, true)
})

test("only the named command's module loads: not the others for a command or --version, all for the command list", async () => {
  const loaded: string[] = []
  const lazy = (name: string) => () => {
    loaded.push(name)
    return Promise.resolve({ command: { summary: name, usage: '', flags: {}, run: () => 0 } satisfies Command })
  }
  const t: CommandTable = { a: lazy('a'), b: lazy('b'), c: lazy('c') }
  const io = { stdout: { write: () => true }, stderr: { write: () => true }, env: {} }
  assert.equal(await runCommandLine(t, ['b', '--help'], io), 0)
  assert.deepEqual(loaded, ['b'])
  assert.equal(await runCommandLine(t, ['--version'], io, 'tide', '1.0.0'), 0)
  assert.deepEqual(loaded, ['b'])
  assert.equal(await runCommandLine(t, ['--help'], io), 0)
  assert.deepEqual(loaded.toSorted(), ['a', 'b', 'b', 'c'])
})
