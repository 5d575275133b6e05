/**
 * The `tide` command (bin/tide.js runs it from the compiled build in dist/, or through tsx when src/ is newer). The table below is the
 * whole list of commands, in the order `tide --help` shows them. To add a command,
 * write src/cli/NAME.ts exporting `command: Command` (or a `CommandGroup`) and add one
 * line here: `name: () => import('./NAME.ts'),`. Commands load lazily, so a slow import
 * in one command does not slow the others. Flag parsing, help and exit codes live in
 * args.ts.
 */
import { readFileSync } from 'node:fs'
import { runCommandLine, type CommandTable } from './args.ts'

/** Every `tide` command. */
export const commands: CommandTable = {
  simulate: () => import('./simulate.ts'),
  validate: () => import('./validate.ts'),
  import: () => import('./import-hpa.ts'),
  export: () => import('./export.ts'),
  trace: () => import('./trace.ts'),
  demo: () => import('./demo.ts'),
  up: () => import('./up.ts'),
  status: () => import('./status.ts'),
  get: () => import('./get.ts'),
  pause: () => import('./pause.ts'),
  resume: () => import('./resume.ts'),
  protect: () => import('./protect.ts'),
  unprotect: () => import('./unprotect.ts'),
  replay: () => import('./replay.ts'),
  apply: () => import('./apply.ts'),
  scale: () => import('./scale.ts'),
  standby: () => import('./standby.ts'),
  token: () => import('./token.ts'),
  load: () => import('./load.ts'),
  backup: () => import('./backup.ts'),
  restore: () => import('./restore.ts'),
}

// `tide … | head` closes the pipe early; that is not an error worth a stack.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code !== 'EPIPE') throw err
})

/** tide's version, from its package.json (what `tide --version` prints). */
const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }

process.exitCode = await runCommandLine(
  commands,
  process.argv.slice(2),
  {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
  },
  'tide',
  version,
)
