/**
 * Router throughput and added latency next to nginx, in front of the same two
 * backend instances (small node:http servers, each its own process), on loopback.
 * wrk drives each: first flat out (requests/s), then at about half of nginx's
 * rate (p99 latency, compared with going straight to the backends). All proxies run
 * side by side; after a warm-up, rounds run wrk against each in turn, and the tables
 * report medians over the rounds with ratios taken within a round.
 * Installs nginx and wrk when missing (scripts/install-system-deps.sh, apt, root).
 * Everything it starts it stops, even on error.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Router } from '../src/router/router.ts'
import { HealthSchema, RoutingSchema } from '../src/spec/schema.ts'
import { fmt, type Table } from './table.ts'

/** Seconds of each measured wrk run (paced ones: PACED_SECONDS, each paired with a direct run). */
const RUN_SECONDS = 5
const PACED_SECONDS = 4
/** Seconds of wrk against each proxy before the first round: JIT warm-up, pools filled. */
const WARMUP_SECONDS = 2
/** Rounds of runs against every proxy in turn; figures are medians over rounds. */
const ROUNDS = 3
const CONNECTIONS = 64
/** wrk's per-request delay (ms) in the rate-limited runs; the connection count sets the rate. */
const PACE_DELAY_MS = 2

const BACKEND = `
const http = require('node:http')
http.createServer((req, res) => {
  if (req.url === '/healthz') { res.writeHead(200); res.end(); return }
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': 12 })
  res.end('hello, tide\\n')
}).listen(Number(process.argv[1]), '127.0.0.1', () => process.send ? process.send('up') : console.log('up'))
`

/**
 * The plainest Node.js reverse proxy: node:http in front of an undici Pool per backend,
 * round-robin, streaming the answer. No health checks, limits, retries, shedding or stats: the
 * floor of what a proxy written for Node costs on this machine, so that tide's router is judged
 * against Node as well as against nginx.
 */
const PLAIN_NODE_PROXY = `
const http = require('node:http')
const { Pool } = require('undici')
const listen = Number(process.argv[1])
const pools = process.argv.slice(2).map((p) => new Pool('http://127.0.0.1:' + p, { connections: 128 }))
let next = 0
http.createServer((req, res) => {
  const pool = pools[next++ % pools.length]
  pool.request({ path: req.url, method: req.method, headers: { 'x-forwarded-for': req.socket.remoteAddress } }).then(
    (r) => { res.writeHead(r.statusCode, r.headers); r.body.pipe(res) },
    () => { res.writeHead(502); res.end() },
  )
}).listen(listen, '127.0.0.1', () => process.send('up'))
`

interface WrkResult {
  readonly requests: number
  readonly rps: number
  readonly p50Ms: number
  readonly p99Ms: number
  readonly errors: number
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address()
      const port = typeof address === 'object' && address !== null ? address.port : 0
      srv.close(() => {
        resolve(port)
      })
    })
  })
}

function toMs(value: string, unit: string): number {
  const v = Number(value)
  if (unit === 'us') return v / 1000
  if (unit === 's') return v * 1000
  if (unit === 'm') return v * 60_000
  return v
}

/** Runs wrk (argv, bounded by -d) and parses requests/s, p50, p99 and socket errors. */
function wrk(url: string, connections: number, paceScript?: string, seconds = RUN_SECONDS): Promise<WrkResult> {
  const args = ['-t2', `-c${connections}`, `-d${seconds}s`, '--latency', ...(paceScript ? ['-s', paceScript] : []), url]
  return new Promise((resolve, reject) => {
    const child = spawn('wrk', args, { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    child.stdout.on('data', (c: Buffer) => (out += c.toString()))
    child.stderr.on('data', (c: Buffer) => (out += c.toString()))
    const timer = setTimeout(() => child.kill('SIGKILL'), (seconds + 20) * 1000)
    child.on('error', reject)
    child.on('close', () => {
      clearTimeout(timer)
      const rps = /Requests\/sec:\s+([\d.]+)/.exec(out)
      const requests = /(\d+) requests in/.exec(out)
      const p50 = /\s50%\s+([\d.]+)(us|ms|s|m)/.exec(out)
      const p99 = /\s99%\s+([\d.]+)(us|ms|s|m)/.exec(out)
      const errs = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out)
      const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(out)
      if (!rps || !p50 || !p99) {
        reject(new Error(`wrk ${args.join(' ')}: cannot parse its output:\n${out}`))
        return
      }
      const socketErrors = errs ? errs.slice(1).reduce((s, n) => s + Number(n), 0) : 0
      resolve({
        requests: Number(requests?.[1] ?? 0),
        rps: Number(rps[1]),
        p50Ms: toMs(p50[1] ?? '0', p50[2] ?? 'ms'),
        p99Ms: toMs(p99[1] ?? '0', p99[2] ?? 'ms'),
        errors: socketErrors + Number(non2xx?.[1] ?? 0),
      })
    })
  })
}

/** Paced wrk over two URLs at once (one wrk each), for "direct to the backends" at a given total rate. */
async function pacedPair(urls: readonly string[], totalRps: number, script: string): Promise<WrkResult> {
  const perUrl = Math.max(2, Math.round((totalRps / urls.length) * (PACE_DELAY_MS / 1000)))
  const results = await Promise.all(urls.map((u) => wrk(u, perUrl, script, PACED_SECONDS)))
  return {
    requests: results.reduce((s, r) => s + r.requests, 0),
    rps: results.reduce((s, r) => s + r.rps, 0),
    p50Ms: Math.max(...results.map((r) => r.p50Ms)),
    p99Ms: Math.max(...results.map((r) => r.p99Ms)),
    errors: results.reduce((s, r) => s + r.errors, 0),
  }
}

/**
 * CPU seconds (user + system) used so far by `root` and its direct children,
 * minus the pids in `exclude`, from /proc (clock ticks of 1/100 s). CPU per request
 * is a fairer comparison than requests/s when other work shares the machine.
 */
function cpuSeconds(root: number, exclude: ReadonlySet<number>): number {
  let ticks = 0
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    const pid = Number(name)
    if (exclude.has(pid)) continue
    let stat: string
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    } catch {
      continue
    }
    // Fields after the command (which may contain spaces) in parentheses: state is 3, ppid 4, utime 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    const ppid = Number(fields[1])
    if (pid !== root && ppid !== root) continue
    ticks += Number(fields[11]) + Number(fields[12])
  }
  return ticks / 100
}

/** Runs `fn` and returns its result with the CPU seconds `root` (and children) spent meanwhile. */
async function withCpu<T>(root: number, exclude: ReadonlySet<number>, fn: () => Promise<T>): Promise<[T, number]> {
  const before = cpuSeconds(root, exclude)
  const result = await fn()
  return [result, cpuSeconds(root, exclude) - before]
}

function startProcess(command: string, args: readonly string[], children: ChildProcess[]): ChildProcess {
  const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] })
  children.push(child)
  return child
}

async function startBackend(port: number, children: ChildProcess[]): Promise<void> {
  await startNodeScript(BACKEND, [port], children)
}

/** Runs a CommonJS script with `node -e` (argv: the numbers given) and waits for its 'up' message. */
async function startNodeScript(script: string, args: readonly number[], children: ChildProcess[]): Promise<ChildProcess> {
  const port = args[0] ?? 0
  const child = spawn(process.execPath, ['-e', script, ...args.map(String)], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] })
  children.push(child)
  await new Promise<void>((resolve, reject) => {
    child.once('message', () => {
      resolve()
    })
    child.once('exit', (code) => {
      reject(new Error(`node script on port ${port} exited with ${code}`))
    })
  })
  return child
}

async function waitListening(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/`)
      await res.arrayBuffer()
      if (res.ok) return
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error(`nothing answered on 127.0.0.1:${port} within ${timeoutMs} ms`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

function nginxConfig(dir: string, port: number, backends: readonly number[]): string {
  return `
worker_processes auto;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  upstream backends {
${backends.map((p) => `    server 127.0.0.1:${p};`).join('\n')}
    keepalive 128;
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://backends;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
    }
  }
}
`
}

async function startTide(workers: number, backendPorts: readonly number[], proxy: 'tide' | 'haproxy' = 'tide'): Promise<Router> {
  const router = new Router({
    routing: RoutingSchema.parse({ listen: 0, proxy, workers, maxInFlightPerInstance: 1024, queueLength: 1024 }),
    health: HealthSchema.parse({ intervalSeconds: 1, graceSeconds: 0 }),
  })
  await router.start()
  router.setInstances(backendPorts.map((port, i) => ({ id: `b${i}`, host: '127.0.0.1', port, state: 'in-service' as const })))
  await new Promise<void>((resolve) => {
    const check = (): void => {
      if ([...router.health().values()].every((h) => h === 'healthy')) {
        router.off('health', check)
        resolve()
      }
    }
    router.on('health', check)
    check()
  })
  return router
}

/** One proxy under test: where wrk sends traffic and whose cpu counts as the proxy's. */
interface Proxy {
  readonly name: string
  readonly url: string
  /** The process whose cpu (with its direct children, minus `exclude`) is the proxy's. */
  readonly cpuRoot: number
  readonly exclude: ReadonlySet<number>
}

/** What one proxy measured in every round. */
interface ProxyRuns {
  readonly proxy: Proxy
  readonly full: WrkResult[]
  readonly cpu: number[]
  readonly paced: WrkResult[]
  /** Straight to the backends at the same pace, run just before each of this proxy's paced runs. */
  readonly direct: WrkResult[]
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length === 0 ? NaN : sorted.length % 2 === 1 ? (sorted[mid] ?? NaN) : ((sorted[mid - 1] ?? NaN) + (sorted[mid] ?? NaN)) / 2
}

/** "median (min–max)" of per-round values. */
function spread(values: readonly number[], digits = 2): string {
  return values.length < 2 ? fmt(median(values), digits) : `${fmt(median(values), digits)} (${fmt(Math.min(...values), digits)}–${fmt(Math.max(...values), digits)})`
}

/** Per-round ratios of one proxy's figure to nginx's in the same round. */
function perRound(runs: ProxyRuns, nginx: ProxyRuns, value: (r: WrkResult) => number): number[] {
  return runs.full.map((r, i) => value(r) / value(nginx.full[i] ?? r))
}

const perRequestUs = (cpu: number, r: WrkResult): number => (r.requests > 0 ? (cpu * 1e6) / r.requests : Infinity)

/** Whether each tide row meets a goal, as a sentence. */
function verdicts(tideRuns: readonly ProxyRuns[], value: (r: ProxyRuns) => number, met: (v: number) => boolean, unit: string): string {
  return tideRuns.map((r) => `${r.proxy.name.replace('tide router, ', '')} ${fmt(value(r))}${unit} (${met(value(r)) ? 'met' : 'NOT met'})`).join('; ')
}

/** The two tables from the measurements; every tide row is judged against the goals. */
function tables(cores: number, runs: readonly ProxyRuns[]): Table[] {
  const [nginx, plain, ...tideRuns] = runs
  if (!nginx || tideRuns.length === 0) throw new Error('bench router: nginx and tide must both have run')
  const nginxUs = nginx.full.map((f, i) => perRequestUs(nginx.cpu[i] ?? 0, f))
  const rows = runs.map((r) => {
    const us = r.full.map((f, i) => perRequestUs(r.cpu[i] ?? 0, f))
    return [
      r.proxy.name,
      Math.round(median(r.full.map((f) => f.rps))),
      spread(perRound(r, nginx, (f) => f.rps)),
      fmt(median(r.full.map((f) => f.p99Ms))),
      fmt(median(us), 1),
      fmt(median(us.map((u, i) => (nginxUs[i] ?? u) / u))),
      r.full.reduce((n, f) => n + f.errors, 0),
    ]
  })
  const direct = runs.flatMap((r) => r.direct)
  const directP99 = direct.map((d) => d.p99Ms)
  const added = (r: ProxyRuns): number[] => r.paced.map((p, i) => p.p99Ms - (r.direct[i]?.p99Ms ?? 0))
  const latencyRows: (string | number)[][] = [
    ['direct to the two backends', Math.round(median(direct.map((d) => d.rps))), fmt(median(direct.map((d) => d.p50Ms))), fmt(median(directP99)), '-', direct.reduce((n, d) => n + d.errors, 0)],
    ...runs.map((r) => [r.proxy.name, Math.round(median(r.paced.map((p) => p.rps))), fmt(median(r.paced.map((p) => p.p50Ms))), fmt(median(r.paced.map((p) => p.p99Ms))), spread(added(r)), r.paced.reduce((n, p) => n + p.errors, 0)]),
  ]
  const ratio = (r: ProxyRuns): number => median(perRound(r, nginx, (f) => f.rps))
  const addedMs = (r: ProxyRuns): number => median(added(r))
  return [
    {
      title: `Router throughput: wrk -t2 -c${CONNECTIONS} -d${RUN_SECONDS}s, ${cores} cores, two node:http backends, ${ROUNDS} interleaved rounds`,
      columns: ['proxy', 'requests/s', 'vs nginx (range)', 'p99 ms', 'proxy cpu µs/req', 'nginx cpu / this', 'errors'],
      rows,
      notes: [
        `Goal: tide ≥ 0.5x nginx. Measured: ${verdicts(tideRuns, ratio, (v) => v >= 0.5, 'x')}.${plain ? ` The plain Node proxy, which does nothing but forward, reaches ${fmt(ratio(plain))}x.` : ''}`,
        "tide's built-in proxy (routing.proxy: tide, the default; workers: 0 = one per core) against routing.proxy: haproxy, where tide drives HAProxy through its runtime API (docs/router.md).",
        `Every proxy is warmed up (${WARMUP_SECONDS} s of wrk), then each round runs wrk against each in turn; figures are medians over the rounds, ratios are per round (to nginx in the same round), so a machine that speeds up or slows down during the bench moves all of them alike.`,
        'wrk, nginx, both backends and the router share the same cores, so figures are noisy when other work runs.',
        'proxy cpu µs/req: user+system CPU of the proxy processes (nginx master+workers; tide primary+workers) per request, from /proc; less sensitive to other load than requests/s.',
      ],
    },
    {
      title: `Router added latency at about half of nginx's rate (wrk paced: ${PACE_DELAY_MS} ms delay per request, -d${PACED_SECONDS}s, ${ROUNDS} interleaved rounds, each run paired with a direct one)`,
      columns: ['path', 'requests/s', 'p50 ms', 'p99 ms', 'p99 added ms (range)', 'errors'],
      rows: latencyRows,
      notes: [`Goal: p99 added by tide < 2 ms. Measured: ${verdicts(tideRuns, addedMs, (v) => v < 2, ' ms')}. p99 added = the proxy's p99 minus the p99 of going straight to the backends at the same pace in the run just before it; the median over rounds.`],
    },
  ]
}

/**
 * Starts the backends, nginx, the plain Node proxy and tide's router in front of them:
 * its Node proxy with one worker per core and in-process, then routing.proxy haproxy
 * with one thread per core and one thread. All stay up for the whole bench.
 */
async function startProxies(dir: string, backendPorts: readonly number[], cores: number, children: ChildProcess[], routers: Router[]): Promise<Proxy[]> {
  for (const p of backendPorts) await startBackend(p, children)
  const nginxPort = await freePort()
  writeFileSync(join(dir, 'nginx.conf'), nginxConfig(dir, nginxPort, backendPorts))
  const nginxProcess = startProcess('nginx', ['-p', dir, '-c', join(dir, 'nginx.conf')], children)
  await waitListening(nginxPort, 10_000)
  const plainPort = await freePort()
  const plainProcess = await startNodeScript(PLAIN_NODE_PROXY, [plainPort, ...backendPorts], children)
  const plural = (n: number, what: string): string => `${n} ${what}${n === 1 ? '' : 's'}`
  const tide: { name: string; router: Router }[] = []
  const counts = [...new Set([cores, 1])]
  const start = async (name: string, started: Promise<Router>): Promise<void> => {
    const router = await started
    // In `routers` at once, so that the caller stops it even if a later one fails to start.
    routers.push(router)
    tide.push({ name, router })
  }
  for (const workers of counts) await start(`tide router, ${plural(workers, 'worker')}`, startTide(workers, backendPorts))
  for (const threads of counts) await start(`tide router, HAProxy (${plural(threads, 'thread')})`, startTide(threads, backendPorts, 'haproxy'))
  // Every child started so far (backends, nginx, the plain proxy) is not tide; tide's cluster workers are.
  const notTide = new Set(children.map((c) => c.pid ?? -1))
  return [
    { name: 'nginx (worker_processes auto, keepalive)', url: `http://127.0.0.1:${nginxPort}/`, cpuRoot: nginxProcess.pid ?? -1, exclude: new Set() },
    { name: 'plain Node proxy (node:http + undici Pool, nothing else)', url: `http://127.0.0.1:${plainPort}/`, cpuRoot: plainProcess.pid ?? -1, exclude: new Set() },
    ...tide.map(({ name, router }) => ({ name, url: `http://127.0.0.1:${router.port}/`, cpuRoot: process.pid, exclude: notTide })),
  ]
}

/** The benchmark: see the module comment. */
export async function run(): Promise<Table[]> {
  const install = spawnSync('bash', ['scripts/install-system-deps.sh', 'nginx', 'wrk', 'haproxy'], { stdio: 'inherit' })
  if (install.status !== 0) throw new Error('bench router: installing nginx, wrk and haproxy failed (scripts/install-system-deps.sh needs root and apt)')
  const dir = mkdtempSync(join(tmpdir(), 'tide-bench-router-'))
  const children: ChildProcess[] = []
  const routers: Router[] = []
  try {
    const pace = join(dir, 'pace.lua')
    writeFileSync(pace, `function delay() return ${PACE_DELAY_MS} end\n`)
    const backendPorts = [await freePort(), await freePort()]
    const cores = (await import('node:os')).availableParallelism()
    const proxies = await startProxies(dir, backendPorts, cores, children, routers)
    const runs: ProxyRuns[] = proxies.map((proxy) => ({ proxy, full: [], cpu: [], paced: [], direct: [] }))
    for (const p of proxies) await wrk(p.url, CONNECTIONS, undefined, WARMUP_SECONDS)
    for (let round = 0; round < ROUNDS; round++) {
      for (const r of runs) {
        const [full, cpu] = await withCpu(r.proxy.cpuRoot, r.proxy.exclude, () => wrk(r.proxy.url, CONNECTIONS))
        r.full.push(full)
        r.cpu.push(cpu)
      }
    }
    const halfOfNginx = median(runs[0]?.full.map((f) => f.rps) ?? []) / 2
    const backends = backendPorts.map((p) => `http://127.0.0.1:${p}/`)
    for (let round = 0; round < ROUNDS; round++) {
      for (const r of runs) {
        r.direct.push(await pacedPair(backends, halfOfNginx, pace))
        r.paced.push(await pacedPair([r.proxy.url], halfOfNginx, pace))
      }
    }
    return tables(cores, runs)
  } finally {
    for (const r of routers) await r.stop({ graceMs: 0 }).catch(() => undefined)
    for (const c of children) if (c.exitCode === null) c.kill('SIGTERM')
    await Promise.all(children.filter((c) => c.exitCode === null && c.signalCode === null).map((c) => new Promise((r) => c.once('exit', r))))
    rmSync(dir, { recursive: true, force: true })
  }
}
