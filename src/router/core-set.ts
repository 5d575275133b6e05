/**
 * The proxy cores of one router, started and stopped together: one Node proxy core in this
 * process (routing.workers 1), one per node:cluster worker sharing the listen socket (workers 0
 * or more than 1), or one core driving HAProxy (routing.proxy haproxy). Messages to and from
 * them are protocol.ts's. The router's primary (router.ts) runs a CoreSet in tide's own process
 * for `routing.dataPlane: in-process`; the data-plane process (data-plane.ts) runs one for
 * `routing.dataPlane: process`, so that the forwarding outlives tide.
 */
import cluster, { type Worker } from 'node:cluster'
import { createServer } from 'node:net'
import { availableParallelism } from 'node:os'
import { fileURLToPath } from 'node:url'
import { findFreePort } from '../core/free-port.ts'
import type { RoutingSpec } from '../spec/schema.ts'
import { RouterError, listenError } from './errors.ts'
import { HaproxyCore } from './haproxy-core.ts'
import type { FromCore, ToCore } from './protocol.ts'
import { ProxyCore } from './proxy-core.ts'

/** Whether this module runs from the compiled build (dist/, `npm ci`'s prepare script) rather than from src/ through tsx. */
const COMPILED = import.meta.url.endsWith('.js')

/** How long start() waits for cluster workers to listen (they compile TypeScript on start). */
const WORKER_START_TIMEOUT_MS = 30_000

/** A worker process (cluster) or HAProxy died and is being replaced. */
export interface CoreExit {
  readonly index: number
  readonly code: number | null
  readonly signal: string | null
}

/**
 * The cores as the primary sees them: a count, a way to send each a message, and a stop. Two
 * implementations: CoreSet (the cores run here) and DataPlaneCores (data-plane-client.ts: they run
 * in a data-plane process reached over its control socket).
 */
export interface Cores {
  /** How many cores there are (the primary waits for a window from each). */
  readonly count: number
  /** Listens on routing.host:routing.listen; resolves with the port (the chosen one for 0). */
  start(): Promise<number>
  /** Sends core `index` a message; dropped when that core is gone (its exit is reported). */
  send(index: number, msg: ToCore): void
  /**
   * Tells every core to stop (stop accepting, let in-flight requests finish up to graceMs) and
   * resolves once each said `stopped` or exited; a worker that hangs is killed 5 s after graceMs.
   */
  stop(graceMs: number): Promise<void>
}

/** Callbacks of a core set. */
export interface CoreSetEvents {
  /** A message from core `index`. */
  readonly onMessage: (index: number, msg: FromCore) => void
  /** Core `index` (a worker, or HAProxy) died while running; it is being replaced. */
  readonly onExit?: (e: CoreExit) => void
  /** The replacement of core `index` listens: it needs the routing table again. */
  readonly onReplaced?: (index: number) => void
}

/** What a CoreSet runs: the group's routing, and the randomness of an in-process core (tests). */
export interface CoreSetOptions {
  readonly routing: RoutingSpec
  /** Uniform in [0, 1) for p2c picks; Math.random by default. Used only in-process (workers: 1). */
  readonly random?: () => number
}

interface CoreLink {
  send(msg: ToCore): void
  readonly worker: Worker | undefined
}

/** How many cores routing asks for: 1 with HAProxy (it has threads) or workers 1; else workers, 0 meaning one per cpu core. */
export function coreCount(routing: RoutingSpec): number {
  if (routing.proxy === 'haproxy') return 1
  return routing.workers === 0 ? availableParallelism() : routing.workers
}

/** The cores of one router, run from this process. */
export class CoreSet implements Cores {
  readonly #routing: RoutingSpec
  readonly #random: (() => number) | undefined
  readonly #events: CoreSetEvents
  readonly count: number
  #links: CoreLink[] = []
  readonly #stopWaiters = new Map<number, () => void>()
  #state: 'new' | 'running' | 'stopping' = 'new'
  #port = 0

  constructor(options: CoreSetOptions, events: CoreSetEvents) {
    this.#routing = options.routing
    this.#random = options.random
    this.#events = events
    this.count = coreCount(options.routing)
  }

  /** Starts the cores; on failure whatever started is stopped again and the error (TIDE_ERR_ROUTER_LISTEN for an address) is thrown. */
  async start(): Promise<number> {
    const haproxy = this.#routing.proxy === 'haproxy'
    // HAProxy's threads: routing.workers, 0 = one per core.
    const threads = this.#routing.workers === 0 ? availableParallelism() : this.#routing.workers
    try {
      this.#port = haproxy ? await this.#startHaproxy(threads) : this.count === 1 ? await this.#startInProcess() : await this.#startCluster()
    } catch (err) {
      await this.stop(0)
      throw err
    }
    this.#state = 'running'
    return this.#port
  }

  send(index: number, msg: ToCore): void {
    this.#links[index]?.send(msg)
  }

  async stop(graceMs: number): Promise<void> {
    this.#state = 'stopping'
    const waits = this.#links.map(
      (link, index) =>
        new Promise<void>((resolve) => {
          const worker = link.worker
          if (worker && (worker.isDead() || !worker.isConnected())) {
            resolve()
            return
          }
          const kill = worker
            ? setTimeout(() => {
                worker.process.kill('SIGKILL')
              }, graceMs + 5000)
            : undefined
          this.#stopWaiters.set(index, () => {
            clearTimeout(kill)
            this.#stopWaiters.delete(index)
            resolve()
          })
          link.send({ t: 'stop', graceMs })
        }),
    )
    await Promise.all(waits)
  }

  #onMessage(index: number, msg: FromCore): void {
    // In-process, the core is done when it says so; a worker is done when it exits.
    if (msg.t === 'stopped' && !this.#links[index]?.worker) this.#stopWaiters.get(index)?.()
    this.#events.onMessage(index, msg)
  }

  #startInProcess(): Promise<number> {
    const core = new ProxyCore({ routing: this.#routing, cores: 1, ...(this.#random ? { random: this.#random } : {}) }, (msg) => {
      this.#onMessage(0, msg)
    })
    return this.#listenInProcess(core)
  }

  /** routing.proxy haproxy: one core that drives an HAProxy process (its threads: routing.workers, 0 = one per core). */
  #startHaproxy(threads: number): Promise<number> {
    const core = new HaproxyCore(
      {
        routing: this.#routing,
        threads,
        onExit: ({ code, signal }) => {
          if (this.#state === 'running') this.#events.onExit?.({ index: 0, code, signal })
        },
      },
      (msg) => {
        this.#onMessage(0, msg)
      },
    )
    return this.#listenInProcess(core)
  }

  /** The one core of this process: messages to it are function calls. */
  #listenInProcess(core: { handle(msg: ToCore): void; listen(): Promise<number> }): Promise<number> {
    this.#links = [
      {
        send: (msg) => {
          core.handle(msg)
        },
        worker: undefined,
      },
    ]
    return core.listen()
  }

  async #startCluster(): Promise<number> {
    // Every worker would fail alike on an address it cannot take, and Node's cluster reports that
    // badly (a stack from each worker): try the address here first, once.
    if (this.#routing.listen !== 0) await probeListen(this.#routing.host, this.#routing.listen)
    // Cluster workers that listen on port 0 share the primary's one handle for port 0, so every
    // router of this process asking for "any port" would get the same socket (and each other's
    // requests): pick the port here, once, for this router's workers.
    const routing = this.#routing.listen === 0 ? { ...this.#routing, listen: await findFreePort(this.#routing.host) } : this.#routing
    cluster.setupPrimary({
      // The worker is this file's sibling: TypeScript run through tsx, or the compiled build (dist/).
      exec: fileURLToPath(new URL(COMPILED ? './cluster-worker.js' : './cluster-worker.ts', import.meta.url)),
      execArgv: COMPILED ? [] : ['--import', import.meta.resolve('tsx')],
      // The worker reads its settings from TIDE_ROUTER_CORE, not from tide's own command line.
      args: [],
    })
    const ports = await Promise.all(Array.from({ length: this.count }, (_, i) => this.#fork(i, routing)))
    return ports[0] ?? 0
  }

  /** Forks core i and resolves with its port once it listens. */
  #fork(index: number, routing: RoutingSpec): Promise<number> {
    const worker = cluster.fork({ TIDE_ROUTER_CORE: JSON.stringify({ routing, cores: this.count }) })
    const link: CoreLink = {
      send: (msg) => {
        if (worker.isConnected()) worker.send(msg)
      },
      worker,
    }
    this.#links[index] = link
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new RouterError('TIDE_ERR_ROUTER_USAGE', `router worker ${index} did not listen within ${WORKER_START_TIMEOUT_MS / 1000} s`))
      }, WORKER_START_TIMEOUT_MS)
      // An IPC write to a worker that just died (EPIPE) is not worth a crash: its 'exit' says what happened.
      worker.on('error', () => undefined)
      worker.on('message', (msg: FromCore) => {
        if (msg.t === 'listening') {
          clearTimeout(timer)
          resolve(msg.port)
        } else if (msg.t === 'listen-failed') {
          clearTimeout(timer)
          reject(listenError(routing.host, routing.listen, msg.code, msg.message))
        }
        this.#onMessage(index, msg)
      })
      worker.once('exit', (code, signal) => {
        clearTimeout(timer)
        reject(new RouterError('TIDE_ERR_ROUTER_USAGE', `router worker ${index} exited (code ${code}, signal ${signal}) before listening on ${routing.host}:${routing.listen}`))
        this.#onWorkerExit(index, worker, code, signal)
      })
    })
  }

  #onWorkerExit(index: number, worker: Worker, code: number | null, signal: string | null): void {
    this.#stopWaiters.get(index)?.()
    if (this.#state !== 'running' || this.#links[index]?.worker !== worker) return
    this.#events.onExit?.({ index, code, signal })
    // The replacement listens where the others do (the port chosen at start when listen was 0).
    this.#fork(index, { ...this.#routing, listen: this.#port }).then(
      () => {
        this.#events.onReplaced?.(index)
      },
      () => undefined,
    )
  }
}

/** Listens on host:port and closes at once: rejects with the OS error (EADDRINUSE…) when the address cannot be taken. */
function probeListen(host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen({ host, port, exclusive: true }, () => {
      server.close(() => {
        resolve()
      })
    })
  })
}
