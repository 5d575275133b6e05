/**
 * The demo shop that tide scales: `node --import tsx examples/shop/server.ts`.
 * Listens on 127.0.0.1:$PORT. On start it calibrates its cpu work, opens (and on
 * first start seeds) the SQLite file, starts ceil(TIDE_CPU) work threads and logs one
 * line; on SIGTERM or SIGINT it stops accepting, finishes in-flight requests, closes
 * and logs one line, then exits 0 (1 if in-flight work outlived
 * SHOP_SHUTDOWN_TIMEOUT_MS). No per-request logs. See examples/shop/README.md.
 */
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createShopHandler } from './app.ts'
import { readShopConfig } from './config.ts'
import type { ShopConfig } from './config.ts'
import { ShopStore } from './store.ts'
import { TrafficGate } from './traffic-gate.ts'
import { calibrateIterationsPerMs } from './work.ts'
import { WorkPool } from './work-pool.ts'

function logLine(fields: Record<string, unknown>): void {
  process.stdout.write(JSON.stringify({ atMs: Date.now(), ...fields }) + '\n')
}

function main(): void {
  let config: ShopConfig
  try {
    config = readShopConfig(process.env)
  } catch (err) {
    process.stderr.write(`shop: ${(err as Error).message}\n`)
    process.exit(2)
  }
  const startedMs = performance.now()
  const store = new ShopStore(config.dbPath, config.instanceId, config.memoryMiB / 8)
  const iterationsPerMs = config.workMs > 0 ? calibrateIterationsPerMs() : 0
  const pool = config.workMs > 0 ? new WorkPool({ cpu: config.cpu, iterationsPerMs }) : undefined
  const gate = new TrafficGate()
  const handler = createShopHandler({
    config,
    store,
    gate,
    pool,
    nowMs: () => Date.now(),
    logError: (err, where) => {
      logLine({ event: 'error', instance: config.instanceId, where, error: err instanceof Error ? err.message : String(err) })
    },
  })
  const server = createServer({ keepAliveTimeout: 5000 }, handler)

  let stopping = false
  const stop = (signal: string): void => {
    if (stopping) return
    stopping = true
    gate.drain()
    const timer = setTimeout(() => {
      logLine({ event: 'stopped', instance: config.instanceId, signal, clean: false, inFlight: gate.inFlight, served: gate.served })
      process.exit(1)
    }, config.shutdownTimeoutMs)
    server.close()
    server.closeIdleConnections()
    void gate.idle().then(async () => {
      server.closeAllConnections()
      await pool?.close()
      store.close()
      clearTimeout(timer)
      logLine({ event: 'stopped', instance: config.instanceId, signal, clean: true, served: gate.served, rejected: gate.rejected })
      process.exit(0)
    })
  }
  process.on('SIGTERM', () => {
    stop('SIGTERM')
  })
  process.on('SIGINT', () => {
    stop('SIGINT')
  })

  server.listen(config.port, '127.0.0.1', () => {
    const port = (server.address() as AddressInfo).port
    logLine({
      event: 'started',
      instance: config.instanceId,
      pid: process.pid,
      port,
      cpu: config.cpu,
      memoryMiB: config.memoryMiB,
      workThreads: pool?.threads ?? 0,
      workMs: config.workMs,
      iterationsPerMs,
      db: config.dbPath,
      products: store.productCount(),
      startupMs: Math.round(performance.now() - startedMs),
    })
  })
}

main()
