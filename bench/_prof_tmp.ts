import { spawn, spawnSync } from 'node:child_process'
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
const ports = [19101, 19102]
const kids = ports.map((p) => spawn(process.execPath, ['-e', BACKEND, String(p)], { stdio: 'ignore' }))
await new Promise((r) => setTimeout(r, 500))
const router = new Router({ routing: RoutingSchema.parse({ listen: 19100, workers: 1, maxInFlightPerInstance: 1024, queueLength: 1024 }), health: HealthSchema.parse({ intervalSeconds: 1, graceSeconds: 0 }) })
await router.start()
router.setInstances(ports.map((port, i) => ({ id: `b${i}`, host: '127.0.0.1', port, state: 'in-service' as const })))
await new Promise((r) => setTimeout(r, 2500))
const wrk = spawn('wrk', ['-t1', '-c64', '-d6s', 'http://127.0.0.1:19100/'], { stdio: ['ignore', 'pipe', 'inherit'] })
let out = ''
wrk.stdout.on('data', (d) => (out += d))
await new Promise((r) => wrk.on('exit', r))
console.log(out)
await router.stop({ graceMs: 0 })
for (const k of kids) k.kill()
process.exit(0)
