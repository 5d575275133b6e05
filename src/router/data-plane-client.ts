/**
 * tide's side of `routing.dataPlane: process`: the router primary's cores (core-set.ts's Cores)
 * when they run in a data-plane process (data-plane.ts) instead of tide's own.
 *
 * start() finds the group's data plane from its record in the state directory
 * (data-plane-record.ts): alive (same pid and start time), answering on its control socket and
 * built from the same config (hash) → adopted, without touching its listen socket; built from
 * another config → replaced (a new address: the new one starts first, then the old one drains;
 * the same address: the old one drains first, as one port cannot be handed between unrelated
 * processes on Node 20, so connections are refused for the moment between); none, or a stale
 * record → a new one is started, detached (own session and process group, stdio to its log, a
 * minimal environment without tide's secrets). If the control connection drops while tide runs
 * (the data plane died), it is found or started again within a second and the primary re-sends
 * its table.
 *
 * A data plane killed on its own (SIGKILL, an OOM kill) leaves its children running: HAProxy keeps
 * the port and serves the table it had, for good. So a data plane and every process it starts
 * carry TIDE_DATA_PLANE_OF (the state directory and group) in their environment, and before a
 * new one starts where none lives, whatever still carries the group's mark is stopped (SIGKILL).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, statSync } from 'node:fs'
import net from 'node:net'
import { resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { HealthSpec, RoutingSpec } from '../spec/schema.ts'
import { coreCount, type CoreSetEvents, type Cores } from './core-set.ts'
import { processesWithEnv } from '../core/proc-environ.ts'
import { isRunning, readProcStat } from '../core/proc-stat.ts'
import { configHash, dataPlaneDir, isAlive, listRecords, logPath, readRecord, removeRecord, socketPath, writeRecord, type DataPlaneRecord } from './data-plane-record.ts'
import type { FromDataPlane, ToDataPlane } from './data-plane.ts'
import { RouterError, listenError } from './errors.ts'
import type { TableEntry, ToCore } from './protocol.ts'

/** Whether this module runs from the compiled build (dist/) rather than from src/ through tsx. */
const COMPILED = import.meta.url.endsWith('.js')

/** How long a new data plane may take to answer on its control socket (its cluster workers compile TypeScript). */
const START_TIMEOUT_MS = 40_000
/** How long an existing data plane may take to answer its hello. */
const HELLO_TIMEOUT_MS = 5_000
/** How long after the control connection dropped tide looks for (or starts) the data plane again. */
const RECOVER_DELAY_MS = 1_000
/** The variable that marks a data plane and every process it starts with its state directory and group (ownerMark). */
const OWNER_ENV = 'TIDE_DATA_PLANE_OF'
/** How long stopped leftovers may take to be gone (and their port free). */
const LEFTOVER_WAIT_MS = 5_000
/** Variables of tide's environment a data plane inherits: enough to run node and haproxy, none of tide's secrets. */
const KEPT_ENV = ['PATH', 'HOME', 'LANG', 'LC_ALL', 'TZ', 'TMPDIR'] as const

/** How tide came by its data plane. */
export interface DataPlaneAttachment {
  /** started: none ran; adopted: one ran with the same config and was re-attached; replaced: one ran with another config (or did not answer). */
  readonly kind: 'started' | 'adopted' | 'replaced'
  readonly pid: number
  /** When the data plane started listening, epoch ms. */
  readonly startedAtMs: number
  /** Adopted: since when no tide had been attached (epoch ms). */
  readonly unattendedSinceMs?: number
  /** Adopted: the routing table it was serving with (the primary keeps its routable instances routable). */
  readonly entries?: readonly TableEntry[]
  /** Replaced: why the old one could not be adopted. */
  readonly reason?: string
  /** Adopted: from reading its record to its hello on the control socket, ms. */
  readonly attachMs?: number
  /** Started: processes a dead data plane of the group had left running (its HAProxy, say), stopped first. */
  readonly leftovers?: number
}

/** What DataPlaneCores needs: the group, the state directory, and what its data plane is built from. */
export interface DataPlaneCoresOptions {
  readonly group: string
  readonly stateDir: string
  readonly routing: RoutingSpec
  readonly health: HealthSpec
}

/** One control connection with the hello it opened with. */
interface Connection {
  readonly socket: net.Socket
  readonly hello: Extract<FromDataPlane, { t: 'hello' }>
  /** What came after the hello, unread: the socket is paused until attached. */
  readonly rest: string
}

/** The cores of a router that run in a data-plane process. */
export class DataPlaneCores implements Cores {
  readonly #opts: DataPlaneCoresOptions
  readonly #events: CoreSetEvents
  readonly count: number
  readonly #hash: string
  #conn: Connection | undefined
  #attachment: DataPlaneAttachment | undefined
  #state: 'new' | 'running' | 'recovering' | 'stopping' | 'stopped' | 'released' = 'new'
  #recoverTimer: NodeJS.Timeout | undefined
  /** The port the data plane listens on (after start()): one started again while tide runs takes the same. */
  #port = 0

  constructor(options: DataPlaneCoresOptions, events: CoreSetEvents) {
    this.#opts = options
    this.#events = events
    this.count = coreCount(options.routing)
    this.#hash = configHash(options.routing, options.health, this.count)
  }

  /** How tide came by the data plane (after start()). */
  get attachment(): DataPlaneAttachment | undefined {
    return this.#attachment
  }

  /** The pid of the data-plane process attached now; undefined before start() or while it is being found again. */
  get pid(): number | undefined {
    return this.#conn?.hello.pid
  }

  /**
   * Adopts the group's data plane, replaces it, or starts one (the file comment says when);
   * resolves with the port it listens on. Rejects with TIDE_ERR_ROUTER_LISTEN naming the address
   * when a new one cannot listen there, TIDE_ERR_ROUTER_USAGE when it cannot start otherwise.
   */
  async start(): Promise<number> {
    mkdirSync(dataPlaneDir(this.#opts.stateDir), { recursive: true, mode: 0o700 })
    const record = readRecord(this.#opts.stateDir, this.#opts.group)
    const port = record !== undefined && isAlive(record) ? await this.#adoptOrReplace(record) : await this.#startFresh(record)
    this.#port = port
    this.#state = 'running'
    return port
  }

  /** No live data plane: removes a stale record (its process is gone: a reboot, a kill) and starts one. */
  async #startFresh(stale: DataPlaneRecord | undefined): Promise<number> {
    if (stale !== undefined) {
      removeRecord(this.#opts.stateDir, this.#opts.group, stale.pid)
      rmSync(stale.socket, { force: true })
    }
    const leftovers = await stopLeftovers(this.#opts.stateDir, this.#opts.group)
    const port = await this.#spawnAndAttach()
    this.#attachment = { kind: 'started', pid: this.#conn?.hello.pid ?? 0, startedAtMs: this.#conn?.hello.startedAtMs ?? 0, ...(leftovers > 0 ? { leftovers } : {}) }
    return port
  }

  /** A live data plane: adopted when it answers with the same config hash, else replaced (the file comment says in which order). */
  async #adoptOrReplace(record: DataPlaneRecord): Promise<number> {
    const t0 = Date.now()
    const conn = record.port === 0 ? await connectWhileStarting(record) : await connect(record.socket, HELLO_TIMEOUT_MS).catch(() => undefined)
    if (conn !== undefined && conn.hello.configHash === this.#hash) {
      this.#attach(conn)
      const h = conn.hello
      this.#attachment = { kind: 'adopted', pid: h.pid, startedAtMs: h.startedAtMs, attachMs: Date.now() - t0, ...(h.unattendedSinceMs === undefined ? {} : { unattendedSinceMs: h.unattendedSinceMs }), ...(h.entries === undefined ? {} : { entries: h.entries }) }
      return h.port
    }
    const reason = conn === undefined ? `data plane pid ${record.pid} did not answer on its control socket ${record.socket}` : this.#whyIncompatible(record)
    const graceMs = this.#opts.routing.drainSeconds * 1000
    let port: number
    if (conn !== undefined && !this.#sameAddress(record)) {
      // A new address: the new data plane listens first, then the old one drains.
      port = await this.#spawnAndAttach()
      await retire(record, conn, graceMs)
    } else {
      await retire(record, conn, graceMs)
      port = await this.#spawnAndAttach()
    }
    this.#attachment = { kind: 'replaced', pid: this.#conn?.hello.pid ?? 0, startedAtMs: this.#conn?.hello.startedAtMs ?? 0, reason }
    return port
  }

  send(index: number, msg: ToCore): void {
    this.#write({ t: 'core', core: index, msg })
  }

  /**
   * Stops the data plane: it stops accepting, lets in-flight requests finish (up to graceMs),
   * then exits; resolves when it is gone (SIGKILL 10 s after graceMs if it is not).
   */
  async stop(graceMs: number): Promise<void> {
    if (this.#state === 'stopped' || this.#state === 'stopping') return
    this.#state = 'stopping'
    clearTimeout(this.#recoverTimer)
    const conn = this.#conn
    const record = readRecord(this.#opts.stateDir, this.#opts.group)
    this.#conn = undefined
    if (conn !== undefined && record !== undefined && record.pid === conn.hello.pid) await retire(record, conn, graceMs)
    else conn?.socket.destroy()
    this.#state = 'stopped'
  }

  /**
   * Leaves the data plane serving (tide up --keep-instances): closes the control connection
   * only; the data plane goes on with its last table and its own health checks, and the next
   * tide adopts it.
   */
  release(): Promise<void> {
    this.#state = 'released'
    clearTimeout(this.#recoverTimer)
    const conn = this.#conn
    this.#conn = undefined
    if (conn === undefined) return Promise.resolve()
    return new Promise((resolve) => {
      conn.socket.once('close', () => {
        resolve()
      })
      conn.socket.end()
      setTimeout(() => {
        conn.socket.destroy()
        resolve()
      }, 2000).unref()
    })
  }

  #write(msg: ToDataPlane): void {
    const socket = this.#conn?.socket
    if (socket !== undefined && !socket.destroyed && socket.writable) socket.write(`${JSON.stringify(msg)}\n`)
  }

  #whyIncompatible(record: DataPlaneRecord): string {
    const r = this.#opts.routing
    if (record.proxy !== r.proxy) return `routing.proxy changed (${record.proxy} → ${r.proxy})`
    if (!this.#sameAddress(record) && r.listen !== 0) return `routing listen address changed (${record.host}:${record.port} → ${r.host}:${r.listen})`
    return `the group's routing, health or core count changed (config hash ${record.configHash} → ${this.#hash})`
  }

  /** Whether a new data plane would listen where the recorded one does (then the old one must go first). */
  #sameAddress(record: DataPlaneRecord): boolean {
    return this.#opts.routing.listen !== 0 && record.host === this.#opts.routing.host && record.port === this.#opts.routing.listen
  }

  /**
   * Starts a data-plane process and attaches to it; resolves with its port. `listen` overrides
   * routing.listen (a data plane started again while tide runs keeps the port chosen for 0); the
   * config hash stays the config's.
   */
  async #spawnAndAttach(listen?: number): Promise<number> {
    const { group, stateDir, health } = this.#opts
    const routing = listen === undefined ? this.#opts.routing : { ...this.#opts.routing, listen }
    const socket = socketPath(stateDir, group)
    const log = logPath(stateDir, group)
    const logStart = existsSync(log) ? statSync(log).size : 0
    const { child, status } = spawnDataPlane(log, stateDir, ownerMark(stateDir, group), { group, stateDir, socket, routing, health, configHash: this.#hash })
    const pid = child.pid ?? 0
    // Recorded at once, port 0 (starting): a tide killed before the data plane listens leaves a
    // record the next tide waits on, rather than a data plane nobody knows of.
    const startTime = readProcStat(pid)?.startTime
    if (startTime !== undefined) writeRecord(stateDir, { group, pid, startTime, socket, host: routing.host, port: 0, proxy: routing.proxy, configHash: this.#hash, startedAtMs: 0 })
    const deadline = Date.now() + START_TIMEOUT_MS
    for (;;) {
      if (status.exited) {
        removeRecord(stateDir, group, pid)
        throw startFailure(log, logStart, routing)
      }
      const conn = await connect(socket, 1000).catch(() => undefined)
      if (conn !== undefined && conn.hello.pid === pid) {
        this.#attach(conn)
        return conn.hello.port
      }
      conn?.socket.destroy()
      if (Date.now() > deadline) {
        child.kill('SIGKILL')
        removeRecord(stateDir, group, pid)
        throw new RouterError('TIDE_ERR_ROUTER_USAGE', `group ${group}: its data plane (pid ${pid}) did not answer on ${socket} within ${START_TIMEOUT_MS / 1000} s; see ${log}`)
      }
      await sleep(50)
    }
  }

  /** Takes a connection as the one to the data plane: its messages go to the primary. */
  #attach(conn: Connection): void {
    this.#conn = conn
    const { socket } = conn
    let partial = ''
    const onData = (chunk: string): void => {
      const lines = (partial + chunk).split('\n')
      partial = lines.pop() ?? ''
      for (const line of lines) {
        if (line === '') continue
        let msg: FromDataPlane
        try {
          msg = JSON.parse(line) as FromDataPlane
        } catch {
          continue
        }
        if (msg.t === 'core') this.#events.onMessage(msg.core, msg.msg)
        else if (msg.t === 'core-exit') this.#events.onExit?.(msg.exit)
      }
    }
    if (conn.rest !== '') onData(conn.rest)
    socket.on('data', onData)
    socket.resume()
    socket.on('close', () => {
      if (this.#conn !== conn || this.#state !== 'running') return
      // The data plane died under a running tide: find it (or start another) and send it the table again.
      this.#conn = undefined
      this.#state = 'recovering'
      this.#events.onExit?.({ index: 0, code: null, signal: 'data plane connection lost' })
      this.#recoverTimer = setTimeout(() => void this.#recover(), RECOVER_DELAY_MS)
    })
  }

  /** Lets go of the connection #recover made after a stop() or release() came: stops that data plane unless released. */
  async #dropFound(stop: boolean): Promise<void> {
    const found = this.#conn
    this.#conn = undefined
    const rec = readRecord(this.#opts.stateDir, this.#opts.group)
    if (stop && found !== undefined && rec?.pid === found.hello.pid) await retire(rec, found, 0)
    else found?.socket.destroy()
  }

  async #recover(): Promise<void> {
    if (this.#state !== 'recovering') return
    try {
      const record = readRecord(this.#opts.stateDir, this.#opts.group)
      const conn = record !== undefined && isAlive(record) ? await connect(record.socket, HELLO_TIMEOUT_MS).catch(() => undefined) : undefined
      if (conn !== undefined && conn.hello.configHash === this.#hash) this.#attach(conn)
      else {
        conn?.socket.destroy()
        if (record === undefined || !isAlive(record)) await stopLeftovers(this.#opts.stateDir, this.#opts.group)
        await this.#spawnAndAttach(this.#port)
      }
      // A stop() while this ran wins: the data plane found or started here stops too (a release() leaves it serving).
      if ((this.#state as string) !== 'recovering') {
        await this.#dropFound((this.#state as string) !== 'released')
        return
      }
      this.#state = 'running'
      for (let i = 0; i < this.count; i++) this.#events.onReplaced?.(i)
    } catch {
      if (this.#state === 'recovering') this.#recoverTimer = setTimeout(() => void this.#recover(), RECOVER_DELAY_MS)
    }
  }
}

/**
 * Stops every data plane recorded in `stateDir` whose group is not in `keep` (a group removed from
 * the config while tide was down, or one switched to routing.dataPlane in-process), gracefully
 * (up to graceMs for requests in flight); stale records are removed. Returns a sentence per
 * data plane stopped, for the event log.
 */
export async function stopDataPlanesExcept(stateDir: string, keep: ReadonlySet<string>, graceMs: number): Promise<{ group: string; message: string }[]> {
  const out: { group: string; message: string }[] = []
  for (const record of listRecords(stateDir)) {
    if (keep.has(record.group)) continue
    if (!isAlive(record)) {
      removeRecord(stateDir, record.group, record.pid)
      rmSync(record.socket, { force: true })
      continue
    }
    const conn = await connect(record.socket, HELLO_TIMEOUT_MS).catch(() => undefined)
    await retire(record, conn, graceMs)
    removeRecord(stateDir, record.group, record.pid)
    out.push({ group: record.group, message: `data plane of ${record.group} stopped (pid ${record.pid}, ${record.host}:${record.port}): the group no longer has a data-plane process in this config` })
  }
  return out
}

/**
 * Spawns data-plane-main detached (own session and process group), stdout and stderr appended to
 * `log`, cwd the state directory, with only KEPT_ENV of tide's environment, its settings in
 * TIDE_DATA_PLANE and its group's mark in TIDE_DATA_PLANE_OF (inherited by what it starts); unref'd, so tide's exit does not wait for it. `status.exited` turns true when it exits.
 */
function spawnDataPlane(log: string, cwd: string, owner: string, settings: Record<string, unknown>): { child: ChildProcess; status: { exited: boolean } } {
  const entry = fileURLToPath(new URL(COMPILED ? './data-plane-main.js' : './data-plane-main.ts', import.meta.url))
  const execArgv = COMPILED ? [] : ['--import', import.meta.resolve('tsx')]
  const env: NodeJS.ProcessEnv = {}
  for (const k of KEPT_ENV) if (process.env[k] !== undefined) env[k] = process.env[k]
  env.TIDE_DATA_PLANE = JSON.stringify(settings)
  env[OWNER_ENV] = owner
  const fd = openSync(log, 'a', 0o600)
  let child: ChildProcess
  try {
    child = spawn(process.execPath, [...execArgv, entry], { cwd, env, detached: true, stdio: ['ignore', fd, fd] })
  } finally {
    closeSync(fd)
  }
  child.on('error', () => undefined)
  const status = { exited: false }
  child.once('exit', () => {
    status.exited = true
  })
  child.unref()
  return { child, status }
}

/** A data plane recorded as starting (port 0): tries its socket until it answers, it dies, or START_TIMEOUT_MS pass. */
async function connectWhileStarting(record: DataPlaneRecord): Promise<Connection | undefined> {
  const deadline = Date.now() + START_TIMEOUT_MS
  while (Date.now() < deadline && isAlive(record)) {
    const conn = await connect(record.socket, 1000).catch(() => undefined)
    if (conn !== undefined) return conn
    await sleep(50)
  }
  return undefined
}

/** Connects to a control socket and resolves with the connection once its hello arrived (rejects after timeoutMs). */
function connect(path: string, timeoutMs: number): Promise<Connection> {
  return new Promise((resolve, reject) => {
    const socket = net.createConnection(path)
    socket.setEncoding('utf8')
    let buffered = ''
    const timer = setTimeout(() => {
      socket.destroy()
      reject(new Error(`no hello on ${path} within ${timeoutMs} ms`))
    }, timeoutMs)
    const onData = (chunk: string): void => {
      buffered += chunk
      const nl = buffered.indexOf('\n')
      if (nl < 0) return
      clearTimeout(timer)
      socket.off('data', onData)
      socket.off('error', onError)
      socket.on('error', () => undefined)
      let hello: FromDataPlane
      try {
        hello = JSON.parse(buffered.slice(0, nl)) as FromDataPlane
      } catch (err) {
        socket.destroy()
        reject(err instanceof Error ? err : new Error(String(err)))
        return
      }
      if (hello.t !== 'hello') {
        socket.destroy()
        reject(new Error(`expected hello on ${path}, got ${hello.t}`))
        return
      }
      // Whatever comes after the hello waits for the caller (#attach) to read it.
      socket.pause()
      resolve({ socket, hello, rest: buffered.slice(nl + 1) })
    }
    const onError = (err: Error): void => {
      clearTimeout(timer)
      reject(err)
    }
    socket.on('data', onData)
    socket.once('error', onError)
  })
}

/**
 * Stops a data plane: `shutdown` over its control connection (graceful: up to graceMs for the
 * requests in flight), or SIGTERM when there is no connection; SIGKILL if it is still there 10 s
 * after graceMs. Resolves once its process is gone.
 */
async function retire(record: DataPlaneRecord, conn: Connection | undefined, graceMs: number): Promise<void> {
  if (conn !== undefined && !conn.socket.destroyed) conn.socket.write(`${JSON.stringify({ t: 'shutdown', graceMs } satisfies ToDataPlane)}\n`)
  else if (isAlive(record)) process.kill(record.pid, 'SIGTERM')
  const deadline = Date.now() + graceMs + 10_000
  while (isAlive(record)) {
    if (Date.now() > deadline) {
      try {
        process.kill(record.pid, 'SIGKILL')
      } catch {
        // Gone between the check and the kill.
      }
      break
    }
    await sleep(25)
  }
  conn?.socket.destroy()
}

/** Why a data plane exited before it answered: its `start-failed` line in the log, as the router error it was. */
function startFailure(log: string, from: number, routing: RoutingSpec): RouterError {
  let text = ''
  try {
    text = readFileSync(log, 'utf8').slice(from)
  } catch {
    // No log: say so below.
  }
  for (const line of text.split('\n').reverse()) {
    if (!line.startsWith('{')) continue
    try {
      const f = JSON.parse(line) as { t?: string; code?: string; message?: string }
      if (f.t !== 'start-failed') continue
      if (f.code === 'TIDE_ERR_ROUTER_LISTEN') return new RouterError('TIDE_ERR_ROUTER_LISTEN', f.message ?? 'cannot listen')
      if (f.code !== undefined && /^E[A-Z]+$/.test(f.code)) return listenError(routing.host, routing.listen, f.code, f.message ?? '')
      return new RouterError('TIDE_ERR_ROUTER_USAGE', `data plane could not start: ${f.message ?? 'unknown error'}`)
    } catch {
      continue
    }
  }
  const tail = text.trim().split('\n').slice(-3).join(' | ')
  return new RouterError('TIDE_ERR_ROUTER_USAGE', `data plane exited before it was ready${tail === '' ? '' : `: ${tail}`} (log: ${log})`)
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/** The value of TIDE_DATA_PLANE_OF for a group's data plane: its absolute state directory and group, as JSON. */
function ownerMark(stateDir: string, group: string): string {
  return JSON.stringify([resolve(stateDir), group])
}

/**
 * SIGKILLs every process still marked as the group's data plane or its child (the file comment):
 * called only where no data plane of the group lives, so all of them are leftovers of a dead one.
 * Waits (up to LEFTOVER_WAIT_MS) until they are gone, so their port is free; returns how many.
 */
async function stopLeftovers(stateDir: string, group: string): Promise<number> {
  const found = processesWithEnv({ [OWNER_ENV]: ownerMark(stateDir, group) })
  for (const p of found) {
    try {
      process.kill(p.pid, 'SIGKILL')
    } catch {
      // gone meanwhile
    }
  }
  const deadline = Date.now() + LEFTOVER_WAIT_MS
  while (found.some((p) => isRunning(p.pid)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
  return found.length
}
