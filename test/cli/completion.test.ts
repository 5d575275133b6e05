/**
 * `tide completion bash|zsh|fish`: the scripts of the real `tide` (spawned, argv arrays), checked
 * by the shells themselves: bash -n, zsh -n, fish -n, and completions asked of a real bash
 * (COMP_WORDS/COMP_CWORD set, the completion function called) and a real fish (`complete -C`).
 * A shell that is not installed skips its test and says so.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile, execFileSync } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { commandTree, type CommandTable } from '../../src/cli/args.ts'
import { completionNode } from '../../src/cli/completion.ts'

const bin = fileURLToPath(new URL('../../bin/tide.js', import.meta.url))
const dir = mkdtempSync(join(tmpdir(), 'tide-completion-'))

/** The path of `shell`, or undefined when it is not installed. */
function which(shell: string): string | undefined {
  try {
    return execFileSync('sh', ['-c', 'command -v "$1"', 'sh', shell], { encoding: 'utf8', timeout: 5000 }).trim() || undefined
  } catch {
    return undefined
  }
}

/** Runs `file argv` (bounded); its exit status and output. */
function run(file: string, argv: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(file, argv, { timeout: 60_000, env: { ...process.env, TIDE_DEBUG: '' } }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : -1, stdout, stderr })
    })
  })
}

/** The real tide's script for `shell`, written to a file. */
async function script(shell: string): Promise<string> {
  const r = await run(process.execPath, [bin, 'completion', shell])
  assert.equal(r.code, 0, r.stderr)
  const file = join(dir, `tide.${shell}`)
  writeFileSync(file, r.stdout)
  return file
}

const bash = which('bash')
const zsh = which('zsh')
const fish = which('fish')

/** What the line typed so far completes to, `|` marking the cursor at its end, and (some of) what it must offer. */
const cases: readonly { readonly line: string; readonly want: readonly string[]; readonly exactly?: boolean }[] = [
  { line: 'tide ge', want: ['get'], exactly: true },
  { line: 'tide get ', want: ['groups', 'instances', 'events'], exactly: true },
  { line: 'tide simulate --po', want: ['--policy'], exactly: true },
  { line: 'tide simulate --policy ', want: ['hpa', 'oracle', 'predictive'] },
  { line: 'tide trace ', want: ['info', 'from-access-log'], exactly: true },
  { line: 'tide ', want: ['simulate', 'status', 'get', 'completion'] },
  { line: 'tide completion ', want: ['bash', 'zsh', 'fish'], exactly: true },
  { line: 'tide get -w --api http://x --j', want: ['--json'], exactly: true },
  { line: 'tide status --', want: ['--api', '--store', '--json', '--help'] },
]

test('bash: the script is valid and completes commands, subcommands, flags and their values', { skip: bash === undefined ? 'bash is not installed' : false }, async () => {
  const file = await script('bash')
  const syntax = await run(bash ?? 'bash', ['-n', file])
  assert.equal(syntax.code, 0, syntax.stderr)
  for (const c of cases) {
    const words = c.line.split(' ')
    // A real bash: the script sourced, the words as bash's completion would set them, the function called.
    const r = await run(bash ?? 'bash', ['--norc', '--noprofile', '-c', 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 )); _tide; printf "%s\\n" "${COMPREPLY[@]}"', 'bash', file, ...words])
    assert.equal(r.code, 0, r.stderr)
    const got = r.stdout.split('\n').filter((w) => w !== '')
    if (c.exactly === true) assert.deepEqual(got.toSorted(), [...c.want].sort(), c.line)
    else for (const w of c.want) assert.ok(got.includes(w), `${c.line}|: ${w} in ${got.join(' ')}`)
  }
})

test('zsh: the script is valid and registers the completion through bashcompinit', { skip: zsh === undefined ? 'zsh is not installed' : false }, async () => {
  const file = await script('zsh')
  const syntax = await run(zsh ?? 'zsh', ['-n', file])
  assert.equal(syntax.code, 0, syntax.stderr)
  const r = await run(zsh ?? 'zsh', ['-f', '-c', 'autoload -U compinit && compinit -u -d "$2" && source "$1" && print -r -- ${_comps[tide]}', 'zsh', file, join(dir, 'zcompdump')])
  assert.equal(r.code, 0, r.stderr)
  assert.match(r.stdout, /_bash_complete -F _tide/)
})

test('fish: the script is valid and completes the same lines', { skip: fish === undefined ? 'fish is not installed' : false }, async () => {
  const file = await script('fish')
  const syntax = await run(fish ?? 'fish', ['-n', file])
  assert.equal(syntax.code, 0, syntax.stderr)
  for (const c of cases) {
    const r = await run(fish ?? 'fish', ['--no-config', '-c', 'source $argv[1]; complete -C $argv[2]', file, c.line])
    assert.equal(r.code, 0, r.stderr)
    const got = r.stdout.split('\n').filter((l) => l !== '').map((l) => l.split('\t')[0] ?? '')
    if (c.exactly === true) assert.deepEqual(got.toSorted(), [...c.want].sort(), c.line)
    else for (const w of c.want) assert.ok(got.includes(w), `${c.line}|: ${w} in ${got.join(' ')}`)
  }
})

test('the completion model comes from the command tree: groups, flags with their values, positional choices; help left out', async () => {
  const table: CommandTable = {
    run: { summary: 'runs', usage: '', flags: { mode: { kind: 'string', short: 'm', choices: ['a', 'b'], description: 'which' }, quiet: { kind: 'boolean', description: 'hush' } }, positionals: { names: ['WHAT'], min: 1, choices: ['x', 'y'] }, run: () => 0 },
    box: { summary: 'a group', subcommands: { open: () => Promise.resolve({ command: { summary: 'opens', usage: '', flags: {}, run: () => 0 } }) } },
  }
  const root = completionNode(await commandTree(table, 'prog', '1.0.0'))
  assert.deepEqual(root.commands.map((c) => [c.name, c.path]), [['run', ['run']], ['box', ['box']]])
  assert.deepEqual(root.flags.map((f) => f.long), ['--version', '--help'])
  const run_ = root.commands[0]
  assert.ok(run_)
  assert.deepEqual(run_.flags.map((f) => [f.long, f.short, f.takesValue, f.choices]), [
    ['--mode', '-m', true, ['a', 'b']],
    ['--quiet', undefined, false, undefined],
    ['--help', '-h', false, undefined],
  ])
  assert.deepEqual(run_.positionalChoices, ['x', 'y'])
  assert.deepEqual(root.commands[1]?.commands.map((c) => [c.name, c.path, c.summary]), [['open', ['box', 'open'], 'opens']])
})

test('tide completion without a shell, or an unknown one, is a usage error naming the choices', async () => {
  const none = await run(process.execPath, [bin, 'completion'])
  assert.equal(none.code, 2)
  assert.match(none.stderr, /^tide: missing argument SHELL\n\(see 'tide completion --help'\)/)
  const tcsh = await run(process.execPath, [bin, 'completion', 'tcsh'])
  assert.equal(tcsh.code, 2)
  assert.match(tcsh.stderr, /^tide: SHELL: 'tcsh' is not one of bash, zsh, fish/)
})
