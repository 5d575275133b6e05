/**
 * The frame of the `tide` command line: a table of commands (and groups of
 * subcommands such as `tide trace from-access-log`), flags parsed by node:util parseArgs
 * in strict mode and then validated by kind, `--help` for every command, and one place
 * that turns errors into exit codes and messages:
 * - 0: success;
 * - 1: failure — a TideError prints `tide: <message>` (its stack only with TIDE_DEBUG=1);
 *   any other error is a bug and prints its stack;
 * - 2: usage error — unknown command or flag, missing or bad flag value; the message
 *   names the flag and points at `--help`;
 * - a command may return another status of its own: the API commands return 3 when no tide
 *   answers at the URL (src/cli/api-client.ts).
 */
import { statSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { TideError, didYouMean, isTideError } from '../errors.ts'

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
}

/** Where a command writes. Tests pass buffers; the real CLI passes process.stdout/stderr. */
export interface CommandIo {
  readonly stdout: { write(chunk: string): unknown; readonly isTTY?: boolean }
  readonly stderr: { write(chunk: string): unknown; readonly isTTY?: boolean }
  /** Environment variables (TIDE_DEBUG and whatever commands read). */
  readonly env: Readonly<Record<string, string | undefined>>
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
 * alone (or a group alone, `tide trace`) prints its help to stdout and exits 0.
 */
export async function runCommandLine(table: CommandTable, argv: readonly string[], io: CommandIo, program = 'tide', version?: string): Promise<number> {
  try {
    if (version !== undefined && (argv[0] === '--version' || argv[0] === '-V')) {
      io.stdout.write(`${version}\n`)
      return 0
    }
    return await dispatch(table, [...argv], io, program, version !== undefined)
  } catch (err) {
    return reportError(err, io)
  }
}

async function dispatch(table: CommandTable, argv: string[], io: CommandIo, path: string, hasVersion = false): Promise<number> {
  const name = argv[0]
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(await tableHelp(table, path, hasVersion))
    return 0
  }
  const entry = table[name]
  if (entry === undefined || !Object.hasOwn(table, name)) {
    const hint = didYouMean(name, Object.keys(table))
    throw new UsageError(path, `unknown command '${name}'${hint === undefined ? '' : `; did you mean '${hint}'?`} (commands: ${Object.keys(table).join(', ')})`)
  }
  const resolved = await resolveEntry(entry)
  const commandPath = `${path} ${name}`
  if ('subcommands' in resolved) return dispatch(resolved.subcommands, argv.slice(1), io, commandPath)
  const rest = argv.slice(1)
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stdout.write(commandHelp(resolved, commandPath))
    return 0
  }
  const args = parseCommandArgs(resolved, commandPath, rest)
  try {
    return (await resolved.run(args, io)) ?? 0
  } catch (err) {
    // A usage mistake found inside a command (TIDE_ERR_USAGE from any layer) is still exit 2 with this command's help hint.
    if (isTideError(err, 'TIDE_ERR_USAGE') && !(err instanceof UsageError)) throw new UsageError(commandPath, err.message, { cause: err })
    throw err
  }
}

async function resolveEntry(entry: CommandEntry): Promise<Command | CommandGroup> {
  return typeof entry === 'function' ? (await entry()).command : entry
}

/** Parses and validates `argv` for one command; throws UsageError naming the flag. */
export function parseCommandArgs(command: Command, commandPath: string, argv: readonly string[]): ParsedArgs {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = {}
  for (const [name, spec] of Object.entries(command.flags)) {
    options[name] = { type: spec.kind === 'boolean' ? 'boolean' : 'string', ...(spec.short === undefined ? {} : { short: spec.short }) }
  }
  let parsed: ReturnType<typeof parseArgs>
  try {
    parsed = parseArgs({ args: [...argv], options, allowPositionals: true, strict: true })
  } catch (err) {
    throw new UsageError(commandPath, parseArgsMessage(err, command), { cause: err })
  }
  const values = new Map<string, string | number | boolean>()
  for (const [name, spec] of Object.entries(command.flags)) {
    const raw = parsed.values[name]
    if (raw === undefined) {
      if (spec.required === true) throw new UsageError(commandPath, `missing ${flagSynopsis(name, spec)}`)
      continue
    }
    values.set(name, validateFlag(commandPath, name, spec, raw))
  }
  checkPositionals(command.positionals, commandPath, parsed.positionals)
  return new ParsedArgs(commandPath, values, parsed.positionals)
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
  const min = spec?.min ?? 0
  const max = spec?.max ?? spec?.names.length ?? 0
  const names = spec?.names.join(' ') ?? ''
  if (given.length < min) throw new UsageError(commandPath, `missing argument ${spec?.names[given.length] ?? names}`)
  if (given.length > max) {
    const extra = given[max] ?? ''
    throw new UsageError(commandPath, max === 0 ? `unexpected argument '${extra}'` : `unexpected argument '${extra}' (takes ${names})`)
  }
  if (spec?.kind === 'file') {
    for (const [i, path] of given.entries()) {
      checkFile(path, (why) => new UsageError(commandPath, `${spec.names[i] ?? 'FILE'}: ${why}`))
    }
  }
}

/** Rewrites parseArgs' messages to name the flag and say what to do. */
function parseArgsMessage(err: unknown, command: Command): string {
  const code = (err as { code?: unknown }).code
  const message = err instanceof Error ? err.message : String(err)
  // parseArgs names a flag as '--step', '-z' or '-c, --config <value>': prefer the long name.
  const flag = /(--[\w-]+)/.exec(message)?.[1] ?? /'(-[^' ,]+)/.exec(message)?.[1] ?? ''
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    const hint = didYouMean(flag.replace(/^-+/, ''), Object.keys(command.flags))
    return `unknown flag ${flag}${hint === undefined ? '' : `; did you mean --${hint}?`}`
  }
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    return message.includes('does not take an argument') ? `${flag} is a switch and takes no value` : `${flag} needs a value (one starting with "-" is written ${flag}=VALUE)`
  }
  return message
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

/** `--help` text of one command. */
export function commandHelp(command: Command, commandPath: string): string {
  const lines = [`Usage: ${commandPath} ${command.usage}`.trimEnd(), '', command.summary]
  if (command.description !== undefined) lines.push('', command.description.trim())
  const rows: [string, string][] = Object.entries(command.flags).map(([name, spec]) => {
    const left = `${spec.short === undefined ? '    ' : `-${spec.short}, `}--${name}${spec.kind === 'boolean' ? '' : ` ${valueNameOf(spec)}`}`
    const notes = [spec.required === true ? 'required' : '', spec.defaultText === undefined ? '' : `default ${spec.defaultText}`, spec.max === undefined ? '' : `at most ${spec.max}`].filter((s) => s !== '')
    return [left, notes.length === 0 ? spec.description : `${spec.description} (${notes.join('; ')})`]
  })
  rows.push(['-h, --help', 'show this help'])
  lines.push('', 'Flags:', ...columns(rows))
  if (command.examples !== undefined && command.examples.length > 0) {
    lines.push('', 'Examples:')
    for (const e of command.examples) lines.push(`  ${e.command}`, `      ${e.does}`)
  }
  return `${lines.join('\n')}\n`
}

async function tableHelp(table: CommandTable, path: string, hasVersion: boolean): Promise<string> {
  const rows: [string, string][] = []
  for (const [name, entry] of Object.entries(table)) {
    // One command whose module fails to load must not take the whole help down with it.
    const summary = await resolveEntry(entry).then(
      (c) => c.summary,
      (err: unknown) => `(cannot be loaded: ${err instanceof Error ? err.message.split('\n')[0] ?? '' : String(err)})`,
    )
    rows.push([name, summary])
  }
  const version = hasVersion ? [`'${path} --version' prints its version.`] : []
  return [`Usage: ${path} <command> [flags]`, '', 'Commands:', ...columns(rows), '', `Run '${path} <command> --help' for a command's flags and examples.`, ...version, ''].join('\n')
}

function columns(rows: readonly (readonly [string, string])[]): string[] {
  const width = Math.max(0, ...rows.map(([left]) => left.length))
  return rows.map(([left, right]) => `  ${left.padEnd(width)}  ${right}`)
}
