/**
 * A real Prometheus server for tests: it scrapes a node:http server on 127.0.0.1 that exposes
 * gauges in the text exposition format, which the test sets. Started on a free port with a
 * temporary TSDB, scraping every second; `waitFor` polls the query API (bounded) until a query
 * returns the wanted value. Tests using it skip with missingBinary('prometheus').
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { findFreePort } from '../../src/core/free-port.ts'
import { binaryPath } from './system-binaries.ts'

/** A running Prometheus and the exporter it scrapes. */
export interface TestPrometheus {
  /** The server's base URL, http://127.0.0.1:PORT. */
  readonly url: string
  /** Sets a gauge the exporter serves (created on first use); undefined removes it. */
  setGauge(name: string, value: number | undefined): void
  /** Resolves once `query` evaluates to `want` (one sample); rejects after `timeoutMs`. */
  waitFor(query: string, want: number, timeoutMs?: number): Promise<void>
  /** Stops Prometheus and the exporter and removes the TSDB. */
  stop(): Promise<void>
}

/** Starts the exporter and Prometheus; resolves once Prometheus answers /-/ready (at most 30 s). */
export async function startPrometheus(): Promise<TestPrometheus> {
  const binary = binaryPath('prometheus')
  if (binary === undefined) throw new Error('prometheus is not installed (apt-get install prometheus)')
  const gauges = new Map<string, number>()
  const exporter = createServer((req, res) => {
    const lines = [...gauges].map(([name, value]) => `# TYPE ${name} gauge\n${name} ${value}\n`)
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' })
    res.end(lines.join(''))
  })
  await new Promise<void>((resolve) => exporter.listen(0, '127.0.0.1', resolve))
  const exporterPort = (exporter.address() as AddressInfo).port
  const dir = mkdtempSync(join(tmpdir(), 'tide-prometheus-'))
  const port = await findFreePort('127.0.0.1')
  const config = join(dir, 'prometheus.yml')
  writeFileSync(
    config,
    [
      'global: { scrape_interval: 1s, evaluation_interval: 1s }',
      'scrape_configs:',
      `  - { job_name: app, scrape_interval: 1s, static_configs: [ { targets: ['127.0.0.1:${exporterPort}'] } ] }`,
      '',
    ].join('\n'),
  )
  const child = spawn(
    binary,
    [`--config.file=${config}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  )
  let stderr = ''
  child.stderr.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-2000)
  })
  const url = `http://127.0.0.1:${port}`
  const stop = async (): Promise<void> => {
    await stopChild(child)
    exporter.closeAllConnections()
    await new Promise<void>((resolve) => exporter.close(() => { resolve(); }))
    rmSync(dir, { recursive: true, force: true })
  }
  try {
    await until(30_000, async () => (await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(1000) })).ok, () => `prometheus did not become ready: ${stderr}`, child)
  } catch (err) {
    await stop()
    throw err
  }
  return {
    url,
    setGauge(name, value) {
      if (value === undefined) gauges.delete(name)
      else gauges.set(name, value)
    },
    async waitFor(query, want, timeoutMs = 30_000) {
      let last = 'no answer'
      await until(
        timeoutMs,
        async () => {
          const res = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(query)}`, { signal: AbortSignal.timeout(1000) })
          const body = (await res.json()) as { data?: { result?: { value?: [number, string] }[] } }
          last = JSON.stringify(body.data?.result)
          return Number(body.data?.result?.[0]?.value?.[1]) === want
        },
        () => `${query} did not become ${want}: last ${last}`,
        child,
      )
    },
    stop,
  }
}

/** Polls `check` every 200 ms until it is true; rejects after `timeoutMs` or when `child` exits. */
async function until(timeoutMs: number, check: () => Promise<boolean>, why: () => string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (child.exitCode !== null) throw new Error(`prometheus exited (${child.exitCode}): ${why()}`)
    try {
      if (await check()) return
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(why())
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
}

/** SIGTERM, then SIGKILL after 5 s; resolves when the process has exited. */
async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise<void>((resolve) => child.once('exit', () => { resolve(); }))
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
  await exited
  clearTimeout(timer)
}
