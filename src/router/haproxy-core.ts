/**
 * The proxy core of `routing.proxy: haproxy`: HAProxy does the forwarding, this class
 * drives it. It speaks the same messages as the Node proxy core (protocol.ts), so the
 * router's primary (health checks, drains, stats, events) is the same for both.
 *
 * - table → server slots over the runtime API: an instance gets a slot (`set server …
 *   addr … port …`), then `state ready` when routable, `drain` when draining,
 *   `maint` otherwise. A slot is reused once its instance left the table and has no
 *   request in flight.
 * - collect → a window: requests, errors, in-flight and bytes (`bin`/`bout`, whole HTTP
 *   messages) per instance and in total from `show stat` (HAProxy's own counters, exact); latencies, shedding and per-class counts
 *   from the log line HAProxy writes per request (through a ring buffer, forwarded over
 *   TCP on loopback). Above LOG_LINES_PER_SECOND only one request in 2^k is logged, and
 *   each line counts 2^k times in the class counts: estimates, while percentiles stay a
 *   fair sample.
 * - drained: polled from `show stat` while an instance drains or leaves.
 * - eject: `ejectAfterFailures` failures (5xx answers, connection and response
 *   errors) in a row of stats windows without a success.
 * - stop: HAProxy's soft stop (SIGUSR1: stop listening, finish in-flight requests),
 *   SIGTERM after graceMs.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { findFreePort } from '../core/free-port.ts'
import { HAPROXY_MAX_INSTANCES, type RoutingSpec } from '../spec/schema.ts'
import { RouterError, listenError } from './errors.ts'
import { backupTargets } from './backup-pool.ts'
import { BACKEND, BACKUP_SLOT_PREFIX, haproxyConfig, ON_BACKUP_VAR, SLOT_PREFIX } from './haproxy-config.ts'
import { LatencyHistogram } from './latency-histogram.ts'
import { resolveClasses } from './priority-classes.ts'
import type { CounterSample, FromCore, TableEntry, ToCore, WindowSample } from './protocol.ts'
import { TrafficCounters } from './stats.ts'

/** HAProxy's words for a failed bind (its "cannot bind socket (…)" alert), as the OS error codes Node uses. */
const BIND_ERRORS: Readonly<Record<string, string>> = {
  'address already in use': 'EADDRINUSE',
  'permission denied': 'EACCES',
  'cannot assign requested address': 'EADDRNOTAVAIL',
}

/** What the HAProxy core needs: the group's routing section, and the haproxy binary. */
export interface HaproxyCoreOptions {
  readonly routing: RoutingSpec
  /** HAProxy's threads (the router resolves routing.workers 0 to one per core). */
  readonly threads: number
  /** The haproxy executable; `haproxy` on the PATH by default. */
  readonly haproxyPath?: string
  /** Server slots (instances behind the router at once); twice HAPROXY_MAX_INSTANCES by default. */
  readonly slots?: number
  /** Called when HAProxy died and is being started again. */
  readonly onExit?: (e: { code: number | null; signal: string | null }) => void
}

/**
 * Log lines per second the primary wants at most: above it HAProxy logs one request in
 * 2^k (proc.logsample). Every line cost the primary and HAProxy together about 35 µs of
 * cpu and added about 3 ms to the p99 at 9k req/s on the 2-core development machine;
 * 250 lines a second are plenty for percentiles.
 */
const LOG_LINES_PER_SECOND = 250

/** How often draining and retired slots are polled for their last request. */
const DRAIN_POLL_MS = 100
/** How long after a failed restart HAProxy is started again. */
const RESPAWN_DELAY_MS = 1000
/** How long start waits for HAProxy to answer on its runtime API socket. */
const START_TIMEOUT_MS = 10_000

/** Sends commands to HAProxy's runtime API (one connection per batch) and returns its answer. */
export function runtimeCommand(socketPath: string, commands: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.createConnection(socketPath)
    let out = ''
    socket.setEncoding('utf8')
    socket.on('data', (chunk: string) => (out += chunk))
    socket.on('error', reject)
    socket.on('end', () => {
      resolve(out)
    })
    socket.end(`${commands.join('; ')}\n`)
  })
}

/** One server line of `show stat`. */
export interface ServerStat {
  readonly slot: string
  /** Requests in flight (current sessions). */
  readonly scur: number
  /** Requests sent to it, ever. */
  readonly stot: number
  /** 5xx answers plus connection and response errors, ever. */
  readonly failures: number
  /** 1xx–4xx answers, ever. */
  readonly successes: number
  /** Requests waiting in its queue. */
  readonly qcur: number
  /** Bytes sent to it (requests, headers included), ever. */
  readonly bin: number
  /** Bytes received from it (responses, headers included), ever. */
  readonly bout: number
}

/** Parses `show stat` CSV into the backend's server lines and its queue. */
export function parseShowStat(csv: string): { servers: ServerStat[]; backendQueue: number; frontendSessions: number } {
  const lines = csv.split('\n')
  const header = (lines[0] ?? '').replace(/^# /, '').split(',')
  const col = (name: string): number => header.indexOf(name)
  const [px, sv, scur, stot, qcur, econ, eresp, h1, h2, h3, h4, h5, bin, bout] = ['pxname', 'svname', 'scur', 'stot', 'qcur', 'econ', 'eresp', 'hrsp_1xx', 'hrsp_2xx', 'hrsp_3xx', 'hrsp_4xx', 'hrsp_5xx', 'bin', 'bout'].map(col)
  const servers: ServerStat[] = []
  let backendQueue = 0
  let frontendSessions = 0
  for (const line of lines.slice(1)) {
    if (line === '') continue
    const f = line.split(',')
    const n = (i: number | undefined): number => Number(f[i ?? -1] ?? 0) || 0
    if (f[px ?? -1] !== BACKEND) {
      if (f[sv ?? -1] === 'FRONTEND') frontendSessions = n(scur)
      continue
    }
    const name = f[sv ?? -1] ?? ''
    if (name === 'BACKEND') backendQueue = n(qcur)
    else if (name.startsWith(SLOT_PREFIX)) {
      servers.push({ slot: name, scur: n(scur), stot: n(stot), failures: n(h5) + n(econ) + n(eresp), successes: n(h1) + n(h2) + n(h3) + n(h4), qcur: n(qcur), bin: n(bin), bout: n(bout) })
    }
  }
  return { servers, backendQueue, frontendSessions }
}

/** One request as HAProxy logged it (the frontend's log-format in haproxy-config.ts). */
export interface LoggedRequest {
  /** The server slot, or `<NOSRV>` for answers HAProxy gave itself (shed, limits). */
  readonly slot: string
  readonly status: number
  /** Arrival to the last byte of the answer, ms. */
  readonly totalMs: number
  /** Time in HAProxy's queue, ms (−1 when it never reached the queue). */
  readonly queuedMs: number
  readonly className: string
}

/** Parses one log line `slot status Ta Tw class`; undefined for anything else. */
export function parseLogLine(line: string): LoggedRequest | undefined {
  const f = line.trim().split(' ')
  if (f.length < 5) return undefined
  const [slot, status, ta, tw, cls] = f
  const n = [Number(status), Number(ta), Number(tw)]
  if (slot === undefined || cls === undefined || n.some((x) => !Number.isFinite(x))) return undefined
  return { slot, status: n[0] ?? 0, totalMs: n[1] ?? 0, queuedMs: n[2] ?? 0, className: cls }
}

/** One server slot and the instance in it. */
interface Slot {
  readonly name: string
  entry: TableEntry | undefined
  /** The instance left the table: the slot is freed once nothing is in flight. */
  retired: boolean
  state: 'ready' | 'drain' | 'maint'
  /** Counters at the last `show stat`, to turn HAProxy's totals into per-window deltas. */
  lastStot: number
  lastFailures: number
  lastSuccesses: number
  lastBin: number
  lastBout: number
  /** Failures in stats windows without a success since the last success. */
  failureRun: number
  readonly latency: LatencyHistogram
}

/** The HAProxy proxy core. Create, `listen()`, then feed it `handle(message)`; it reports through `send`. */
export class HaproxyCore {
  readonly #routing: RoutingSpec
  readonly #send: (msg: FromCore) => void
  readonly #haproxyPath: string
  readonly #threads: number
  readonly #slots: Slot[]
  /** The backup servers (routing.backup), by target id: fixed in haproxy.cfg, only their state changes. */
  readonly #backupSlots = new Map<string, Slot>()
  /** A backup url's path prefix is in use: ON_BACKUP_VAR must follow whether the backups serve. */
  readonly #backupPrefixed: boolean
  /** No primary is ready: HAProxy sends requests to the backup servers. */
  #onBackup = false
  readonly #dir: string
  readonly #adminSocket: string
  readonly #config: string
  readonly #onExit: ((e: { code: number | null; signal: string | null }) => void) | undefined
  readonly #classes = new Map<string, TrafficCounters>()
  readonly #total = new TrafficCounters()
  #log: net.Server | undefined
  #process: ChildProcess | undefined
  #exited: Promise<void> = Promise.resolve()
  /** Runtime API batches run one after another, in the order the table changes. */
  #chain: Promise<unknown> = Promise.resolve()
  #drainPoll: NodeJS.Timeout | undefined
  #windowStartMs = Date.now()
  #stopping = false
  /** The port HAProxy listens on (routing.listen, or the free one chosen for 0); 0 before listen(). */
  #port = 0
  /** HAProxy logs one request in this many (a power of two); each line counts for this many in the class counts. */
  #logSample = 1

  constructor(options: HaproxyCoreOptions, send: (msg: FromCore) => void) {
    this.#routing = options.routing
    this.#send = send
    this.#haproxyPath = options.haproxyPath ?? 'haproxy'
    this.#threads = options.threads
    const slots = options.slots ?? 2 * HAPROXY_MAX_INSTANCES
    const slot = (name: string): Slot => ({
      name,
      entry: undefined,
      retired: false,
      state: 'maint' as const,
      lastStot: 0,
      lastFailures: 0,
      lastSuccesses: 0,
      lastBin: 0,
      lastBout: 0,
      failureRun: 0,
      latency: new LatencyHistogram(),
    })
    this.#slots = Array.from({ length: slots }, (_, i) => slot(`${SLOT_PREFIX}${i + 1}`))
    const backups = backupTargets(options.routing)
    for (const [i, t] of backups.entries()) this.#backupSlots.set(t.id, slot(`${BACKUP_SLOT_PREFIX}${i + 1}`))
    this.#backupPrefixed = backups.some((t) => t.pathPrefix !== '')
    for (const c of resolveClasses(options.routing.classes)) this.#classes.set(c.name, new TrafficCounters())
    this.#dir = mkdtempSync(join(tmpdir(), 'tide-haproxy-'))
    this.#adminSocket = join(this.#dir, 'admin.sock')
    this.#config = join(this.#dir, 'haproxy.cfg')
    this.#onExit = options.onExit
  }

  /** One request in this many is logged now (1 below LOG_LINES_PER_SECOND). */
  get logSample(): number {
    return this.#logSample
  }

  /** Writes the configuration, starts HAProxy and the log receiver; resolves with the port once HAProxy answers. */
  async listen(): Promise<number> {
    const logPort = await this.#startLogReceiver()
    // HAProxy needs a port number, not 0.
    const port = this.#routing.listen === 0 ? await findFreePort(this.#routing.host) : this.#routing.listen
    this.#port = port
    writeFileSync(this.#config, haproxyConfig({ routing: this.#routing, port, adminSocket: this.#adminSocket, logPort, threads: this.#threads, slots: this.#slots.length }))
    await this.#spawn()
    this.#drainPoll = setInterval(this.#pollDrains, DRAIN_POLL_MS)
    this.#drainPoll.unref()
    this.#send({ t: 'listening', port })
    return port
  }

  /** Starts HAProxy on the written configuration and waits until its runtime API answers. */
  async #spawn(): Promise<void> {
    const child = spawn(this.#haproxyPath, ['-db', '-f', this.#config], { stdio: ['ignore', 'ignore', 'pipe'] })
    this.#process = child
    let stderr = ''
    child.stderr.setEncoding('utf8')
    child.stderr.on('data', (c: string) => {
      if (stderr.length < 4096) stderr += c
    })
    this.#exited = new Promise((resolve) => {
      child.once('exit', () => {
        resolve()
      })
      child.once('error', () => {
        resolve()
      })
    })
    const failed = new Promise<never>((_, reject) => {
      child.once('error', (err) => {
        reject(new RouterError('TIDE_ERR_ROUTER_USAGE', `routing.proxy haproxy: cannot run '${this.#haproxyPath}' (${err.message}); install HAProxy (Debian: apt-get install haproxy)`))
      })
      child.once('exit', (code, signal) => {
        // "[ALERT] … Starting frontend router: cannot bind socket (Address already in use) [127.0.0.1:8080]"
        const bind = /cannot bind socket \(([^)]*)\)/i.exec(stderr)
        if (bind) {
          const os = BIND_ERRORS[bind[1]?.toLowerCase() ?? ''] ?? 'UNKNOWN'
          reject(listenError(this.#routing.host, this.#port, os, `haproxy: cannot bind socket (${bind[1] ?? ''})`))
          return
        }
        reject(new RouterError('TIDE_ERR_ROUTER_USAGE', `routing.proxy haproxy: haproxy exited (code ${code}, signal ${signal}) before it was ready: ${stderr.trim().split('\n').slice(-3).join(' | ')}`))
      })
    })
    failed.catch(() => undefined)
    await Promise.race([this.#waitReady(), failed])
    child.once('exit', (code, signal) => {
      if (!this.#stopping) this.#restart(code, signal)
    })
  }

  /** HAProxy died under us: start it again with every slot as it was. */
  #restart(code: number | null, signal: string | null): void {
    this.#onExit?.({ code, signal })
    // The new HAProxy starts from its configuration: every request logged.
    this.#logSample = 1
    for (const slot of this.#slots) {
      slot.lastStot = 0
      slot.lastFailures = 0
      slot.lastSuccesses = 0
      slot.lastBin = 0
      slot.lastBout = 0
    }
    this.#respawn()
  }

  /** Starts HAProxy again and puts every slot back; a start that fails is tried again a second later. */
  #respawn(): void {
    this.#enqueue(async () => {
      try {
        await this.#spawn()
      } catch {
        if (!this.#stopping) {
          setTimeout(() => {
            this.#respawn()
          }, RESPAWN_DELAY_MS).unref()
        }
        return
      }
      const commands: string[] = this.#onBackup && this.#backupPrefixed ? this.#onBackupCommands() : []
      for (const slot of this.#slots) {
        if (!slot.entry) continue
        commands.push(`set server ${BACKEND}/${slot.name} addr ${slot.entry.host} port ${slot.entry.port}`, `set server ${BACKEND}/${slot.name} state ${slot.state}`)
      }
      // Backup servers keep the address of the file: only their state.
      for (const slot of this.#backupSlots.values()) if (slot.entry) commands.push(`set server ${BACKEND}/${slot.name} state ${slot.state}`)
      if (commands.length > 0) await runtimeCommand(this.#adminSocket, commands)
    })
  }

  /** Applies one message from the primary. */
  handle(msg: ToCore): void {
    switch (msg.t) {
      case 'table':
        this.#setTable(msg.entries)
        break
      case 'collect':
        this.#enqueue(async () => {
          this.#send({ t: 'window', seq: msg.seq, sample: await this.#cut() })
        })
        break
      case 'stop':
        void this.#stop(msg.graceMs)
        break
    }
  }

  // ── start ──────────────────────────────────────────────────────────────────

  /**
   * The log receiver: HAProxy forwards its per-request lines from a ring buffer over
   * TCP, one `\n`-terminated line each, many per read. (One UDP datagram per request
   * cost the primary about twice the cpu per request, and could be dropped.)
   */
  async #startLogReceiver(): Promise<number> {
    const server = net.createServer((socket) => {
      let rest = ''
      socket.setEncoding('latin1')
      socket.on('data', (chunk: string) => {
        const text = rest + chunk
        const end = text.lastIndexOf('\n')
        if (end < 0) {
          rest = text
          return
        }
        rest = text.slice(end + 1)
        let start = 0
        for (let nl = text.indexOf('\n'); nl >= 0 && nl <= end; nl = text.indexOf('\n', start)) {
          this.#onLogLine(text.slice(start, nl))
          start = nl + 1
        }
      })
      socket.on('error', () => undefined)
    })
    this.#log = server
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(0, '127.0.0.1', () => {
        server.off('error', reject)
        resolve()
      })
    })
    server.unref()
    const address = server.address()
    return typeof address === 'object' && address !== null ? address.port : 0
  }

  async #waitReady(): Promise<void> {
    // A duration: measured on the monotonic clock, so a step of the wall clock neither cuts it short nor stretches it.
    const deadline = performance.now() + START_TIMEOUT_MS
    for (;;) {
      try {
        const out = await runtimeCommand(this.#adminSocket, ['show info'])
        if (out.includes('Name: HAProxy')) return
      } catch {
        // not yet
      }
      if (performance.now() > deadline) throw new RouterError('TIDE_ERR_ROUTER_USAGE', `routing.proxy haproxy: no answer on its runtime API socket within ${START_TIMEOUT_MS / 1000} s`)
      await new Promise((r) => setTimeout(r, 25))
    }
  }

  // ── routing table ──────────────────────────────────────────────────────────

  #setTable(entries: readonly TableEntry[]): void {
    const commands: string[] = []
    const seen = new Set<string>()
    this.#followBackup(entries, commands)
    for (const entry of entries) {
      if (entry.backup === true) {
        this.#placeBackup(entry, commands)
        continue
      }
      seen.add(entry.id)
      this.#place(entry, commands)
    }
    for (const slot of this.#slots) {
      if (slot.entry && !slot.retired && !seen.has(slot.entry.id)) this.#retire(slot, commands)
    }
    if (commands.length > 0) this.#enqueue(() => runtimeCommand(this.#adminSocket, commands))
  }

  /** The commands that put one table entry in its slot (a new one when the instance is new or moved) in its state. */
  #place(entry: TableEntry, commands: string[]): void {
    let slot = this.#slots.find((s) => s.entry?.id === entry.id && !s.retired)
    if (slot && (slot.entry?.host !== entry.host || slot.entry.port !== entry.port)) {
      this.#retire(slot, commands)
      slot = undefined
    }
    let fresh = false
    if (!slot) {
      slot = this.#slots.find((s) => s.entry === undefined)
      if (!slot) throw new RouterError('TIDE_ERR_ROUTER_USAGE', `routing.proxy haproxy: more than ${this.#slots.length} instances behind one router`)
      fresh = true
      slot.failureRun = 0
      commands.push(`set server ${BACKEND}/${slot.name} addr ${entry.host} port ${entry.port}`)
    }
    slot.entry = entry
    const state = entry.draining ? 'drain' : entry.routable ? 'ready' : 'maint'
    if (state === 'ready' && slot.state !== 'ready') slot.failureRun = 0
    if (fresh || state !== slot.state) commands.push(`set server ${BACKEND}/${slot.name} state ${state}`)
    slot.state = state
  }

  /**
   * Notes whether the backup servers serve (no primary entry routable) and, when a backup url's
   * prefix is in use and that changed, sets ON_BACKUP_VAR first in the batch: the prefix follows
   * the switch as closely as the runtime API allows.
   */
  #followBackup(entries: readonly TableEntry[], commands: string[]): void {
    const onBackup = !entries.some((e) => e.backup !== true && e.routable && !e.draining)
    if (onBackup === this.#onBackup) return
    this.#onBackup = onBackup
    if (this.#backupPrefixed) commands.push(...this.#onBackupCommands())
  }

  /** ON_BACKUP_VAR set to whether the backup servers serve now. */
  #onBackupCommands(): string[] {
    return ['experimental-mode on', `set var ${ON_BACKUP_VAR} int(${this.#onBackup ? 1 : 0})`]
  }

  /** The command that puts a backup server in its state: ready when healthy, else maintenance (HAProxy's `backup` flag does the rest). */
  #placeBackup(entry: TableEntry, commands: string[]): void {
    const slot = this.#backupSlots.get(entry.id)
    if (!slot) return
    const fresh = slot.entry === undefined
    slot.entry = entry
    const state = entry.routable ? 'ready' : 'maint'
    if (state === 'ready' && slot.state !== 'ready') slot.failureRun = 0
    if (fresh || state !== slot.state) commands.push(`set server ${BACKEND}/${slot.name} state ${state}`)
    slot.state = state
  }

  /** Takes a slot's instance out of rotation; the slot is freed (and `drained` sent) once nothing is in flight. */
  #retire(slot: Slot, commands: string[]): void {
    slot.retired = true
    slot.state = 'maint'
    commands.push(`set server ${BACKEND}/${slot.name} state maint`)
  }

  /** The slot HAProxy calls `name` (`s1` is the first; `b1` the first backup server), undefined for any other name (`<NOSRV>`). */
  #slotNamed(name: string): Slot | undefined {
    if (name.startsWith(BACKUP_SLOT_PREFIX)) {
      for (const slot of this.#backupSlots.values()) if (slot.name === name) return slot
      return undefined
    }
    if (!name.startsWith(SLOT_PREFIX)) return undefined
    const slot = this.#slots[Number(name.slice(SLOT_PREFIX.length)) - 1]
    return slot?.name === name ? slot : undefined
  }

  #enqueue(task: () => Promise<unknown>): void {
    this.#chain = this.#chain.then(task).catch(() => undefined)
  }

  /** Reports `drained` for draining instances with nothing in flight, and frees retired slots. */
  readonly #pollDrains = (): void => {
    if (!this.#slots.some((s) => s.retired || s.entry?.draining)) return
    this.#enqueue(async () => {
      const { servers } = parseShowStat(await runtimeCommand(this.#adminSocket, ['show stat']))
      for (const stat of servers) {
        const slot = this.#slotNamed(stat.slot)
        if (!slot?.entry || stat.scur > 0 || stat.qcur > 0) continue
        if (slot.retired) {
          this.#send({ t: 'drained', id: slot.entry.id })
          this.#free(slot, stat)
        } else if (slot.entry.draining) {
          this.#send({ t: 'drained', id: slot.entry.id })
        }
      }
    })
  }

  #free(slot: Slot, stat: ServerStat): void {
    slot.entry = undefined
    slot.retired = false
    slot.lastStot = stat.stot
    slot.lastFailures = stat.failures
    slot.lastSuccesses = stat.successes
    slot.lastBin = stat.bin
    slot.lastBout = stat.bout
    slot.latency.reset()
  }

  // ── windows ────────────────────────────────────────────────────────────────

  #onLogLine(line: string): void {
    const r = parseLogLine(line)
    if (!r) return
    const cls = this.#classes.get(r.className)
    const isError = r.status >= 500 || r.status < 0
    const shed = r.slot === '<NOSRV>' && r.status === 503
    const weight = this.#logSample
    for (const c of cls ? [cls, this.#total] : [this.#total]) {
      if (shed) c.shed += weight
      else {
        c.requests += weight
        if (isError) c.errors += weight
        c.latency.record(Math.max(0, r.totalMs))
      }
    }
    const slot = this.#slotNamed(r.slot)
    if (slot?.entry) slot.latency.record(Math.max(0, r.totalMs - Math.max(0, r.queuedMs)))
  }

  async #cut(): Promise<WindowSample> {
    const { servers, backendQueue } = parseShowStat(await runtimeCommand(this.#adminSocket, ['show stat']))
    const endMs = Date.now()
    const instances: Record<string, CounterSample> = {}
    let inFlight = 0
    let queued = backendQueue
    for (const stat of servers) {
      const slot = this.#slotNamed(stat.slot)
      if (!slot) continue
      const requests = Math.max(0, stat.stot - slot.lastStot)
      const failures = Math.max(0, stat.failures - slot.lastFailures)
      const successes = Math.max(0, stat.successes - slot.lastSuccesses)
      const bytesIn = Math.max(0, stat.bin - slot.lastBin)
      const bytesOut = Math.max(0, stat.bout - slot.lastBout)
      slot.lastStot = stat.stot
      slot.lastFailures = stat.failures
      slot.lastSuccesses = stat.successes
      slot.lastBin = stat.bin
      slot.lastBout = stat.bout
      if (!slot.entry) continue
      inFlight += stat.scur
      queued += stat.qcur
      instances[slot.entry.id] = { requests, errors: failures, shed: 0, inFlight: stat.scur, queued: stat.qcur, latency: slot.latency.toSparse(), bytesIn, bytesOut }
      slot.latency.reset()
      this.#passive(slot, failures, successes)
    }
    const classes: Record<string, CounterSample> = {}
    for (const [name, c] of this.#classes) classes[name] = c.cut()
    // Requests and errors of the total are HAProxy's exact counters; shedding and latency come from the log lines.
    const counted = Object.values(instances)
    this.#total.inFlight = inFlight
    this.#total.queued = queued
    const logged = this.#total.cut()
    const total: CounterSample = {
      ...logged,
      requests: counted.reduce((n, c) => n + c.requests, 0),
      errors: counted.reduce((n, c) => n + c.errors, 0),
      bytesIn: counted.reduce((n, c) => n + (c.bytesIn ?? 0), 0),
      bytesOut: counted.reduce((n, c) => n + (c.bytesOut ?? 0), 0),
    }
    const sample: WindowSample = { startMs: this.#windowStartMs, endMs, total, instances, classes }
    this.#adjustLogSample((total.requests + total.shed) / Math.max(0.001, (endMs - this.#windowStartMs) / 1000))
    this.#windowStartMs = endMs
    return sample
  }

  /** Keeps the log lines near LOG_LINES_PER_SECOND: one request in 2^k is logged, k from the last window's rate. */
  #adjustLogSample(rps: number): void {
    const k = Math.max(0, Math.floor(Math.log2(Math.max(1, rps / LOG_LINES_PER_SECOND))))
    const sample = 2 ** k
    if (sample === this.#logSample) return
    this.#logSample = sample
    this.#enqueue(() => runtimeCommand(this.#adminSocket, ['experimental-mode on', `set var proc.logsample int(${sample})`]))
  }

  /** Passive ejection from a window's counts: failures with no success since the last success. */
  #passive(slot: Slot, failures: number, successes: number): void {
    const limit = this.#routing.ejectAfterFailures
    slot.failureRun = successes > 0 ? 0 : slot.failureRun + failures
    if (limit > 0 && slot.entry && slot.state === 'ready' && slot.failureRun >= limit) {
      this.#send({ t: 'eject', id: slot.entry.id, failures: slot.failureRun, reason: `${failures} failed requests in the last window (5xx, connection or response errors)` })
      slot.failureRun = 0
    }
  }

  // ── stopping ───────────────────────────────────────────────────────────────

  async #stop(graceMs: number): Promise<void> {
    if (this.#stopping) return
    this.#stopping = true
    clearInterval(this.#drainPoll)
    const child = this.#process
    if (child && child.exitCode === null && child.signalCode === null) {
      // Soft stop: HAProxy stops listening and exits once its in-flight requests are done.
      child.kill('SIGUSR1')
      const hard = setTimeout(() => child.kill('SIGTERM'), graceMs)
      const kill = setTimeout(() => child.kill('SIGKILL'), graceMs + 5000)
      await this.#exited
      clearTimeout(hard)
      clearTimeout(kill)
    }
    this.#log?.close()
    this.#log?.unref()
    rmSync(this.#dir, { recursive: true, force: true })
    this.#send({ t: 'stopped' })
  }
}
