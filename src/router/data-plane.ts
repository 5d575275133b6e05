/**
 * The data plane of `routing.dataPlane: process`: the group's proxy cores (core-set.ts: one Node
 * core, node:cluster workers, or HAProxy) in a process of their own that tide's death does not
 * kill, listening on routing.listen. tide's router primary (router.ts, through
 * data-plane-client.ts) attaches over a control socket (a unix socket in the state directory,
 * mode 0600) and speaks protocol.ts's messages to each core, wrapped in the envelopes below.
 *
 * While no tide is attached (or a newly attached one has not sent its table yet) the data plane
 * is on its own: it forwards with the last routing table, passive ejection still takes a failing
 * instance out, and it runs the group's active health checks itself (seeded from the last table:
 * routable entries healthy, others unknown), so a dead instance is taken out and a recovered one
 * put back. It logs when tide leaves and every minute while none is attached. A tide that
 * attaches gets a `hello` with the table in force, so that its first table keeps what works.
 */
import { chmodSync, rmSync } from 'node:fs'
import net from 'node:net'
import type { InstanceHealth } from '../core/health.ts'
import { readProcStat } from '../core/proc-stat.ts'
import type { HealthSpec, RoutingSpec } from '../spec/schema.ts'
import { CoreSet, type CoreExit } from './core-set.ts'
import { removeRecord, writeRecord } from './data-plane-record.ts'
import { HealthChecker, type HealthTransition } from './health-checker.ts'
import type { FromCore, TableEntry, ToCore } from './protocol.ts'

/** tide → data plane, one JSON object per line on the control socket. */
export type ToDataPlane =
  /** A message for core `core` (protocol.ts). */
  | { readonly t: 'core'; readonly core: number; readonly msg: ToCore }
  /** tide stops: the cores stop accepting, finish in-flight requests (up to graceMs), then the data plane exits. */
  | { readonly t: 'shutdown'; readonly graceMs: number }

/** data plane → tide, one JSON object per line. */
export type FromDataPlane =
  /** First line on every connection: who this is, and the table in force (undefined before any table). */
  | {
      readonly t: 'hello'
      readonly pid: number
      readonly port: number
      readonly cores: number
      readonly configHash: string
      readonly startedAtMs: number
      readonly entries: readonly TableEntry[] | undefined
      /** Since when no tide has been attached (epoch ms); absent when one was attached up to this connection. */
      readonly unattendedSinceMs?: number
    }
  /** A message from core `core` (protocol.ts). */
  | { readonly t: 'core'; readonly core: number; readonly msg: FromCore }
  /** A core (a cluster worker, HAProxy) died and is being replaced. */
  | { readonly t: 'core-exit'; readonly exit: CoreExit }

/** What a data plane serves, and where it keeps its record and socket. */
export interface DataPlaneOptions {
  readonly group: string
  readonly stateDir: string
  readonly socket: string
  readonly routing: RoutingSpec
  readonly health: HealthSpec
  /** configHash() of routing, health and the core count: a restarted tide compares it with its own. */
  readonly configHash: string
  /** Where log lines go (the process's stdout, which is its log file). */
  readonly log?: (line: string) => void
  /** How often a data plane nobody attends says so; 60 s by default. */
  readonly unattendedLogMs?: number
  /** Called once the data plane stopped after a `shutdown` (the process exits). */
  readonly onShutdown?: () => void
}

/** A data plane: `start()` it, and it serves until told to shut down (or its process is killed). */
export class DataPlane {
  readonly #opts: DataPlaneOptions
  readonly #cores: CoreSet
  readonly #log: (line: string) => void
  #server: net.Server | undefined
  #attached: net.Socket | undefined
  /** The table in force: tide's last, or this data plane's own while it is on its own. */
  #table: readonly TableEntry[] | undefined
  /** The attached tide has sent a table: it decides routability, this data plane only forwards. */
  #tideDecides = false
  #checker: HealthChecker | undefined
  #unattendedSinceMs: number | undefined = Date.now()
  #unattendedTimer: NodeJS.Timeout | undefined
  #startedAtMs = 0
  #port = 0
  #shuttingDown = false

  constructor(options: DataPlaneOptions) {
    this.#opts = options
    this.#log = options.log ?? ((line) => void process.stdout.write(`${new Date().toISOString()} ${line}\n`))
    this.#cores = new CoreSet(
      { routing: options.routing },
      {
        onMessage: (index, msg) => {
          this.#onCoreMessage(index, msg)
        },
        onExit: (exit) => {
          this.#log(`core ${exit.index} exited (code ${exit.code}, signal ${exit.signal}); starting it again`)
          this.#sendTide({ t: 'core-exit', exit })
        },
        onReplaced: (index) => {
          if (this.#table) this.#cores.send(index, { t: 'table', entries: this.#table })
        },
      },
    )
  }

  /** The port it listens on; 0 before start(). */
  get port(): number {
    return this.#port
  }

  /** Whether the data plane decides routability itself now (no tide attached, or none has sent a table yet). */
  get autonomous(): boolean {
    return !this.#tideDecides
  }

  /**
   * Starts the cores on routing.listen, then the control socket (mode 0600), then writes the
   * record. Rejects with the cores' error (TIDE_ERR_ROUTER_LISTEN for an address) having started nothing.
   */
  async start(): Promise<number> {
    this.#port = await this.#cores.start()
    this.#startedAtMs = Date.now()
    rmSync(this.#opts.socket, { force: true })
    const server = net.createServer(this.#onConnection)
    this.#server = server
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(this.#opts.socket, () => {
        server.off('error', reject)
        resolve()
      })
    })
    chmodSync(this.#opts.socket, 0o600)
    const startTime = readProcStat(process.pid)?.startTime ?? ''
    writeRecord(this.#opts.stateDir, {
      group: this.#opts.group,
      pid: process.pid,
      startTime,
      socket: this.#opts.socket,
      host: this.#opts.routing.host,
      port: this.#port,
      proxy: this.#opts.routing.proxy,
      configHash: this.#opts.configHash,
      startedAtMs: this.#startedAtMs,
    })
    this.#log(`data plane of ${this.#opts.group} serving on ${this.#opts.routing.host}:${this.#port} (${this.#opts.routing.proxy === 'haproxy' ? 'haproxy' : `${this.#cores.count} core(s)`}), control socket ${this.#opts.socket}`)
    this.#scheduleUnattendedLog()
    return this.#port
  }

  /** Stops the cores (graceful, up to graceMs), the checks and the control socket, and removes the record. Safe to call twice. */
  async shutdown(graceMs: number): Promise<void> {
    if (this.#shuttingDown) return
    this.#shuttingDown = true
    this.#log(`shutting down (grace ${graceMs} ms)`)
    clearTimeout(this.#unattendedTimer)
    this.#checker?.stop()
    this.#checker = undefined
    await this.#cores.stop(graceMs)
    removeRecord(this.#opts.stateDir, this.#opts.group, process.pid)
    this.#server?.close()
    rmSync(this.#opts.socket, { force: true })
    this.#attached?.end()
    this.#log('stopped')
    this.#opts.onShutdown?.()
  }

  // ── the control channel ────────────────────────────────────────────────────

  readonly #onConnection = (socket: net.Socket): void => {
    if (this.#shuttingDown) {
      socket.destroy()
      return
    }
    // The newest tide wins: a restarted tide may connect before the kernel told us the old one is gone.
    if (this.#attached) {
      this.#log('another tide attached: dropping the previous control connection')
      this.#attached.destroy()
    }
    this.#attached = socket
    const unattendedSinceMs = this.#unattendedSinceMs
    this.#unattendedSinceMs = undefined
    clearTimeout(this.#unattendedTimer)
    this.#tideDecides = false
    this.#log(unattendedSinceMs === undefined ? 'tide attached' : `tide attached after ${((Date.now() - unattendedSinceMs) / 1000).toFixed(1)} s without one`)
    this.#write(socket, {
      t: 'hello',
      pid: process.pid,
      port: this.#port,
      cores: this.#cores.count,
      configHash: this.#opts.configHash,
      startedAtMs: this.#startedAtMs,
      entries: this.#table,
      ...(unattendedSinceMs === undefined ? {} : { unattendedSinceMs }),
    })
    socket.setEncoding('utf8')
    let partial = ''
    socket.on('data', (chunk: string) => {
      const lines = (partial + chunk).split('\n')
      partial = lines.pop() ?? ''
      for (const line of lines) if (line !== '') this.#onTideLine(socket, line)
    })
    socket.on('error', () => undefined)
    socket.on('close', () => {
      if (this.#attached !== socket) return
      this.#attached = undefined
      if (this.#shuttingDown) return
      this.#unattendedSinceMs = Date.now()
      this.#becomeAutonomous()
      const routable = this.#table?.filter((e) => e.routable && e.backup !== true).length ?? 0
      this.#log(`tide detached: serving on with the last routing table (${this.#table?.length ?? 0} entries, ${routable} routable); health checks run here until a tide attaches`)
      this.#scheduleUnattendedLog()
    })
  }

  #onTideLine(socket: net.Socket, line: string): void {
    if (socket !== this.#attached) return
    let msg: ToDataPlane
    try {
      msg = JSON.parse(line) as ToDataPlane
    } catch {
      this.#log(`control: unreadable line dropped (${line.slice(0, 80)})`)
      return
    }
    if (msg.t === 'shutdown') {
      void this.shutdown(msg.graceMs)
      return
    }
    if (msg.msg.t === 'table') {
      this.#table = msg.msg.entries
      if (!this.#tideDecides) {
        this.#tideDecides = true
        this.#checker?.stop()
        this.#checker = undefined
      }
    }
    this.#cores.send(msg.core, msg.msg)
  }

  #sendTide(msg: FromDataPlane): void {
    if (this.#attached) this.#write(this.#attached, msg)
  }

  #write(socket: net.Socket, msg: FromDataPlane): void {
    if (!socket.destroyed) socket.write(`${JSON.stringify(msg)}\n`)
  }

  #onCoreMessage(index: number, msg: FromCore): void {
    if (msg.t === 'eject' && !this.#tideDecides) this.#checker?.eject(msg.id, `${msg.failures} consecutive failures (last: ${msg.reason})`)
    this.#sendTide({ t: 'core', core: index, msg })
  }

  // ── on its own ─────────────────────────────────────────────────────────────

  /**
   * Takes over the health checks of the table's primaries: routable ones start healthy, others
   * unknown (so a failing one is not condemned by a grace period it no longer has); backup
   * targets keep their last routability.
   */
  #becomeAutonomous(): void {
    this.#tideDecides = false
    if (this.#checker || !this.#table) return
    const checker = new HealthChecker(this.#opts.health, this.#onHealthChange)
    this.#checker = checker
    for (const e of this.#table) {
      if (e.backup === true || e.draining) continue
      const seed: InstanceHealth = e.routable ? 'healthy' : 'unknown'
      checker.add(e.id, { host: e.host, port: e.port }, Date.now() - this.#opts.health.graceSeconds * 1000, seed)
    }
  }

  readonly #onHealthChange = (t: HealthTransition): void => {
    if (this.#tideDecides || !this.#table) return
    this.#log(`on its own: instance ${t.id} ${t.from} → ${t.to} (${t.cause}: ${t.detail})`)
    const checker = this.#checker
    if (!checker) return
    this.#table = this.#table.map((e) => (e.backup === true || e.draining ? e : { ...e, routable: checker.health(e.id) === 'healthy' }))
    for (let i = 0; i < this.#cores.count; i++) this.#cores.send(i, { t: 'table', entries: this.#table })
  }

  #scheduleUnattendedLog(): void {
    clearTimeout(this.#unattendedTimer)
    const every = this.#opts.unattendedLogMs ?? 60_000
    this.#unattendedTimer = setTimeout(() => {
      const since = this.#unattendedSinceMs
      if (since === undefined || this.#shuttingDown) return
      this.#log(`no tide attached for ${Math.round((Date.now() - since) / 1000)} s: still serving ${this.#opts.group} on ${this.#opts.routing.host}:${this.#port} (stop it with \`kill ${process.pid}\`, or start tide up with this state directory to adopt it)`)
      this.#scheduleUnattendedLog()
    }, every)
    this.#unattendedTimer.unref()
  }
}
