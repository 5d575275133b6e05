/**
 * The haproxy.cfg for `routing.proxy: haproxy`. Pure: the group's routing section and
 * where HAProxy's runtime API socket and log receiver are in, the text out.
 *
 * HAProxy forwards; tide keeps what is its own. The router's primary still runs the
 * health checks and decides which instance is routable (router.ts), and the HAProxy
 * core (haproxy-core.ts) turns that table into server states over the runtime API. So
 * the servers here are empty slots (a server-template, all in maintenance) without
 * HAProxy's own checks. What tide's proxy does per request is written as HAProxy rules:
 * X-Forwarded-For/Proto, the request id, priority classes and shedding, the body
 * limit, retries, and the error answers with the same codes as tide's proxy (docs/errors.md).
 */
import type { RoutingSpec } from '../spec/schema.ts'
import { backupTargets } from './backup-pool.ts'
import { RouterError } from './errors.ts'
import { resolveClasses } from './priority-classes.ts'

/** The backend and the name prefix of its server slots (slot i is `${SLOT_PREFIX}${i}`, from 1). */
export const BACKEND = 'instances'
export const SLOT_PREFIX = 's'
/** The name prefix of the backup servers (routing.backup target i is `${BACKUP_SLOT_PREFIX}${i}`, from 1). */
export const BACKUP_SLOT_PREFIX = 'b'
/**
 * The proc variable that is 1 while no primary server is ready (the backup pool serves): the
 * HAProxy core sets it over the runtime API with the server states, and a backup url's path
 * prefix is added to requests only then (HAProxy has no per-server path rewrite).
 */
export const ON_BACKUP_VAR = 'proc.onbackup'

/** Where the generated configuration points HAProxy. */
export interface HaproxyConfigInput {
  readonly routing: RoutingSpec
  /** The port to listen on (routing.listen, or a free port chosen for 0). */
  readonly port: number
  /** Unix socket of the runtime API (admin level: it changes server states). */
  readonly adminSocket: string
  /** TCP port on 127.0.0.1 that receives one log line per request (forwarded from a ring buffer). */
  readonly logPort: number
  /** HAProxy threads. */
  readonly threads: number
  /** Server slots: the most instances the group can have behind this router at once. */
  readonly slots: number
}

/** Idempotent methods (RFC 9110 §9.2.2): only these are retried once sent. */
const IDEMPOTENT = 'GET HEAD OPTIONS PUT DELETE TRACE'

/**
 * A double-quoted HAProxy string: backslash, double quote and `$` (environment
 * expansion) escaped, so any message or class name stays one argument.
 */
export function quoted(s: string): string {
  return `"${s.replace(/[\\"$]/g, (c) => `\\${c}`)}"`
}

/** The JSON error body tide's proxy sends, as an HAProxy `string` argument with its headers. */
function errorReply(err: RouterError, retryAfterSeconds: number, extraHeaders: readonly [string, string][] = [], status = err.status): string {
  const body = JSON.stringify({ error: err.code, message: err.message })
  const headers: [string, string][] = [['x-tide-error', err.code], ...extraHeaders]
  if (status === 503) headers.push(['retry-after', String(retryAfterSeconds)])
  return `status ${status} content-type application/json ${headers.map(([n, v]) => `hdr ${n} ${quoted(v)}`).join(' ')} string ${quoted(body)}`
}

/** Seconds as an HAProxy time (milliseconds, so fractions survive). */
function ms(seconds: number): string {
  return `${Math.max(1, Math.round(seconds * 1000))}ms`
}

/**
 * Buffer sizes that make HAProxy refuse a header block larger than maxHeaderBytes:
 * it rejects requests whose headers do not fit in bufsize − maxrewrite.
 */
function buffers(maxHeaderBytes: number): { bufsize: number; maxrewrite: number } {
  // At least 1 KiB stays free for HAProxy's own header rewrites.
  const bufsize = Math.max(16384, maxHeaderBytes + 1024)
  return { bufsize, maxrewrite: bufsize - maxHeaderBytes }
}

/** The admission rules (priority classes, shedding, the body limit) of the frontend. */
function admissionRules(routing: RoutingSpec): string[] {
  const classes = resolveClasses(routing.classes)
  const lines: string[] = []
  // The class of a request: the first prefix that the request target starts with, else the catch-all (last).
  const catchAll = classes[classes.length - 1]
  lines.push(`http-request set-var(txn.class) str(${quoted(catchAll?.name ?? 'normal')})`)
  lines.push(`http-request set-var(txn.priority) str(${catchAll?.priority ?? 'normal'})`)
  for (const c of classes.slice(0, -1).reverse()) {
    if (c.pathPrefix === undefined) continue
    const cond = `{ url_beg ${quoted(c.pathPrefix)} }`
    lines.push(`http-request set-var(txn.class) str(${quoted(c.name)}) if ${cond}`)
    lines.push(`http-request set-var(txn.priority) str(${c.priority}) if ${cond}`)
  }
  lines.push('acl prio_high var(txn.priority) -m str high', 'acl prio_low var(txn.priority) -m str low')
  // High priority leaves HAProxy's queue first.
  lines.push('http-request set-priority-class int(-1) if prio_high', 'http-request set-priority-class int(1) if prio_low')
  const maxBody = routing.limits.maxBodyBytes
  lines.push(
    `http-request return ${errorReply(new RouterError('TIDE_ERR_ROUTER_BODY_TOO_LARGE', `request body exceeds routing.limits.maxBodyBytes (${maxBody} bytes)`), routing.retryAfterSeconds, [['connection', 'close']])} if { req.hdr_val(content-length) gt ${maxBody} }`,
  )
  lines.push(`http-request return ${errorReply(new RouterError('TIDE_ERR_ROUTER_NO_INSTANCE', 'no healthy instance is in service'), routing.retryAfterSeconds)} if { nbsrv(${BACKEND}) eq 0 }`)
  // Low is shed once in-flight requests reach (1 − headroom) × capacity, in thousandths to keep the ratio exact.
  const lowShare = Math.round((1 - routing.lowPriorityHeadroomRatio) * routing.maxInFlightPerInstance * 1000)
  lines.push(`http-request set-var(txn.lowcap) nbsrv(${BACKEND}),mul(${lowShare}) if prio_low`)
  const shed = (priority: string): string =>
    `http-request return ${errorReply(new RouterError('TIDE_ERR_ROUTER_SHED', `capacity is short: ${priority}-priority requests are shed; retry after ${routing.retryAfterSeconds} s`), routing.retryAfterSeconds)}`
  lines.push(`${shed('low')} if prio_low { be_conn(${BACKEND}),mul(1000),sub(txn.lowcap) ge 0 }`)
  lines.push(`${shed('low')} if prio_low { queue(${BACKEND}) gt 0 }`)
  lines.push(`${shed('normal')} if !prio_high { queue(${BACKEND}) ge ${routing.queueLength} }`)
  return lines
}

/**
 * The backup servers (routing.backup), with HAProxy's native `backup` flag: they get requests
 * only while no primary server is up, and `option allbackups` spreads them over all of them.
 * Their addresses are fixed in the file (a host name is resolved at start; one that does not
 * resolve leaves the server without an address rather than failing the start); they start in
 * maintenance and tide's health checks set them ready like any instance.
 */
function backupLines(routing: RoutingSpec): string[] {
  const targets = backupTargets(routing)
  if (targets.length === 0) return []
  const lines = ['option allbackups']
  const prefix = targets[0]?.pathPrefix ?? ''
  if (prefix !== '') {
    // A log-format string: % doubled; quoted() escapes the rest.
    lines.push(`http-request set-path ${quoted(`${prefix.replace(/%/g, '%%')}%[path]`)} if { var(${ON_BACKUP_VAR}) -m int 1 }`)
  }
  for (const [i, t] of targets.entries()) lines.push(`server ${BACKUP_SLOT_PREFIX}${i + 1} ${t.host}:${t.port} backup disabled init-addr libc,none`)
  return lines
}

/** haproxy.cfg for one group's router. */
export function haproxyConfig(input: HaproxyConfigInput): string {
  const { routing } = input
  if (input.slots < 1) throw new RouterError('TIDE_ERR_ROUTER_USAGE', 'haproxy: at least one server slot is needed')
  const { bufsize, maxrewrite } = buffers(routing.limits.maxHeaderBytes)
  const timeout = routing.limits.requestTimeoutSeconds
  const r = routing.retryAfterSeconds
  const indent = (lines: readonly string[]): string => lines.map((l) => `  ${l}`).join('\n')
  const errors = [
    `http-error ${errorReply(new RouterError('TIDE_ERR_ROUTER_BAD_REQUEST', `malformed HTTP request, or headers over routing.limits.maxHeaderBytes (${routing.limits.maxHeaderBytes} bytes)`), r)}`,
    // HAProxy's 408: the client did not finish sending its request in time.
    `http-error ${errorReply(new RouterError('TIDE_ERR_ROUTER_TIMEOUT', `no complete request within routing.limits.requestTimeoutSeconds (${timeout} s)`), r, [], 408)}`,
    `http-error ${errorReply(new RouterError('TIDE_ERR_ROUTER_UPSTREAM', 'the instance failed before answering'), r)}`,
    `http-error ${errorReply(new RouterError('TIDE_ERR_ROUTER_SHED', `capacity is short: no instance was free within routing.queueTimeoutSeconds (${routing.queueTimeoutSeconds} s); retry after ${r} s`), r)}`,
    `http-error ${errorReply(new RouterError('TIDE_ERR_ROUTER_TIMEOUT', `no answer within routing.limits.requestTimeoutSeconds (${timeout} s)`), r)}`,
  ]
  return `# Generated by tide for routing.proxy: haproxy. Do not edit: tide writes it anew on every start.
global
  nbthread ${input.threads}
  stats socket ${input.adminSocket} mode 600 level admin
  log ring@requests local0
  # One request in proc.logsample is logged; tide raises it under load (haproxy-core.ts).
  set-var proc.logsample int(1)
  # 1 while the backup pool serves (haproxy-core.ts), for a backup url's path prefix.
  set-var ${ON_BACKUP_VAR} int(0)
  tune.bufsize ${bufsize}
  tune.maxrewrite ${maxrewrite}

# Per-request log lines go to tide through a ring buffer over TCP: many lines per read.
ring requests
  format raw
  maxlen 1024
  size 4194304
  timeout connect 5s
  timeout server 30s
  server tide 127.0.0.1:${input.logPort}

defaults
  mode http
  log global
  option http-keep-alive
  timeout connect ${ms(Math.min(5, timeout))}
  timeout client ${ms(timeout)}
  timeout http-request ${ms(timeout)}
  timeout http-keep-alive ${ms(Math.min(5, timeout))}
  timeout server ${ms(timeout)}
  timeout queue ${ms(routing.queueTimeoutSeconds)}

frontend router
  bind ${routing.host.includes(':') ? `[${routing.host}]` : routing.host}:${input.port}
  # One line per request: server slot, status, total ms, ms queued, class.
  log-format "%s %ST %Ta %Tw %[var(txn.class)]"
  http-request set-log-level silent unless { rand,mod(proc.logsample) eq 0 }
  option forwardfor
  http-request set-header x-forwarded-proto http
  http-request set-header x-request-id %[uuid] unless { req.hdr(x-request-id) -m found }
  http-request set-var(txn.rid) req.hdr(x-request-id)
  http-after-response set-header x-request-id %[var(txn.rid)] if { var(txn.rid) -m found } !{ res.hdr(x-request-id) -m found }
${indent(admissionRules(routing))}
${indent(errors)}
  default_backend ${BACKEND}

backend ${BACKEND}
  balance ${routing.balance === 'p2c' ? 'random(2)' : 'roundrobin'}
  retries ${routing.retries}
  option redispatch 1
  retry-on conn-failure empty-response response-timeout
  # Once sent, only an idempotent request is tried again: a POST may have run.
  http-request disable-l7-retry unless { method ${IDEMPOTENT} }
  default-server maxconn ${routing.maxInFlightPerInstance}
  server-template ${SLOT_PREFIX} 1-${input.slots} 127.0.0.1:1 disabled
${backupLines(routing)
  .map((l) => `  ${l}\n`)
  .join('')}`
}
