/**
 * Router throughput and added latency next to nginx, in front of the same two
 * backend instances (small node:http servers, each its own process), on loopback.
 * wrk drives each: first flat out (requests/s), then at about half of nginx's
 * rate (p99 latency, compared with going straight to the backends).
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

/** Seconds of each wrk run. */
const RUN_SECONDS = 5
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
function wrk(url: string, connections: number, paceScript?: string): Promise<WrkResult> {
  const args = ['-t2', `-c${connections}`, `-d${RUN_SECONDS}s`, '--latency', ...(paceScript ? ['-s', paceScript] : []), url]
  return new Promise((resolve, reject) => {
    const child = spawn('wrk', args, { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    child.stdout.on('data', (c: Buffer) => (out += c.toString()))
    child.stderr.on('data', (c: Buffer) => (out += c.toString()))
    const timer = setTimeout(() => child.kill('SIGKILL'), (RUN_SECONDS + 20) * 1000)
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
  const results = await Promise.all(urls.map((u) => wrk(u, perUrl, script)))
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

async function startTide(workers: number, backendPorts: readonly number[]): Promise<Router> {
  const router = new Router({
    routing: RoutingSchema.parse({ listen: 0, workers, maxInFlightPerInstance: 1024, queueLength: 1024 }),
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

interface TideRun {
  readonly workers: number
  readonly full: WrkResult
  readonly cpu: number
  readonly paced: WrkResult
}

interface Measurements {
  readonly cores: number
  readonly nginx: WrkResult
  readonly nginxCpu: number
  readonly nginxPaced: WrkResult
  readonly plain: WrkResult
  readonly plainCpu: number
  readonly plainPaced: WrkResult
  readonly direct: WrkResult
  readonly tideRuns: readonly TideRun[]
}

/** The two tables from the measurements; the first tide run (one worker per core) is the one judged. */
function tables({ cores, nginx, nginxCpu, nginxPaced, plain, plainCpu, plainPaced, direct, tideRuns }: Measurements): Table[] {
  const best = tideRuns[0]
  const perRequestUs = (cpu: number, r: WrkResult): number => (r.requests > 0 ? (cpu * 1e6) / r.requests : Infinity)
  const nginxUs = perRequestUs(nginxCpu, nginx)
  const plainUs = perRequestUs(plainCpu, plain)
  const rows: (string | number)[][] = [
    ['nginx (worker_processes auto, keepalive)', Math.round(nginx.rps), '1.00x', fmt(nginx.p99Ms), fmt(nginxUs, 1), '1.00x', nginx.errors],
    ['plain Node proxy (node:http + undici Pool, nothing else)', Math.round(plain.rps), `${fmt(plain.rps / nginx.rps)}x`, fmt(plain.p99Ms), fmt(plainUs, 1), `${fmt(nginxUs / plainUs)}x`, plain.errors],
  ]
  for (const t of tideRuns) {
    const us = perRequestUs(t.cpu, t.full)
    rows.push([`tide router, ${t.workers} worker${t.workers === 1 ? '' : 's'}`, Math.round(t.full.rps), `${fmt(t.full.rps / nginx.rps)}x`, fmt(t.full.p99Ms), fmt(us, 1), `${fmt(nginxUs / us)}x`, t.full.errors])
  }
  const latencyRows: (string | number)[][] = [
    ['direct to the two backends', Math.round(direct.rps), fmt(direct.p50Ms), fmt(direct.p99Ms), '-', direct.errors],
    ['nginx', Math.round(nginxPaced.rps), fmt(nginxPaced.p50Ms), fmt(nginxPaced.p99Ms), fmt(nginxPaced.p99Ms - direct.p99Ms), nginxPaced.errors],
    ['plain Node proxy', Math.round(plainPaced.rps), fmt(plainPaced.p50Ms), fmt(plainPaced.p99Ms), fmt(plainPaced.p99Ms - direct.p99Ms), plainPaced.errors],
    ...tideRuns.map((t) => [`tide router, ${t.workers} worker${t.workers === 1 ? '' : 's'}`, Math.round(t.paced.rps), fmt(t.paced.p50Ms), fmt(t.paced.p99Ms), fmt(t.paced.p99Ms - direct.p99Ms), t.paced.errors]),
  ]
  const ratio = best ? best.full.rps / nginx.rps : 0
  const added = best ? best.paced.p99Ms - direct.p99Ms : Infinity
  return [
    {
      title: `Router throughput: wrk -t2 -c${CONNECTIONS} -d${RUN_SECONDS}s, ${cores} cores, two node:http backends`,
      columns: ['proxy', 'requests/s', 'vs nginx', 'p99 ms', 'proxy cpu µs/req', 'nginx cpu / this', 'errors'],
      rows,
      notes: [
        `Goal: tide ≥ 0.5x nginx. Measured ${fmt(ratio)}x with ${best?.workers ?? 0} workers: ${ratio >= 0.5 ? 'met' : 'NOT met'}. The plain Node proxy, which does nothing but forward, reaches ${fmt(plain.rps / nginx.rps)}x: the floor of a proxy in Node on this machine.`,
        'wrk, nginx, both backends and the router share the same cores, so figures are noisy when other work runs.',
        'proxy cpu µs/req: user+system CPU of the proxy processes (nginx master+workers; tide primary+workers) per request, from /proc; less sensitive to other load than requests/s.',
      ],
    },
    {
      title: `Router added latency at about half of nginx's rate (wrk paced: ${PACE_DELAY_MS} ms delay per request)`,
      columns: ['path', 'requests/s', 'p50 ms', 'p99 ms', 'p99 added ms', 'errors'],
      rows: latencyRows,
      notes: [`Goal: p99 added by tide < 2 ms. Measured ${fmt(added)} ms: ${added < 2 ? 'met' : 'NOT met'}.`],
    },
  ]
}

/** The benchmark: see the module comment. */
export async function run(): Promise<Table[]> {
  const install = spawnSync('bash', ['scripts/install-system-deps.sh', 'nginx', 'wrk'], { stdio: 'inherit' })
  if (install.status !== 0) throw new Error('bench router: installing nginx and wrk failed (scripts/install-system-deps.sh needs root and apt)')
  const dir = mkdtempSync(join(tmpdir(), 'tide-bench-router-'))
  const children: ChildProcess[] = []
  const routers: Router[] = []
  try {
    const pace = join(dir, 'pace.lua')
    writeFileSync(pace, `function delay() return ${PACE_DELAY_MS} end\n`)
    const backendPorts = [await freePort(), await freePort()]
    for (const p of backendPorts) await startBackend(p, children)
    const nginxPort = await freePort()
    writeFileSync(join(dir, 'nginx.conf'), nginxConfig(dir, nginxPort, backendPorts))
    const nginxProcess = startProcess('nginx', ['-p', dir, '-c', join(dir, 'nginx.conf')], children)
    await waitListening(nginxPort, 10_000)
    const notProxies = new Set(children.filter((c) => c !== nginxProcess).map((c) => c.pid ?? -1))

    const cores = (await import('node:os')).availableParallelism()
    const nginxUrl = `http://127.0.0.1:${nginxPort}/`
    const [nginx, nginxCpu] = await withCpu(nginxProcess.pid ?? -1, notProxies, () => wrk(nginxUrl, CONNECTIONS))

    const plainPort = await freePort()
    const plainProcess = await startNodeScript(PLAIN_NODE_PROXY, [plainPort, ...backendPorts], children)
    const plainUrl = `http://127.0.0.1:${plainPort}/`
    const [plain, plainCpu] = await withCpu(plainProcess.pid ?? -1, notProxies, () => wrk(plainUrl, CONNECTIONS))
    const plainPaced = await pacedPair([plainUrl], nginx.rps / 2, pace)
    plainProcess.kill('SIGTERM')

    const tideRuns: TideRun[] = []
    for (const workers of [...new Set([cores, 1])]) {
      const router = await startTide(workers, backendPorts)
      routers.push(router)
      const url = `http://127.0.0.1:${router.port}/`
      const [full, cpu] = await withCpu(process.pid, notProxies, () => wrk(url, CONNECTIONS))
      const paced = await pacedPair([url], nginx.rps / 2, pace)
      await router.stop({ graceMs: 1000 })
      tideRuns.push({ workers, full, cpu, paced })
    }
    const nginxPaced = await pacedPair([nginxUrl], nginx.rps / 2, pace)
    const direct = await pacedPair(
      backendPorts.map((p) => `http://127.0.0.1:${p}/`),
      nginx.rps / 2,
      pace,
    )

    return tables({ cores, nginx, nginxCpu, nginxPaced, plain, plainCpu, plainPaced, direct, tideRuns })
  } finally {
    for (const r of routers) await r.stop({ graceMs: 0 }).catch(() => undefined)
    for (const c of children) if (c.exitCode === null) c.kill('SIGTERM')
    await Promise.all(children.filter((c) => c.exitCode === null && c.signalCode === null).map((c) => new Promise((r) => c.once('exit', r))))
    rmSync(dir, { recursive: true, force: true })
  }
}
