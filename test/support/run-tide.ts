// Runs a tide command line in this process through the real command table, capturing what it
// writes: for tests of many command lines, where spawning a process per line would take seconds
// each. The table is read from src/cli/main.ts's `name: () => import('./FILE.ts')` lines (main.ts
// runs the CLI when imported), so a command added there is covered here without an edit.
import { readFileSync } from 'node:fs'
import { runCommandLine, type CommandEntry, type CommandTable } from '../../src/cli/args.ts'

const mainSource = readFileSync(new URL('../../src/cli/main.ts', import.meta.url), 'utf8')

/** Every command of src/cli/main.ts's table, by name, loaded lazily as main.ts does. */
export const commands: CommandTable = Object.fromEntries(
  [...mainSource.matchAll(/^\s+'?([\w-]+)'?: \(\) => import\('\.\/([\w-]+\.ts)'\),?$/gm)].map(([, name, file]): [string, CommandEntry] => [
    name ?? '',
    () => import(new URL(`../../src/cli/${file ?? ''}`, import.meta.url).href) as Promise<{ command: Awaited<ReturnType<Extract<CommandEntry, () => unknown>>>['command'] }>,
  ]),
)
if (Object.keys(commands).length < 10) throw new Error('test/support/run-tide.ts: could not read the command table of src/cli/main.ts')

/** What one command line did. */
export interface TideRun {
  readonly status: number
  readonly stdout: string
  readonly stderr: string
}

/** What one command line did, as the tests of one command name it. */
export interface CommandRun {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

/**
 * A runner of command lines over `table` (a test's own, e.g. one command with an injected
 * prompt), in this process; `env` is the environment a line sees unless the call gives one.
 */
export function commandRunner(table: CommandTable, env: Readonly<Record<string, string | undefined>> = {}): (argv: readonly string[], lineEnv?: Readonly<Record<string, string | undefined>>) => Promise<CommandRun> {
  return async (argv, lineEnv = env) => {
    let stdout = ''
    let stderr = ''
    const io = {
      stdout: { write: (chunk: string) => (stdout += chunk) },
      stderr: { write: (chunk: string) => (stderr += chunk) },
      env: lineEnv,
    }
    const code = await runCommandLine(table, argv, io)
    return { code, stdout, stderr }
  }
}

const runAll = commandRunner(commands)

/** Runs `argv` (without the program name) with `env` as the environment the command sees. */
export async function runTide(argv: readonly string[], env: Readonly<Record<string, string | undefined>> = {}): Promise<TideRun> {
  const { code, stdout, stderr } = await runAll(argv, env)
  return { status: code, stdout, stderr }
}
