/**
 * One proxy core: the HTTP/1.1 server that takes client requests and forwards
 * them to instances over undici keep-alive pools, with admission control
 * (per-instance concurrency, a priority queue, shedding), retries, passive
 * ejection, limits and per-window counters. It knows nothing of health checks or
 * the controller: the primary (router.ts) sends it the routing table and collects
 * its windows through the messages of protocol.ts. With `workers: 1` it runs in
 * the router's process; otherwise one runs in each node:cluster worker, all
 * sharing the listen socket.
 */
import http from 'node:http'
import net, { type Socket } from 'node:net'
import { Transform, type Readable, type TransformCallback } from 'node:stream'
import { Pool } from 'undici'
import type { Dispatcher } from 'undici'
import type { RoutingSpec } from '../spec/schema.ts'
import { backupPath } from './backup-pool.ts'
import { RouterError } from './errors.ts'
import { forwardRequestHeaders, forwardResponseHeaders, type ForwardedRequest } from './forwarded-headers.ts'
import { pickInstance, type Pickable } from './pick-instance.ts'
import { classIndex, resolveClasses, type PriorityClass } from './priority-classes.ts'
import type { FromCore, TableEntry, ToCore, WindowSample } from './protocol.ts'
import { TrafficCounters } from './stats.ts'

/** What a core needs: the group's routing section, how many cores share it, and injectable randomness. */
export interface ProxyCoreOptions {
  readonly routing: RoutingSpec
  /** Cores sharing the listen socket; per-instance limits and the queue are split evenly between them. */
  readonly cores: number
  /** Uniform in [0, 1); Math.random by default. */
  readonly random?: () => number
}

/** Methods that may be retried on another instance (RFC 9110 §9.2.2 idempotent methods). */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE'])

/**
 * undici's refusals of the request itself (an argument it cannot send, a method it does not
 * support): raised before anything reaches the instance, so they are the client's fault, never
 * the instance's: answered 400, not counted against the instance, not retried elsewhere.
 */
const CLIENT_FAULT_CODES = new Set(['UND_ERR_INVALID_ARG', 'UND_ERR_NOT_SUPPORTED'])

/**
 * Why the router cannot forward a request node:http accepted, or undefined when it can. Only
 * origin-form targets (`/path?query`) are forwarded: `OPTIONS *`, an absolute-form target
 * (`GET http://host/`) and CONNECT's authority-form are for the router, not an instance, and
 * undici refuses them. Two Host headers make the target ambiguous (RFC 9112 §3.2: a server must
 * answer 400); undici refuses them too.
 */
export function unforwardable(method: string | undefined, url: string | undefined, hostCount: number): string | undefined {
  if (method === 'CONNECT') return 'CONNECT is not forwarded: the router is a reverse proxy'
  if (url === undefined || !url.startsWith('/')) {
    const shown = (url ?? '').length > 60 ? `${(url ?? '').slice(0, 57)}...` : (url ?? '')
    return `request target "${shown}" is not a path: the router forwards only origin-form targets (/path?query)`
  }
  if (hostCount > 1) return `${hostCount} Host headers: a request carries exactly one`
  return undefined
}

/** Answers a router error on a raw socket (no ServerResponse exists for it) and closes the connection. */
function endWithError(socket: Socket, err: RouterError): void {
  const body = JSON.stringify({ error: err.code, message: err.message })
  const reason = err.status === 431 ? 'Request Header Fields Too Large' : 'Bad Request'
  socket.end(`HTTP/1.1 ${err.status} ${reason}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nx-tide-error: ${err.code}\r\nconnection: close\r\n\r\n${body}`)
}

/** Errors that mean the request never reached the instance: safe to retry for any method. */
const CONNECT_ERRORS = new Set(['ECONNREFUSED', 'UND_ERR_CONNECT_TIMEOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL', 'ENOTFOUND'])

function errorCode(err: unknown): string {
  return typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string' ? err.code : ''
}

/** Requests in flight to routable instances (draining ones finishing their work do not count against capacity). */
function routableInFlight(routable: readonly Upstream[]): number {
  let n = 0
  for (const u of routable) n += u.inFlight
  return n
}

/** `http://host:port` of a table entry, an IPv6 address in brackets. */
function originOf(entry: TableEntry): string {
  return `http://${entry.host.includes(':') ? `[${entry.host}]` : entry.host}:${entry.port}`
}

/** One instance as this core sees it, with its keep-alive pool and counters. */
class Upstream implements Pickable {
  readonly id: string
  readonly origin: string
  readonly pool: Pool
  readonly counters = new TrafficCounters()
  inFlight = 0
  routable = false
  draining = false
  /** False once the instance left the routing table; the pool closes when its last request ends. */
  listed = true
  consecutiveFailures = 0
  /** A backup target: picked only while no primary is routable. */
  readonly backup: boolean
  /** Prepended to the request path (a backup url's path); empty for none. */
  readonly pathPrefix: string

  constructor(entry: TableEntry, options: Pool.Options) {
    this.id = entry.id
    this.backup = entry.backup === true
    this.pathPrefix = entry.pathPrefix ?? ''
    this.origin = originOf(entry)
    this.pool = new Pool(this.origin, options)
  }

  /** Whether this is still what `entry` describes (address, primary or backup, path prefix); otherwise it is replaced. */
  matches(entry: TableEntry): boolean {
    return this.origin === originOf(entry) && this.backup === (entry.backup === true) && this.pathPrefix === (entry.pathPrefix ?? '')
  }
}

/** A class with its live counters. */
interface ClassState {
  readonly info: PriorityClass
  readonly counters: TrafficCounters
}

/** Counts body bytes of a request without Content-Length and fails once it exceeds the limit. */
class BodyLimit extends Transform {
  readonly #maxBytes: number
  #bytes = 0
  constructor(maxBytes: number) {
    super()
    this.#maxBytes = maxBytes
  }
  /** Body bytes passed on so far. */
  get bytes(): number {
    return this.#bytes
  }
  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.#bytes += chunk.length
    if (this.#bytes > this.#maxBytes) {
      callback(new RouterError('TIDE_ERR_ROUTER_BODY_TOO_LARGE', `request body exceeds routing.limits.maxBodyBytes (${this.#maxBytes} bytes)`))
      return
    }
    callback(null, chunk)
  }
}

type ExchangeState = 'new' | 'queued' | 'active' | 'done'

/**
 * One client request through its life: admission, one or more attempts, the
 * answer. It is also the undici dispatch handler of its attempts (the legacy
 * handler interface, undici's native one, so no wrapper is allocated).
 */
class Exchange implements Dispatcher.DispatchHandler {
  readonly core: ProxyCore
  readonly req: http.IncomingMessage
  readonly res: http.ServerResponse
  readonly cls: ClassState
  readonly startMs: number
  readonly deadlineMs: number
  readonly headers: string[]
  readonly requestId: string
  readonly body: Readable | null
  /**
   * The request body's size for the byte counters: its Content-Length, or for a chunked
   * body the bytes its BodyLimit passed on (read when the attempt ends); 0 without a body.
   */
  readonly bodyBytes: number | BodyLimit
  state: ExchangeState = 'new'
  attempts = 0
  upstream: Upstream | undefined
  lastUpstream: Upstream | undefined
  dispatchedMs = 0
  queueDeadlineMs = 0
  responseStarted = false
  status = 0
  timedOut = false
  abortAttempt: ((err?: Error) => void) | undefined
  resumeAttempt: (() => void) | undefined
  /** Links of the core's list of unfinished exchanges (ActiveExchanges). */
  prevActive: Exchange | undefined
  nextActive: Exchange | undefined
  listedActive = false

  constructor(core: ProxyCore, req: http.IncomingMessage, res: http.ServerResponse, cls: ClassState, body: Readable | null, bodyBytes: number | BodyLimit, fwd: ForwardedRequest, nowMs: number, timeoutMs: number) {
    this.core = core
    this.req = req
    this.res = res
    this.cls = cls
    this.body = body
    this.bodyBytes = bodyBytes
    this.startMs = nowMs
    this.deadlineMs = nowMs + timeoutMs
    this.headers = fwd.headers
    this.requestId = fwd.requestId
  }

  onConnect(abort: (err?: Error) => void): void {
    this.abortAttempt = abort
    if (this.state === 'done') abort(new RouterError('TIDE_ERR_ROUTER_UPSTREAM', 'client went away'))
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void, statusText: string): boolean {
    if (this.state === 'done') return false
    this.responseStarted = true
    this.status = statusCode
    this.resumeAttempt = resume
    this.res.writeHead(statusCode, statusText, forwardResponseHeaders(rawHeaders, this.requestId))
    return true
  }

  onData(chunk: Buffer): boolean {
    this.core.countResponseBytes(this, chunk.length)
    const ok = this.res.write(chunk)
    if (!ok) this.res.once('drain', this.#resume)
    return ok
  }

  onComplete(): void {
    this.res.end()
    this.core.attemptCompleted(this)
  }

  onError(err: Error): void {
    this.core.attemptFailed(this, err)
  }

  readonly #resume = (): void => {
    this.resumeAttempt?.()
  }

  readonly onClientClose = (): void => {
    if (this.state === 'done') return
    this.core.clientGone(this)
  }
}

/**
 * The exchanges that are not finished (queued or with an attempt in flight), as an
 * intrusive doubly linked list through the exchanges' own fields: adding and
 * removing allocate nothing. With a Set here (measured with --trace-gc under wrk
 * load) about 2 MB survived every scavenge: each request's objects were promoted
 * to the old generation, scavenges took 8–10 ms instead of 1–2 ms, the p99 followed
 * them, and the router spent a third more cpu per request.
 */
class ActiveExchanges {
  #head: Exchange | undefined
  #size = 0

  get size(): number {
    return this.#size
  }

  add(ex: Exchange): void {
    if (ex.listedActive) return
    ex.listedActive = true
    ex.prevActive = undefined
    ex.nextActive = this.#head
    if (this.#head) this.#head.prevActive = ex
    this.#head = ex
    this.#size++
  }

  delete(ex: Exchange): void {
    if (!ex.listedActive) return
    ex.listedActive = false
    if (ex.prevActive) ex.prevActive.nextActive = ex.nextActive
    else this.#head = ex.nextActive
    if (ex.nextActive) ex.nextActive.prevActive = ex.prevActive
    ex.prevActive = undefined
    ex.nextActive = undefined
    this.#size--
  }

  /** A copy of the members, newest first: safe to change the list while walking it. */
  toArray(): Exchange[] {
    const out: Exchange[] = []
    for (let ex = this.#head; ex; ex = ex.nextActive) out.push(ex)
    return out
  }
}

/**
 * How long a stopping core keeps open connections that carry no request, in ms (bounded by the
 * drain time): a client that connected just before the listener closed gets its request
 * answered (with `Connection: close`) rather than a reset.
 */
const STOP_LINGER_MS = 1000

/** The proxy core. Create, `listen()`, then feed it `handle(message)`; it reports through `send`. */
export class ProxyCore {
  readonly #routing: RoutingSpec
  readonly #send: (msg: FromCore) => void
  readonly #random: () => number
  readonly #server: http.Server
  readonly #classes: ClassState[]
  readonly #classInfos: PriorityClass[]
  readonly #total = new TrafficCounters()
  readonly #upstreams = new Map<string, Upstream>()
  #routable: Upstream[] = []
  #cursor = 0
  readonly #maxInFlight: number
  readonly #queueMax: number
  readonly #timeoutMs: number
  readonly #queueTimeoutMs: number
  readonly #poolOptions: Pool.Options
  /** Waiting requests: [0] high, [1] normal. Low priority never waits. */
  readonly #queues: [Exchange[], Exchange[]] = [[], []]
  #queued = 0
  #inFlight = 0
  readonly #active = new ActiveExchanges()
  readonly #sweep: NodeJS.Timeout
  #windowStartMs = Date.now()
  #stopping = false
  /** performance.now() ms when a stop's drain time ends (Infinity until stop). */
  #stopDeadlineMs = Number.POSITIVE_INFINITY

  constructor(options: ProxyCoreOptions, send: (msg: FromCore) => void) {
    this.#routing = options.routing
    this.#send = send
    this.#random = options.random ?? Math.random
    const cores = Math.max(1, options.cores)
    this.#maxInFlight = Math.max(1, Math.ceil(options.routing.maxInFlightPerInstance / cores))
    this.#queueMax = Math.ceil(options.routing.queueLength / cores)
    this.#timeoutMs = options.routing.limits.requestTimeoutSeconds * 1000
    this.#queueTimeoutMs = options.routing.queueTimeoutSeconds * 1000
    this.#classInfos = resolveClasses(options.routing.classes)
    this.#classes = this.#classInfos.map((info) => ({ info, counters: new TrafficCounters() }))
    this.#poolOptions = {
      connections: this.#maxInFlight,
      pipelining: 1,
      // requestTimeoutSeconds is enforced by the sweep below. undici's own header and body
      // timers are off: each would add a timer object per request that lives until
      // undici's half-second timer tick, long enough to be promoted out of the young generation.
      headersTimeout: 0,
      bodyTimeout: 0,
      connect: { timeout: Math.min(5000, this.#timeoutMs) },
    }
    this.#server = http.createServer({ maxHeaderSize: options.routing.limits.maxHeaderBytes }, this.#onRequest)
    this.#server.on('clientError', this.#onClientError)
    // node:http hands CONNECT to this event, and closes the connection without a word when nothing listens.
    this.#server.on('connect', this.#onConnect)
    // Timeouts are checked by one sweep rather than one timer per request: a tenth
    // of the shortest timeout, so a request times out at most 10 % late.
    const sweepMs = Math.min(500, Math.max(10, Math.min(this.#timeoutMs, this.#queueTimeoutMs) / 10))
    this.#sweep = setInterval(this.#sweepTimeouts, sweepMs)
    this.#sweep.unref()
  }

  /** Starts listening on routing.host:routing.listen (in a cluster worker, the primary's shared socket). */
  listen(): Promise<number> {
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject)
      this.#server.listen(this.#routing.listen, this.#routing.host, () => {
        this.#server.off('error', reject)
        const address = this.#server.address()
        const port = typeof address === 'object' && address !== null ? address.port : this.#routing.listen
        this.#send({ t: 'listening', port })
        resolve(port)
      })
    })
  }

  /** Applies one message from the primary. */
  handle(msg: ToCore): void {
    switch (msg.t) {
      case 'table':
        this.#setTable(msg.entries)
        break
      case 'collect':
        this.#send({ t: 'window', seq: msg.seq, sample: this.#cut() })
        break
      case 'stop':
        this.#stop(msg.graceMs)
        break
    }
  }

  // ── routing table ──────────────────────────────────────────────────────────

  #setTable(entries: readonly TableEntry[]): void {
    const seen = new Set<string>()
    for (const entry of entries) {
      seen.add(entry.id)
      let u = this.#upstreams.get(entry.id)
      if (u && !u.matches(entry)) {
        this.#retire(u)
        u = undefined
      }
      if (!u) {
        u = new Upstream(entry, this.#poolOptions)
        this.#upstreams.set(entry.id, u)
      }
      if (entry.routable && !u.routable) u.consecutiveFailures = 0
      u.routable = entry.routable && !entry.draining
      u.draining = entry.draining
      u.listed = true
      if (u.draining && u.inFlight === 0) this.#send({ t: 'drained', id: u.id })
    }
    for (const u of [...this.#upstreams.values()]) {
      if (!seen.has(u.id)) this.#retire(u)
    }
    this.#rebuildRoutable()
    this.#pumpQueue()
  }

  /** Takes an instance out of rotation; its pool closes once its in-flight requests end. */
  #retire(u: Upstream): void {
    u.routable = false
    u.listed = false
    if (u.inFlight === 0) this.#close(u)
  }

  /** Closes a retired instance's pool; it has nothing in flight, so it counts as drained. */
  #close(u: Upstream): void {
    if (this.#upstreams.get(u.id) === u) this.#upstreams.delete(u.id)
    u.pool.close().catch(() => undefined)
    this.#send({ t: 'drained', id: u.id })
  }

  /**
   * The instances requests go to: the routable primaries, or, while there is none, the
   * routable backup targets (routing.backup). A primary that becomes routable again takes
   * the next request; requests in flight to a backup finish there.
   */
  #rebuildRoutable(): void {
    const primaries: Upstream[] = []
    const backups: Upstream[] = []
    for (const u of this.#upstreams.values()) if (u.routable) (u.backup ? backups : primaries).push(u)
    this.#routable = primaries.length > 0 ? primaries : backups
  }

  // ── requests ───────────────────────────────────────────────────────────────

  readonly #onRequest = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const cls = this.#classes[classIndex(this.#classInfos, req.url ?? '/')] ?? this.#classes[this.#classes.length - 1]
    if (!cls) return
    const nowMs = performance.now()
    const maxBody = this.#routing.limits.maxBodyBytes
    const fwd = forwardRequestHeaders(req.rawHeaders, req.socket.remoteAddress ?? '')
    // A request no instance could be sent is the client's mistake: answered here, never blamed on an instance.
    const refusal = unforwardable(req.method, req.url, fwd.hostCount)
    if (refusal !== undefined) {
      this.#replyEarly(req, res, new RouterError('TIDE_ERR_ROUTER_BAD_REQUEST', refusal))
      return
    }
    const { contentLength, chunked } = fwd
    let body: Readable | null = null
    let bodyBytes: number | BodyLimit = 0
    if (contentLength !== undefined && contentLength !== '0') {
      bodyBytes = Number(contentLength)
      if (bodyBytes > maxBody) {
        this.#replyEarly(req, res, new RouterError('TIDE_ERR_ROUTER_BODY_TOO_LARGE', `request body of ${contentLength} bytes exceeds routing.limits.maxBodyBytes (${maxBody} bytes)`))
        return
      }
      body = req
    } else if (chunked) {
      const limit = new BodyLimit(maxBody)
      bodyBytes = limit
      body = req.pipe(limit)
    }
    const ex = new Exchange(this, req, res, cls, body, bodyBytes, fwd, nowMs, this.#timeoutMs)
    res.once('close', ex.onClientClose)
    if (this.#stopping) {
      // A request on a connection opened before the stop is served (the client sent it in good
      // faith), with `Connection: close` so that the client goes elsewhere for the next one; only
      // once the drain time is up is it refused.
      res.setHeader('connection', 'close')
      if (performance.now() >= this.#stopDeadlineMs) {
        this.#reply(ex, new RouterError('TIDE_ERR_ROUTER_STOPPING', 'the router is stopping'))
        return
      }
    }
    this.#active.add(ex)
    this.#admit(ex)
  }

  /**
   * Admission control ("capacity is short", docs/router.md). Capacity is
   * routable instances × maxInFlightPerInstance (this core's share).
   * - low: shed once in-flight ≥ (1 − lowPriorityHeadroomRatio) × capacity, or
   *   when no instance has a free slot; low never waits.
   * - normal: waits in the queue when no instance has a free slot; shed when the
   *   queue is full, or when a high request needs its place.
   * - high: waits in the queue; refused only when the queue is full of high requests.
   * Queued requests are served high first, then normal, each in arrival order.
   */
  #admit(ex: Exchange): void {
    const routable = this.#routable
    if (routable.length === 0) {
      this.#reply(ex, new RouterError('TIDE_ERR_ROUTER_NO_INSTANCE', 'no healthy instance is in service'))
      return
    }
    const priority = ex.cls.info.priority
    if (priority === 'low' && routableInFlight(routable) >= (1 - this.#routing.lowPriorityHeadroomRatio) * routable.length * this.#maxInFlight) {
      this.#shed(ex)
      return
    }
    const u = this.#pick(ex)
    if (u) {
      this.#dispatch(ex, u)
      return
    }
    if (priority === 'low') {
      this.#shed(ex)
      return
    }
    this.#enqueue(ex)
  }

  #pick(ex: Exchange): Upstream | undefined {
    let candidates = this.#routable
    // A retry goes to another instance when there is one.
    if (ex.lastUpstream && candidates.length > 1) candidates = candidates.filter((u) => u !== ex.lastUpstream)
    const pick = pickInstance(candidates, { balance: this.#routing.balance, random: this.#random, cursor: this.#cursor, maxInFlight: this.#maxInFlight })
    this.#cursor = pick.nextCursor
    return pick.index === undefined ? undefined : candidates[pick.index]
  }

  #enqueue(ex: Exchange): void {
    const high = ex.cls.info.priority === 'high'
    if (this.#queued >= this.#queueMax) {
      const victim = high ? this.#queues[1].pop() : undefined
      if (!victim) {
        this.#shed(ex)
        return
      }
      this.#unqueued(victim)
      this.#shed(victim)
    }
    this.#queues[high ? 0 : 1].push(ex)
    ex.state = 'queued'
    ex.queueDeadlineMs = performance.now() + this.#queueTimeoutMs
    this.#queued++
    ex.cls.counters.queued++
  }

  /** Bookkeeping after an exchange left a queue by any path. */
  #unqueued(ex: Exchange): void {
    this.#queued--
    ex.cls.counters.queued--
    ex.state = 'new'
  }

  #removeFromQueue(ex: Exchange): void {
    const queue = this.#queues[ex.cls.info.priority === 'high' ? 0 : 1]
    const i = queue.indexOf(ex)
    if (i >= 0) {
      queue.splice(i, 1)
      this.#unqueued(ex)
    }
  }

  /** Serves waiting requests while an instance has a free slot. */
  #pumpQueue(): void {
    while (this.#queued > 0) {
      const queue = this.#queues[0].length > 0 ? this.#queues[0] : this.#queues[1]
      const ex = queue[0]
      if (!ex) return
      if (this.#routable.length === 0) {
        queue.shift()
        this.#unqueued(ex)
        this.#reply(ex, new RouterError('TIDE_ERR_ROUTER_NO_INSTANCE', 'no healthy instance is in service'))
        continue
      }
      const u = this.#pick(ex)
      if (!u) return
      queue.shift()
      this.#unqueued(ex)
      this.#dispatch(ex, u)
    }
  }

  #dispatch(ex: Exchange, u: Upstream): void {
    ex.state = 'active'
    ex.upstream = u
    ex.lastUpstream = u
    ex.attempts++
    ex.abortAttempt = undefined
    ex.dispatchedMs = performance.now()
    u.inFlight++
    this.#inFlight++
    u.pool.dispatch(
      {
        path: u.pathPrefix === '' ? (ex.req.url ?? '/') : backupPath(u.pathPrefix, ex.req.url ?? '/'),
        method: ex.req.method ?? 'GET',
        headers: ex.headers,
        body: ex.body,
      },
      ex,
    )
  }

  /** Ends one attempt's hold on its instance; returns the instance. */
  #release(ex: Exchange): Upstream | undefined {
    const u = ex.upstream
    if (!u) return undefined
    ex.upstream = undefined
    u.inFlight--
    this.#inFlight--
    if (u.inFlight === 0) {
      if (!u.listed) this.#close(u)
      else if (u.draining) this.#send({ t: 'drained', id: u.id })
    }
    return u
  }

  /**
   * Counts response body bytes as they arrive from the instance of the exchange's attempt (so a
   * long download is spread over the windows it spans), for that instance and the total.
   */
  countResponseBytes(ex: Exchange, bytes: number): void {
    const u = ex.upstream
    if (u) u.counters.bytesOut += bytes
    this.#total.bytesOut += bytes
  }

  /** Called by the exchange when the instance's answer ended. */
  attemptCompleted(ex: Exchange): void {
    const u = this.#release(ex)
    const nowMs = performance.now()
    const isError = ex.status >= 500
    // The request's body went to this instance whole (undici sends a Content-Length body in full
    // or fails the attempt); an attempt that fails is not counted, as how much of it was sent is unknown.
    const bodyBytes = typeof ex.bodyBytes === 'number' ? ex.bodyBytes : ex.bodyBytes.bytes
    this.#total.bytesIn += bodyBytes
    if (u) {
      u.counters.bytesIn += bodyBytes
      u.counters.record(nowMs - ex.dispatchedMs, isError)
      if (isError) this.#passiveFailure(u, `answered ${ex.status}`)
      else u.consecutiveFailures = 0
    }
    ex.cls.counters.record(nowMs - ex.startMs, isError)
    this.#total.record(nowMs - ex.startMs, isError)
    ex.state = 'done'
    this.#active.delete(ex)
    this.#pumpQueue()
  }

  /** Called by the exchange when an attempt failed: retry, or answer 400/413/502/504, or cut the client off. */
  attemptFailed(ex: Exchange, err: Error): void {
    const u = this.#release(ex)
    const code = errorCode(err)
    if (CLIENT_FAULT_CODES.has(code) && !ex.responseStarted && ex.state !== 'done') {
      // undici refused the request itself: it never reached the instance, which is not to blame.
      this.#reply(ex, new RouterError('TIDE_ERR_ROUTER_BAD_REQUEST', `the router cannot forward this request: ${err.message}`, { cause: err }))
      this.#pumpQueue()
      return
    }
    const nowMs = performance.now()
    if (u) {
      u.counters.record(nowMs - ex.dispatchedMs, true)
      if (code !== 'TIDE_ERR_ROUTER_BODY_TOO_LARGE' && !ex.timedOut && ex.state !== 'done') this.#passiveFailure(u, `${code || err.name}: ${err.message}`)
    }
    if (ex.state === 'done') {
      this.#pumpQueue()
      return
    }
    if (ex.responseStarted) {
      // Headers already went to the client: all we can do is cut the connection so it sees a truncated answer.
      this.#finishFailed(ex, nowMs)
      ex.res.destroy(err)
    } else {
      const answer = this.#failureAnswer(ex, err, code)
      if (answer) this.#reply(ex, answer)
      else {
        ex.state = 'new'
        this.#admit(ex)
      }
    }
    this.#pumpQueue()
  }

  /** The error answer for a failed attempt whose answer has not started, or undefined to retry. */
  #failureAnswer(ex: Exchange, err: Error, code: string): RouterError | undefined {
    if (code === 'TIDE_ERR_ROUTER_BODY_TOO_LARGE') return err instanceof RouterError ? err : new RouterError('TIDE_ERR_ROUTER_BODY_TOO_LARGE', err.message)
    if (ex.timedOut) {
      return new RouterError('TIDE_ERR_ROUTER_TIMEOUT', `no answer within routing.limits.requestTimeoutSeconds (${this.#timeoutMs / 1000} s)`, { cause: err })
    }
    if (this.#retryable(ex, code)) return undefined
    const tried = ex.attempts === 1 ? 'the instance' : `${ex.attempts} instances`
    return new RouterError('TIDE_ERR_ROUTER_UPSTREAM', `${tried} failed before answering (${code || err.message})`, { cause: err })
  }

  /**
   * A failed attempt may be retried on another instance when retries are left,
   * nothing of the answer reached the client, no body byte was sent, and either
   * the method is idempotent or the request provably never reached an instance
   * (a connect failure). A POST that was sent is never retried: it may have run.
   */
  #retryable(ex: Exchange, code: string): boolean {
    if (ex.attempts > this.#routing.retries) return false
    if (ex.body !== null && ex.body.readableDidRead) return false
    if (ex.req.destroyed) return false
    return IDEMPOTENT.has(ex.req.method ?? '') || CONNECT_ERRORS.has(code)
  }

  #passiveFailure(u: Upstream, reason: string): void {
    u.consecutiveFailures++
    const limit = this.#routing.ejectAfterFailures
    if (limit > 0 && u.consecutiveFailures >= limit && u.routable) {
      u.routable = false
      this.#rebuildRoutable()
      this.#send({ t: 'eject', id: u.id, failures: u.consecutiveFailures, reason })
    }
  }

  /** The client closed its connection before its answer ended. */
  clientGone(ex: Exchange): void {
    if (ex.state === 'queued') this.#removeFromQueue(ex)
    const wasActive = ex.state === 'active'
    ex.state = 'done'
    this.#active.delete(ex)
    if (wasActive) ex.abortAttempt?.(new RouterError('TIDE_ERR_ROUTER_UPSTREAM', 'client went away'))
  }

  #finishFailed(ex: Exchange, nowMs: number): void {
    ex.cls.counters.record(nowMs - ex.startMs, true)
    this.#total.record(nowMs - ex.startMs, true)
    ex.state = 'done'
    this.#active.delete(ex)
  }

  #shed(ex: Exchange): void {
    ex.cls.counters.shed++
    this.#total.shed++
    this.#reply(ex, new RouterError('TIDE_ERR_ROUTER_SHED', `capacity is short: ${ex.cls.info.priority}-priority class '${ex.cls.info.name}' is shed; retry after ${this.#routing.retryAfterSeconds} s`))
  }

  /** Answers with the router's own error. 502/504 count as errors of the class; shedding counts as shed. */
  #reply(ex: Exchange, err: RouterError): void {
    const nowMs = performance.now()
    if (err.code === 'TIDE_ERR_ROUTER_UPSTREAM' || err.code === 'TIDE_ERR_ROUTER_TIMEOUT') {
      ex.cls.counters.record(nowMs - ex.startMs, true)
      this.#total.record(nowMs - ex.startMs, true)
    }
    ex.state = 'done'
    this.#active.delete(ex)
    this.#writeError(ex.req, ex.res, err, ex.requestId)
  }

  /** Answers before an exchange exists (limits checked on arrival). */
  #replyEarly(req: http.IncomingMessage, res: http.ServerResponse, err: RouterError): void {
    this.#writeError(req, res, err, undefined)
  }

  #writeError(req: http.IncomingMessage, res: http.ServerResponse, err: RouterError, requestId: string | undefined): void {
    if (res.headersSent || res.destroyed) return
    const body = JSON.stringify({ error: err.code, message: err.message })
    const headers: Record<string, string | number> = {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
      'x-tide-error': err.code,
    }
    if (requestId !== undefined) headers['x-request-id'] = requestId
    if (err.status === 503) headers['retry-after'] = this.#routing.retryAfterSeconds
    // An unread request body would have to be drained to reuse the connection: close it instead.
    if (!req.complete) headers.connection = 'close'
    res.writeHead(err.status, headers)
    res.end(body)
  }

  readonly #onClientError = (err: Error, socket: Socket): void => {
    if (!socket.writable) {
      socket.destroy()
      return
    }
    const code = errorCode(err)
    const routerErr =
      code === 'HPE_HEADER_OVERFLOW'
        ? new RouterError('TIDE_ERR_ROUTER_HEADERS_TOO_LARGE', `request headers exceed routing.limits.maxHeaderBytes (${this.#routing.limits.maxHeaderBytes} bytes)`)
        : new RouterError('TIDE_ERR_ROUTER_BAD_REQUEST', `malformed HTTP request (${code || err.message})`)
    endWithError(socket, routerErr)
  }

  /** CONNECT (a tunnel request): the router is a reverse proxy and answers 400 itself. */
  readonly #onConnect = (req: http.IncomingMessage, socket: Socket): void => {
    const refusal = unforwardable(req.method, req.url, 1) ?? 'CONNECT is not forwarded'
    if (socket.writable) endWithError(socket, new RouterError('TIDE_ERR_ROUTER_BAD_REQUEST', refusal))
    else socket.destroy()
  }

  readonly #sweepTimeouts = (): void => {
    if (this.#active.size === 0) return
    const nowMs = performance.now()
    for (const ex of this.#active.toArray()) {
      if (ex.state === 'queued' && (nowMs >= ex.queueDeadlineMs || nowMs >= ex.deadlineMs)) {
        this.#removeFromQueue(ex)
        if (nowMs >= ex.deadlineMs) this.#reply(ex, new RouterError('TIDE_ERR_ROUTER_TIMEOUT', `no instance was free within routing.limits.requestTimeoutSeconds (${this.#timeoutMs / 1000} s)`))
        else this.#shed(ex)
      } else if (ex.state === 'active' && nowMs >= ex.deadlineMs && !ex.timedOut) {
        ex.timedOut = true
        ex.abortAttempt?.(new RouterError('TIDE_ERR_ROUTER_TIMEOUT', 'request timeout'))
      }
    }
  }

  // ── windows and stopping ───────────────────────────────────────────────────

  #cut(): WindowSample {
    const endMs = Date.now()
    const instances: Record<string, ReturnType<TrafficCounters['cut']>> = {}
    for (const u of this.#upstreams.values()) {
      u.counters.inFlight = u.inFlight
      instances[u.id] = u.counters.cut()
    }
    const classes: Record<string, ReturnType<TrafficCounters['cut']>> = {}
    for (const c of this.#classes) {
      c.counters.inFlight = 0
      classes[c.info.name] = c.counters.cut()
    }
    for (const ex of this.#active.toArray()) {
      if (ex.state === 'active') {
        const c = classes[ex.cls.info.name]
        if (c) classes[ex.cls.info.name] = { ...c, inFlight: c.inFlight + 1 }
      }
    }
    this.#total.inFlight = this.#inFlight
    this.#total.queued = this.#queued
    const sample: WindowSample = { startMs: this.#windowStartMs, endMs, total: this.#total.cut(), instances, classes }
    this.#windowStartMs = endMs
    return sample
  }

  #stop(graceMs: number): void {
    if (this.#stopping) return
    this.#stopping = true
    // No new connection from here on (net's close: node:http's would also close the idle ones at
    // once, and a connection just accepted whose request is still on its way counts as idle, so
    // its client would see a reset). Each busy one is told to go (`Connection: close`) with the
    // answer in progress, and so is each that brings a request before the end of the linger;
    // idle ones are closed after it.
    net.Server.prototype.close.call(this.#server)
    for (const ex of this.#active.toArray()) if (!ex.res.headersSent) ex.res.setHeader('connection', 'close')
    const startMs = performance.now()
    const deadline = startMs + graceMs
    const lingerEnd = startMs + Math.min(graceMs, STOP_LINGER_MS)
    this.#stopDeadlineMs = deadline
    const finish = (): void => {
      clearInterval(this.#sweep)
      this.#server.closeAllConnections()
      for (const u of this.#upstreams.values()) u.pool.destroy().catch(() => undefined)
      this.#upstreams.clear()
      this.#send({ t: 'stopped' })
    }
    const wait = (): void => {
      const nowMs = performance.now()
      if (nowMs >= lingerEnd) this.#server.closeIdleConnections()
      if ((this.#active.size === 0 && nowMs >= lingerEnd) || nowMs >= deadline) finish()
      else setTimeout(wait, 10)
    }
    wait()
  }
}
