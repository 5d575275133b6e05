/**
 * The frame of the `tide` command line: a table of commands (and groups of subcommands such as
 * `tide trace from-access-log`) that commander (github.com/tj/commander.js) parses and writes the
 * help of. Commands keep a small interface of their own (Command below: flags by kind, positionals,
 * examples, `run`), so that adding one is one file and one line in main.ts; the frame turns each
 * into a commander command, validates the values by kind, and is the one place that turns errors
 * into exit codes and messages:
 * - 0: success;
 * - 1: failure — a TideError prints `tide: <message>` (its stack only with TIDE_DEBUG=1);
 *   any other error is a bug and prints its stack;
 * - 2: usage error — unknown command or flag, missing or bad flag value; the message
 *   names the flag and points at `--help` (commander's own messages are replaced by these);
 * - a command may return another status of its own: the API commands return 3 when no tide
 *   answers at the URL (src/cli/api-client.ts).
 * Commands load lazily: only the module of the command named on the line is imported (every
 * module only for the command list of `tide --help` and for `tide completion`), so that
 * `tide --version` and `tide status --help` start fast (bench: startup).
 */
import { statSync } from 'node:fs'
import { createRequire } from 'node:module'
import type * as Commander from 'commander'
import type { Command as CommanderCommand, CommanderError, Option } from 'commander'
import type { Shell } from './completion.ts'
import { TideError, didYouMean, isTideError } from '../errors.ts'

const require = createRequire(import.meta.url)
let commanderModule: typeof Commander | undefined

/**
 * commander, loaded on first use (synchronously, as the CommonJS it is): `tide --version` needs
 * none of it, and loading it costs a start-up that aims at 0.15 s about a tenth (bench: startup).
 */
function commander(): typeof Commander {
  commanderModule ??= require('commander') as typeof Commander
  return commanderModule
}

/** The command line is wrong (exit status 2). `commandPath` is e.g. `tide trace from-access-log`. */
export class UsageError extends TideError {
  /** The command whose `--help` the user should read; `tide` for top-level mistakes. */
  readonly commandPath: string

  constructor(commandPath: string, message: string, options?: ErrorOptions) {
    super('TIDE_ERR_USAGE', message, options)
    this.commandPath = commandPath
  }
}

/**
 * What a flag holds and how it is checked before the command runs:
 * - `boolean`: a switch, no value;
 * - `string`: any non-empty text (`choices` restricts it);
 * - `file`: an existing regular file;
 * - `output`: a path to write; its directory must exist;
 * - `positive-number`, `positive-int`, `non-negative-number`: a decimal number in that range.
 */
export type FlagKind = 'boolean' | 'string' | 'file' | 'output' | 'positive-number' | 'positive-int' | 'non-negative-number'

/** One flag of a command; the key in `Command.flags` is its long name without `--`. */
export interface FlagSpec {
  readonly kind: FlagKind
  /** One-letter alias, without `-`. */
  readonly short?: string
  /** One line for `--help`. Say the unit. */
  readonly description: string
  /** Placeholder in help (`FILE`, `SECONDS`); derived from the kind when absent. */
  readonly valueName?: string
  /** The allowed values of a `string` flag. */
  readonly choices?: readonly string[]
  /** The command cannot run without it. */
  readonly required?: boolean
  /** Shown in help; the command applies it itself (so that config files can sit in between). */
  readonly defaultText?: string
  /**
   * The largest value a numeric flag takes (shown in help as "at most N"); a larger one is a
   * usage error naming the flag. Every numeric flag has one (test/cli/flag-bounds.test.ts): a
   * value such as 1e308 would otherwise reach arithmetic and timers that overflow.
   */
  readonly max?: number
}

/** Positional arguments of a command: their names for help, how many, and whether they are files to read. */
export interface PositionalSpec {
  readonly names: readonly string[]
  readonly min: number
  /** Default: `names.length`. */
  readonly max?: number
  /** When `file`, each must be an existing regular file. */
  readonly kind?: 'file' | 'string'
  /** The values the first positional may take (`tide get groups|instances|events`); shell completion offers them. */
  readonly choices?: readonly string[]
}

/** Where a command writes. Tests pass buffers; the real CLI passes process.stdout/stderr. */
export interface CommandIo {
  readonly stdout: { write(chunk: string): unknown; readonly isTTY?: boolean }
  readonly stderr: { write(chunk: string): unknown; readonly isTTY?: boolean }
  /** Environment variables (TIDE_DEBUG and whatever commands read). */
  readonly env: Readonly<Record<string, string | undefined>>
  /**
   * Stops a command that runs until stopped (`tide get -w`) as Ctrl-C would: tests pass one; the
   * real CLI passes none, and such a command listens for SIGINT/SIGTERM itself while it runs.
   */
  readonly signal?: AbortSignal
}

/**
 * A runnable command. `run` returns the exit status (0 when it returns nothing) and
 * throws TideErrors for failures; it never calls process.exit, so that output is flushed
 * and tests can run it in-process.
 */
export interface Command {
  /** One line for the command list. */
  readonly summary: string
  /** Argument synopsis after the command path, e.g. `-c FILE`. */
  readonly usage: string
  /** Paragraphs for `--help` after the synopsis. */
  readonly description?: string
  readonly flags: Readonly<Record<string, FlagSpec>>
  readonly positionals?: PositionalSpec
  /** Command lines to copy, each with what it does, shown last in `--help`. Every tide command has some. */
  readonly examples?: readonly Example[]
  run(args: ParsedArgs, io: CommandIo): Promise<number | undefined> | number | undefined
}

/** One example of `--help`: a whole command line and, in a few words, what it does. */
export interface Example {
  readonly command: string
  readonly does: string
}

/** A command with subcommands, e.g. `tide trace …`. */
export interface CommandGroup {
  readonly summary: string
  readonly subcommands: CommandTable
}

/**
 * A table entry: the command itself, or a loader `() => import('./x.ts')` of a module
 * exporting `command`, so that `tide` starts without loading every command's code and
 * adding a command is one line in main.ts.
 */
export type CommandEntry = Command | CommandGroup | (() => Promise<{ readonly command: Command | CommandGroup }>)

/** Command name → entry. Help lists entries in the table's order. */
export type CommandTable = Readonly<Record<string, CommandEntry>>

/** Flag values after validation: numbers are numbers, files are known to exist. */
export class ParsedArgs {
  /** The positional arguments, validated against the command's PositionalSpec. */
  readonly positionals: readonly string[]
  readonly #values: ReadonlyMap<string, string | number | boolean>
  readonly #commandPath: string

  constructor(commandPath: string, values: ReadonlyMap<string, string | number | boolean>, positionals: readonly string[]) {
    this.#commandPath = commandPath
    this.#values = values
    this.positionals = positionals
  }

  /** A string-valued flag (string, file, output), or undefined when not given. */
  string(name: string): string | undefined {
    const v = this.#values.get(name)
    return typeof v === 'string' ? v : undefined
  }

  /** A string-valued flag that must be present (declared `required`, or checked here). */
  requiredString(name: string): string {
    const v = this.string(name)
    if (v === undefined) throw new UsageError(this.#commandPath, `missing --${name}`)
    return v
  }

  /** A numeric flag, or undefined when not given. */
  number(name: string): number | undefined {
    const v = this.#values.get(name)
    return typeof v === 'number' ? v : undefined
  }

  /** A boolean flag: true when given. */
  boolean(name: string): boolean {
    return this.#values.get(name) === true
  }
}

/**
 * Runs one command line against a table and returns the exit status. Never throws and
 * never exits the process: every error becomes a message on `io.stderr` and a status.
 * With `version` (package.json's), `PROGRAM --version` prints it and exits 0. The program
 * alone (or a group alone, `tide trace`) prints its help to stdout and exits 0; `PROGRAM help
 * CMD` prints CMD's. Besides the table's commands, `PROGRAM completion bash|zsh|fish` prints a
 * shell completion script of the whole tree (src/cli/completion.ts).
 */
export async function runCommandLine(table: CommandTable, argv: readonly string[], io: CommandIo, program = 'tide', version?: string): Promise<number> {
  if (version !== undefined && argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) {
    // What commander would print, without loading it: the fastest answer of all (bench: startup).
    io.stdout.write(`${version}\n`)
    return 0
  }
  const outcome: Outcome = { status: 0 }
  try {
    const full = withCompletion(table, program, version)
    const root = await buildProgram(full, [...argv], io, program, version, outcome)
    await root.parseAsync([...argv], { from: 'user' })
    return outcome.status
  } catch (err) {
    // Help and --version end commander's parse with an "error" that is a success.
    if (err instanceof commander().CommanderError) return err.exitCode
    return reportError(err, io)
  }
}

/** What the command that ran returned, filled in by its action. */
interface Outcome {
  status: number
}

/** The table plus the built-in `completion` command, whose script covers the whole table. */
function withCompletion(table: CommandTable, program: string, version: string | undefined): CommandTable {
  if (Object.hasOwn(table, 'completion')) return table
  return {
    ...table,
    completion: completionCommand(program, async () => commandTree(withCompletion(table, program, version), program, version)),
  }
}

/** The shells `completion` writes for (src/cli/completion.ts). */
const SHELLS = ['bash', 'zsh', 'fish'] as const satisfies readonly Shell[]

/** The `completion` command of a program; `tree` loads the whole command tree only when a script is asked for. */
function completionCommand(program: string, tree: () => Promise<CommanderCommand>): Command {
  return {
    summary: 'print a shell completion script (bash, zsh or fish)',
    usage: 'bash|zsh|fish',
    description: `Completes commands, subcommands, flags, the values of flags that take one of a list, and files for the other flags. The script is generated from this ${program}'s commands: print it again after an upgrade.`,
    examples: [
      { command: `${program} completion bash > ~/.local/share/bash-completion/completions/${program}`, does: 'bash: installed for your user (bash-completion loads it on first use)' },
      { command: `${program} completion zsh > ~/.${program}-completion.zsh`, does: `zsh: then 'source ~/.${program}-completion.zsh' in ~/.zshrc after compinit` },
      { command: `${program} completion fish > ~/.config/fish/completions/${program}.fish`, does: 'fish: installed for your user' },
    ],
    flags: {},
    positionals: { names: ['SHELL'], min: 1, kind: 'string', choices: SHELLS },
    async run(args, io) {
      // Imported here: only this command writes scripts.
      const { completionNode, completionScript } = await import('./completion.ts')
      io.stdout.write(completionScript(args.positionals[0] as Shell, program, completionNode(await tree())))
      return 0
    },
  }
}

/**
 * The whole command tree, every module loaded, as commander commands (for `tide completion`).
 * A command whose module fails to load is left out.
 */
export async function commandTree(table: CommandTable, program = 'tide', version?: string): Promise<CommanderCommand> {
  const silent: CommandIo = { stdout: { write: () => true }, stderr: { write: () => true }, env: {} }
  return buildProgram(table, ['--help'], silent, program, version, { status: 0 })
}

/** What a commander command of the tree stands for: its Command or group, and its path (`tide trace info`). */
interface Node {
  readonly entry: Command | CommandGroup | { readonly summary: string }
  readonly path: string
  readonly table?: CommandTable
}

/** Each commander command's node: the help and the error messages read it. */
const nodes = new WeakMap<CommanderCommand, Node>()

/** Each commander option's flag name and spec. */
const flagOf = new WeakMap<Option, { readonly name: string; readonly spec: FlagSpec }>()

/** The node of a command of the tree (the tree only holds commands made here). */
function nodeOf(cmd: CommanderCommand): Node {
  const node = nodes.get(cmd)
  if (node === undefined) throw new Error(`command '${cmd.name()}' was not built by args.ts`)
  return node
}

/** The program with the table's commands: those `argv` names fully, the others as bare names (enough to report an unknown command). */
async function buildProgram(table: CommandTable, argv: string[], io: CommandIo, program: string, version: string | undefined, outcome: Outcome): Promise<CommanderCommand> {
  const root = new (commander().Command)(program)
  if (version !== undefined) root.version(version, '-V, --version', 'print the version')
  await addTable(root, table, argv, io, program, outcome)
  return root
}

/**
 * Sets up a program or group: its help, output and errors, the commands of its table, and an
 * action for the group alone (its help) or followed by an unknown name.
 */
async function addTable(cmd: CommanderCommand, table: CommandTable, argv: string[], io: CommandIo, path: string, outcome: Outcome): Promise<void> {
  frame(cmd, { entry: { summary: '' }, path, table }, io)
  cmd.usage('<command> [flags]').allowExcessArguments(true).helpCommand('help [command]', "show a command's help")
  const first = argv[0]
  const listing = first === undefined || first === '--help' || first === '-h' || (first === 'help' && argv.length === 1)
  const named = first === 'help' ? argv[1] : first
  if (first === 'help' && named !== undefined && !Object.hasOwn(table, named)) throw unknownCommand(path, named, table)
  for (const [name, entry] of Object.entries(table)) {
    const rest = first === 'help' ? [] : argv.slice(1)
    if (listing || name === named) cmd.addCommand(await built(name, entry, rest, io, `${path} ${name}`, outcome, listing))
    else cmd.addCommand(new (commander().Command)(name))
  }
  cmd.action(() => {
    const extra = cmd.args[0]
    if (extra !== undefined) throw unknownCommand(path, extra, table)
    cmd.outputHelp()
  })
}

/** One table entry as a commander command; when listing, one that fails to load becomes a line saying so. */
async function built(name: string, entry: CommandEntry, argv: string[], io: CommandIo, path: string, outcome: Outcome, listing: boolean): Promise<CommanderCommand> {
  let resolved: Command | CommandGroup
  try {
    resolved = typeof entry === 'function' ? (await entry()).command : entry
  } catch (err) {
    // One command whose module fails to load must not take the whole help down with it.
    if (!listing) throw err
    const broken = new (commander().Command)(name).description(`(cannot be loaded: ${err instanceof Error ? (err.message.split('\n')[0] ?? '') : String(err)})`)
    nodes.set(broken, { entry: { summary: broken.description() }, path })
    return broken
  }
  const cmd = new (commander().Command)(name).description(resolved.summary)
  if ('subcommands' in resolved) {
    await addTable(cmd, resolved.subcommands, argv, io, path, outcome)
    nodes.set(cmd, { entry: resolved, path, table: resolved.subcommands })
    return cmd
  }
  leaf(cmd, resolved, path, io)
  cmd.action(async () => {
    outcome.status = await runLeaf(cmd, resolved, path, argv, io)
  })
  return cmd
}

/** Help, output and error handling every command of the tree shares. */
function frame(cmd: CommanderCommand, node: Node, io: CommandIo): void {
  nodes.set(cmd, node)
  cmd
    .helpOption('-h, --help', 'show this help')
    .configureHelp({ formatHelp: (c) => helpText(c) })
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s), outputError: () => undefined })
    .exitOverride((err) => {
      throw usageErrorOf(err, cmd)
    })
}

/** Declares a command's flags and positionals to commander. */
function leaf(cmd: CommanderCommand, command: Command, path: string, io: CommandIo): void {
  frame(cmd, { entry: command, path }, io)
  cmd.usage(command.usage).helpCommand(false).allowExcessArguments(true)
  for (const [name, spec] of Object.entries(command.flags)) {
    const value = spec.kind === 'boolean' ? '' : ` <${name}>`
    const option = new (commander().Option)(`${spec.short === undefined ? '' : `-${spec.short}, `}--${name}${value}`, spec.description)
    if (spec.choices !== undefined) option.argChoices = [...spec.choices]
    // A tide flag named `no-…` (`--no-api`) is a switch of its own, not commander's negation of `--api`.
    option.negate = false
    flagOf.set(option, { name, spec })
    cmd.addOption(option)
  }
  // Our checkPositionals counts them (with our messages); commander knows their names and choices.
  for (const name of command.positionals?.names ?? []) {
    const arg = cmd.createArgument(`[${name}]`, '')
    if (command.positionals?.choices !== undefined) arg.argChoices = [...command.positionals.choices]
    cmd.addArgument(arg)
  }
}

/** Validates what commander parsed, runs the command, and returns its status. */
async function runLeaf(cmd: CommanderCommand, command: Command, path: string, argv: readonly string[], io: CommandIo): Promise<number> {
  const args = parsedArgsOf(cmd, command, path, argv)
  try {
    return (await command.run(args, io)) ?? 0
  } catch (err) {
    // A usage mistake found inside a command (TIDE_ERR_USAGE from any layer) is still exit 2 with this command's help hint.
    if (isTideError(err, 'TIDE_ERR_USAGE') && !(err instanceof UsageError)) throw new UsageError(path, err.message, { cause: err })
    throw err
  }
}

/** The flag values commander parsed, checked by kind, with the positionals: what `run` gets. */
function parsedArgsOf(cmd: CommanderCommand, command: Command, path: string, argv: readonly string[]): ParsedArgs {
  checkDashValues(cmd, path, argv)
  const values = new Map<string, string | number | boolean>()
  for (const option of cmd.options) {
    const flag = flagOf.get(option)
    if (flag === undefined) continue
    const raw: unknown = cmd.getOptionValue(option.attributeName())
    if (raw === undefined) {
      if (flag.spec.required === true) throw new UsageError(path, `missing ${flagSynopsis(flag.name, flag.spec)}`)
      continue
    }
    values.set(flag.name, validateFlag(path, flag.name, flag.spec, raw))
  }
  checkPositionals(command.positionals, path, cmd.args)
  return new ParsedArgs(path, values, [...cmd.args])
}

/**
 * Refuses a flag value that starts with `-` unless written `--flag=-1`: commander takes the next
 * word whatever it is, so `--config --json` would read a file named `--json`. Stops at `--`.
 */
function checkDashValues(cmd: CommanderCommand, path: string, argv: readonly string[]): void {
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i]
    if (word === '--') return
    const option = cmd.options.find((o) => o.long === word || o.short === word)
    if (option?.required !== true) continue
    const next = argv[i + 1]
    if (next !== undefined && next.length > 1 && next.startsWith('-')) throw new UsageError(path, valueMissing(option))
    i++
  }
}

/** `--step needs a value (…)`: a value-taking flag with none. */
function valueMissing(option: Option): string {
  const flag = option.long ?? option.short ?? option.flags
  return `${flag} needs a value (one starting with "-" is written ${flag}=VALUE)`
}

/** `unknown command 'x'; did you mean 'y'? (commands: …)` for a name not in `table`. */
function unknownCommand(path: string, name: string, table: CommandTable): UsageError {
  const names = Object.keys(table)
  const hint = didYouMean(name, names)
  return new UsageError(path, `unknown command '${name}'${hint === undefined ? '' : `; did you mean '${hint}'?`} (commands: ${names.join(', ')})`)
}

/** The word commander quotes first in its message (`error: unknown option '--stpe'`). */
function quoted(err: CommanderError): string {
  return /'([^']*)'/.exec(err.message)?.[1] ?? ''
}

/**
 * Our message for one of commander's parse errors, raised by `cmd`; help and --version pass
 * through as they are (a CommanderError with exit code 0).
 */
function usageErrorOf(err: CommanderError, cmd: CommanderCommand): Error {
  const { path } = nodeOf(cmd)
  switch (err.code) {
    case 'commander.unknownOption': {
      const flag = quoted(err)
      const [long, value] = flag.split('=', 2)
      const known = cmd.options.find((o) => o.long === long)
      if (value !== undefined && known !== undefined && !known.required) return new UsageError(path, `${long} is a switch and takes no value`)
      const names = cmd.options.map((o) => o.long?.replace(/^--/, '')).filter((n) => n !== undefined)
      const hint = didYouMean(flag.replace(/^-+/, ''), names)
      return new UsageError(path, `unknown flag ${flag}${hint === undefined ? '' : `; did you mean --${hint}?`}`)
    }
    case 'commander.optionMissingArgument': {
      const option = cmd.options.find((o) => o.flags === quoted(err))
      return new UsageError(path, option === undefined ? err.message.replace(/^error: /, '') : valueMissing(option))
    }
    case 'commander.helpDisplayed':
    case 'commander.help':
    case 'commander.version':
      return err
    default:
      return new UsageError(path, err.message.replace(/^error: /, ''), { cause: err })
  }
}

/**
 * Parses and validates `argv` for one command, without running it (what a command's run gets);
 * throws UsageError naming the flag.
 */
export function parseCommandArgs(command: Command, commandPath: string, argv: readonly string[]): ParsedArgs {
  const name = commandPath.split(' ').at(-1) ?? commandPath
  const cmd = new (commander().Command)(name)
  const silent: CommandIo = { stdout: { write: () => true }, stderr: { write: () => true }, env: {} }
  leaf(cmd, command, commandPath, silent)
  cmd.parse([...argv], { from: 'user' })
  return parsedArgsOf(cmd, command, commandPath, argv)
}
const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/

function validateFlag(commandPath: string, name: string, spec: FlagSpec, raw: unknown): string | number | boolean {
  if (typeof raw === 'boolean') return raw
  // parseArgs returns an array only for `multiple: true`, which no flag declares; take the last like most CLIs.
  const value = String(Array.isArray(raw) ? raw.at(-1) : raw)
  const fail = (why: string): UsageError => new UsageError(commandPath, `--${name}: ${why}`)
  switch (spec.kind) {
    case 'boolean':
      return true
    case 'string':
      if (value === '') throw fail('must not be empty')
      if (spec.choices !== undefined && !spec.choices.includes(value)) {
        throw fail(`'${value}' is not one of ${spec.choices.join(', ')}`)
      }
      return value
    case 'file':
      checkFile(value, fail)
      return value
    case 'output':
      if (value === '') throw fail('must not be empty')
      checkOutputParent(value, fail)
      return value
    case 'positive-number':
    case 'positive-int':
    case 'non-negative-number':
      return checkMax(checkNumber(value, spec.kind, fail), spec.max, value, fail)
  }
}

function checkNumber(value: string, kind: 'positive-number' | 'positive-int' | 'non-negative-number', fail: (why: string) => UsageError): number {
  const n = DECIMAL.test(value.trim()) ? Number(value) : Number.NaN
  if (!Number.isFinite(n)) throw fail(`'${value}' is not a number`)
  if (kind === 'non-negative-number' && n < 0) throw fail(`must not be negative, got ${value}`)
  if (kind !== 'non-negative-number' && n <= 0) throw fail(`must be positive, got ${value}`)
  if (kind === 'positive-int' && !Number.isInteger(n)) throw fail(`must be a whole number, got ${value}`)
  return n
}

function checkMax(n: number, max: number | undefined, value: string, fail: (why: string) => UsageError): number {
  if (max !== undefined && n > max) throw fail(`must be at most ${max}, got ${value}`)
  return n
}

function checkFile(path: string, fail: (why: string) => UsageError): void {
  if (path === '') throw fail('must not be empty')
  let isFile: boolean
  try {
    isFile = statSync(path).isFile()
  } catch {
    throw fail(`no such file: ${path}`)
  }
  if (!isFile) throw fail(`not a regular file: ${path}`)
}

function checkOutputParent(path: string, fail: (why: string) => UsageError): void {
  const slash = path.lastIndexOf('/')
  const dir = slash < 0 ? '.' : slash === 0 ? '/' : path.slice(0, slash)
  let isDir = false
  try {
    isDir = statSync(dir).isDirectory()
  } catch {
    isDir = false
  }
  if (!isDir) throw fail(`directory ${dir} does not exist`)
}

function checkPositionals(spec: PositionalSpec | undefined, commandPath: string, given: readonly string[]): void {
  const { names, min, max = names.length } = spec ?? { names: [], min: 0 }
  if (given.length < min) throw new UsageError(commandPath, `missing argument ${names[given.length] ?? names.join(' ')}`)
  if (given.length > max) {
    const extra = given[max] ?? ''
    throw new UsageError(commandPath, max === 0 ? `unexpected argument '${extra}'` : `unexpected argument '${extra}' (takes ${names.join(' ')})`)
  }
  if (spec !== undefined) checkPositionalValues(spec, commandPath, given)
}

/** The first positional against the spec's choices, and file positionals against the disk. */
function checkPositionalValues(spec: PositionalSpec, commandPath: string, given: readonly string[]): void {
  const first = given[0]
  if (spec.choices !== undefined && first !== undefined && !spec.choices.includes(first)) {
    throw new UsageError(commandPath, `${spec.names[0] ?? 'argument'}: '${first}' is not one of ${spec.choices.join(', ')}`)
  }
  if (spec.kind === 'file') {
    for (const [i, path] of given.entries()) {
      checkFile(path, (why) => new UsageError(commandPath, `${spec.names[i] ?? 'FILE'}: ${why}`))
    }
  }
}

function reportError(err: unknown, io: CommandIo): number {
  const debug = io.env.TIDE_DEBUG === '1'
  if (err instanceof UsageError) {
    const path = err.commandPath === 'tide' || err.commandPath.startsWith('tide ') ? err.commandPath : `tide ${err.commandPath}`
    io.stderr.write(`tide: ${err.message}\n(see '${path} --help')\n`)
    if (debug && err.stack !== undefined) io.stderr.write(`${err.stack}\n`)
    return 2
  }
  if (isTideError(err)) {
    io.stderr.write(debug && err.stack !== undefined ? `tide: ${err.stack}\n` : `tide: ${err.message}\n`)
    return 1
  }
  const detail = err instanceof Error ? (err.stack ?? err.message) : String(err)
  io.stderr.write(`tide: internal error (a bug; please report it): ${detail}\n`)
  return 1
}

function flagSynopsis(name: string, spec: FlagSpec): string {
  const long = spec.short === undefined ? `--${name}` : `-${spec.short}/--${name}`
  return spec.kind === 'boolean' ? long : `${long} ${valueNameOf(spec)}`
}

function valueNameOf(spec: FlagSpec): string {
  if (spec.valueName !== undefined) return spec.valueName
  switch (spec.kind) {
    case 'file':
    case 'output':
      return 'FILE'
    case 'positive-number':
    case 'non-negative-number':
    case 'positive-int':
      return 'N'
    case 'string':
      return spec.choices?.join('|') ?? 'VALUE'
    case 'boolean':
      return ''
  }
}

/** `--help` text of a command of the tree: a command's flags and examples, or a program's or group's commands. */
function helpText(cmd: CommanderCommand): string {
  const node = nodeOf(cmd)
  if (node.table !== undefined) return tableHelp(cmd, node.path)
  const entry = node.entry
  if (!('run' in entry)) return `${entry.summary}\n`
  return commandHelp(entry, node.path, cmd.options)
}

/**
 * `--help` text of one command: the synopsis, summary, description, flags with their notes, and
 * the examples last. `options` are commander's for it (help included), in the order shown.
 */
function commandHelp(command: Command, commandPath: string, options: readonly Option[]): string {
  const lines = [`Usage: ${commandPath} ${command.usage}`.trimEnd(), '', command.summary]
  if (command.description !== undefined) lines.push('', command.description.trim())
  const rows: [string, string][] = []
  for (const option of options) {
    const flag = flagOf.get(option)
    if (flag === undefined) continue
    const { name, spec } = flag
    const left = `${spec.short === undefined ? '    ' : `-${spec.short}, `}--${name}${spec.kind === 'boolean' ? '' : ` ${valueNameOf(spec)}`}`
    const notes = [spec.required === true ? 'required' : '', spec.defaultText === undefined ? '' : `default ${spec.defaultText}`, spec.max === undefined ? '' : `at most ${spec.max}`].filter((s) => s !== '')
    rows.push([left, notes.length === 0 ? spec.description : `${spec.description} (${notes.join('; ')})`])
  }
  rows.push(['-h, --help', 'show this help'])
  lines.push('', 'Flags:', ...columns(rows))
  if (command.examples !== undefined && command.examples.length > 0) {
    lines.push('', 'Examples:')
    for (const e of command.examples) lines.push(`  ${e.command}`, `      ${e.does}`)
  }
  return `${lines.join('\n')}\n`
}

/** The command list of the program or a group, in the table's order. */
function tableHelp(cmd: CommanderCommand, path: string): string {
  const rows: [string, string][] = cmd.commands.filter((c) => c.name() !== 'help').map((c) => [c.name(), c.description()])
  const version = cmd.parent === null && cmd.options.some((o) => o.long === '--version') ? [`'${path} --version' prints its version.`] : []
  return [
    `Usage: ${path} <command> [flags]`,
    '',
    'Commands:',
    ...columns(rows),
    '',
    `Run '${path} <command> --help' (or '${path} help <command>') for a command's flags and examples.`,
    ...version,
    '',
  ].join('\n')
}

function columns(rows: readonly (readonly [string, string])[]): string[] {
  const width = Math.max(0, ...rows.map(([left]) => left.length))
  return rows.map(([left, right]) => `  ${left.padEnd(width)}  ${right}`.trimEnd())
}
