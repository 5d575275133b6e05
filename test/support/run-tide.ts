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

/** Runs `argv` (without the program name) with `env` as the environment the command sees. */
export async function runTide(argv: readonly string[], env: Readonly<Record<string, string | undefined>> = {}): Promise<TideRun> {
  let stdout = ''
  let stderr = ''
  const io = {
    stdout: { write: (chunk: string) => (stdout += chunk) },
    stderr: { write: (chunk: string) => (stderr += chunk) },
    env,
  }
  const status = await runCommandLine(commands, argv, io)
  return { status, stdout, stderr }
}
