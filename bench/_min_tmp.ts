import { spawn } from 'node:child_process'
import http from 'node:http'
import { Pool } from 'undici'
import { Router } from '../src/router/router.ts'
import { HealthSchema, RoutingSchema } from '../src/spec/schema.ts'
const BACKEND = `
const http = require('node:http')
http.createServer((req, res) => {
  if (req.url === '/healthz') { res.writeHead(200); res.end(); return }
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': 12 })
  res.end('hello, tide\\n')
}).listen(Number(process.argv[1]), '127.0.0.1', () => console.log('up'))
`
const ports = [19201, 19202]
const kids = ports.map((p) => spawn(process.execPath, ['-e', BACKEND, String(p)], { stdio: 'ignore' }))
await new Promise((r) => setTimeout(r, 500))
async function wrk(url: string): Promise<string> {
  const w = spawn('wrk', ['-t2', '-c64', '-d5s', url], { stdio: ['ignore', 'pipe', 'inherit'] })
  let out = ''
  w.stdout.on('data', (d) => (out += d))
  await new Promise((r) => w.on('exit', r))
  return /Requests\/sec:\s+(\S+)/.exec(out)?.[1] ?? out
}
console.log('direct backend 1:', await wrk('http://127.0.0.1:19201/'))
const pools = ports.map((p) => new Pool(`http://127.0.0.1:${p}`, { connections: 64, pipelining: 1 }))
let i = 0
const srv = http.createServer((req, res) => {
  const pool = pools[i++ & 1]!
  pool.request({ path: req.url ?? '/', method: 'GET', headers: { 'x-forwarded-for': '127.0.0.1' } }).then(
    async (r) => {
      const body = Buffer.from(await r.body.arrayBuffer())
      res.writeHead(r.statusCode, { 'content-type': 'text/plain', 'content-length': body.length })
      res.end(body)
    },
    () => { res.writeHead(502); res.end() },
  )
})
await new Promise<void>((r) => srv.listen(19200, '127.0.0.1', r))
console.log('minimal undici Pool proxy:', await wrk('http://127.0.0.1:19200/'))
srv.close()
const router = new Router({ routing: RoutingSchema.parse({ listen: 19203, workers: 1, maxInFlightPerInstance: 1024, queueLength: 1024 }), health: HealthSchema.parse({ intervalSeconds: 1, graceSeconds: 0 }) })
await router.start()
router.setInstances(ports.map((port, k) => ({ id: `b${k}`, host: '127.0.0.1', port, state: 'in-service' as const })))
await new Promise((r) => setTimeout(r, 2500))
console.log('tide router, 1 worker in-process:', await wrk('http://127.0.0.1:19203/'))
await router.stop({ graceMs: 0 })
for (const k of kids) k.kill()
process.exit(0)
