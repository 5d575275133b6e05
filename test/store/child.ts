// Runs a fixture script in a real child process and waits for its "ready" line.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import type { TestContext } from 'node:test'

/** A fixture process; `output` collects its stdout. */
export interface Child {
  readonly proc: ChildProcessWithoutNullStreams
  output: string
}

/** Starts test/store/fixtures/NAME.ts with `args`; resolves once it prints "ready" (rejects if it exits first). */
export async function startFixture(t: TestContext, name: string, args: readonly string[]): Promise<Child> {
  const script = fileURLToPath(new URL(`./fixtures/${name}.ts`, import.meta.url))
  const proc = spawn(process.execPath, ['--import', 'tsx', script, ...args], { stdio: ['pipe', 'pipe', 'pipe'] })
  const child: Child = { proc, output: '' }
  let stderr = ''
  proc.stderr.on('data', (b: Buffer) => (stderr += b.toString()))
  t.after(() => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL')
  })
  await new Promise<void>((resolve, reject) => {
    proc.stdout.on('data', (b: Buffer) => {
      child.output += b.toString()
      if (child.output.includes('ready\n')) resolve()
    })
    proc.once('exit', (code) => {
      reject(new Error(`fixture ${name} exited (${code}) before ready: ${stderr}`))
    })
  })
  return child
}

/** Closes the child's stdin (its signal to finish) and waits for it to exit; returns its exit code. */
export async function finish(child: Child): Promise<number | null> {
  const exited = child.proc.exitCode !== null ? Promise.resolve() : once(child.proc, 'exit').then(() => undefined)
  child.proc.stdin.end()
  await exited
  return child.proc.exitCode
}
