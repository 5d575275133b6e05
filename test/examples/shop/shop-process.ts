/**
 * Test helper: runs the demo shop as a real process on a free port (PORT=0; the
 * port is read from its 'started' log line) and collects its stdout lines.
 */
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url))

/** A running shop. */
export interface ShopProcess {
  readonly proc: ChildProcess
  readonly port: number
  readonly base: string
  /** Parsed stdout lines so far. */
  readonly lines: Record<string, unknown>[]
  readonly stderr: () => string
  /** Resolves with the exit code once the process has exited. */
  readonly exited: Promise<number | null>
  /** SIGTERM and wait for exit. */
  stop(): Promise<number | null>
}

/** Starts the shop with `env` on top of this process's environment; rejects if it exits before listening. */
export async function startShop(env: Record<string, string>): Promise<ShopProcess> {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'examples/shop/server.ts'], {
    cwd: repoRoot,
    env: { ...process.env, PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const lines: Record<string, unknown>[] = []
  let err = ''
  let buffered = ''
  const exited = once(proc, 'exit').then(([code]) => code as number | null)
  proc.stderr.on('data', (d: Buffer) => (err += d.toString()))
  const port = await new Promise<number>((resolve, reject) => {
    proc.stdout.on('data', (d: Buffer) => {
      buffered += d.toString()
      let nl: number
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = JSON.parse(buffered.slice(0, nl)) as Record<string, unknown>
        buffered = buffered.slice(nl + 1)
        lines.push(line)
        if (line.event === 'started') resolve(line.port as number)
      }
    })
    void exited.then((code) => {
      reject(new Error(`shop exited with ${String(code)} before listening: ${err}`))
    })
  })
  return {
    proc,
    port,
    base: `http://127.0.0.1:${port}`,
    lines,
    stderr: () => err,
    exited,
    stop: () => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM')
      return exited
    },
  }
}

/** Runs the shop to completion with `env` (for start-up failures): exit code and stderr. */
export async function runShopExpectingExit(env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'examples/shop/server.ts'], {
    cwd: repoRoot,
    env: { ...process.env, PORT: '0', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  let stderr = ''
  proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
  const [code] = (await once(proc, 'exit')) as [number | null]
  return { code, stderr }
}
