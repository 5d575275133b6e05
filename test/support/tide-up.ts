/**
 * The real `tide up` spawned as a child process (argv, no shell) for tests that need a whole
 * tide: its stdout lines, a bounded wait for one, SIGINT with a bounded wait, and SIGKILL.
 */
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'

const BIN = join(fileURLToPath(new URL('../../', import.meta.url)), 'bin/tide.js')

/** A running `tide up`. */
export interface TideUpProcess {
  readonly lines: string[]
  stderr(): string
  /** The first stdout line matching `re`; throws after `ms` or when tide exits first. */
  waitForLine(re: RegExp, ms?: number): Promise<string>
  /** SIGINT, then the exit code (SIGKILL after 30 s). */
  stop(): Promise<number | null>
  /** SIGKILL at once: a crash, nothing cleaned up. */
  kill(): Promise<void>
}

/** The real `tide up` as a child: its stdout lines, a wait for one, and SIGINT with a bounded wait. */
export function tideUp(args: readonly string[], env: NodeJS.ProcessEnv): TideUpProcess {
  const child = spawn(process.execPath, [BIN, 'up', ...args], { env: { ...process.env, TIDE_DEBUG: '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  const lines: string[] = []
  let partial = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    const parts = (partial + chunk).split('\n')
    partial = parts.pop() ?? ''
    lines.push(...parts)
  })
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk
  })
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve))
  return {
    lines,
    stderr: () => stderr,
    async waitForLine(re, ms = 60_000) {
      const end = Date.now() + ms
      while (Date.now() < end) {
        const hit = lines.find((l) => re.test(l))
        if (hit !== undefined) return hit
        if (child.exitCode !== null) break
        await sleep(50)
      }
      throw new Error(`no line ${String(re)}; stdout:\n${lines.join('\n')}\nstderr:\n${stderr}`)
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT')
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000)
      const code = await exited
      clearTimeout(timer)
      return code
    },
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
      await exited
    },
  }
}

