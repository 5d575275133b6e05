import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { findFreePort } from '../../src/core/free-port.ts'
import { probeHttp, type HttpProbe } from '../../src/core/http-probe.ts'

/** A real server on 127.0.0.1 that answers each request with `handler`. */
async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ server: Server; port: number }> {
  const server = createServer(handler)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { server, port: (server.address() as AddressInfo).port }
}

async function close(server: Server): Promise<void> {
  server.closeAllConnections()
  await new Promise<void>((resolve) => server.close(() => { resolve() }))
}

const twoXx = [200, 299] as const
const twoOrThreeXx = [200, 399] as const

// What each caller keeps: the local provider's readiness accepts 2xx, the router's checks 2xx or 3xx.
const statusCases = [
  { status: 200, accept: twoXx, want: true },
  { status: 204, accept: twoXx, want: true },
  { status: 301, accept: twoXx, want: false },
  { status: 301, accept: twoOrThreeXx, want: true },
  { status: 399, accept: twoOrThreeXx, want: true },
  { status: 404, accept: twoOrThreeXx, want: false },
  { status: 500, accept: twoOrThreeXx, want: false },
  { status: 199, accept: twoOrThreeXx, want: false },
] as const
for (const c of statusCases) {
  test(`probeHttp: ${c.status} with [${c.accept.join(', ')}] accepted → ${c.want}`, async () => {
    const { server, port } = await serve((_req, res) => {
      res.writeHead(c.status, c.status >= 300 && c.status < 400 ? { location: '/elsewhere' } : {}).end('body')
    })
    try {
      assert.equal(await probeHttp({ host: '127.0.0.1', port, path: '/healthz', timeoutMs: 2000, acceptStatus: c.accept, userAgent: 'test' }), c.want)
    } finally {
      await close(server)
    }
  })
}

test('probeHttp sends GET of the path with the given User-Agent on a fresh connection', async () => {
  const seen: { method: string | undefined; url: string | undefined; ua: string | undefined; connection: string | undefined }[] = []
  const { server, port } = await serve((req, res) => {
    seen.push({ method: req.method, url: req.url, ua: req.headers['user-agent'], connection: req.headers.connection })
    res.end('ok')
  })
  try {
    const p: HttpProbe = { host: '127.0.0.1', port, path: '/ready?deep=1', timeoutMs: 2000, acceptStatus: twoXx, userAgent: 'tide-probe-test' }
    assert.equal(await probeHttp(p), true)
    assert.deepEqual(seen, [{ method: 'GET', url: '/ready?deep=1', ua: 'tide-probe-test', connection: 'close' }])
  } finally {
    await close(server)
  }
})

test('probeHttp: a refused connection is false, not a rejection', async () => {
  const port = await findFreePort('127.0.0.1')
  assert.equal(await probeHttp({ host: '127.0.0.1', port, path: '/', timeoutMs: 2000, acceptStatus: twoXx, userAgent: 'test' }), false)
})

test('probeHttp: no answer within timeoutMs is false, and the probe gives up at the timeout', async () => {
  const { server, port } = await serve(() => {
    // never answers
  })
  try {
    const started = performance.now()
    assert.equal(await probeHttp({ host: '127.0.0.1', port, path: '/', timeoutMs: 150, acceptStatus: twoXx, userAgent: 'test' }), false)
    const ms = performance.now() - started
    assert.ok(ms >= 140 && ms < 2000, `gave up after ${ms} ms`)
  } finally {
    await close(server)
  }
})

test('probeHttp: a 200 whose body never ends within timeoutMs is false (the body is read to its end)', async () => {
  const { server, port } = await serve((_req, res) => {
    res.writeHead(200)
    res.write('partial')
  })
  try {
    assert.equal(await probeHttp({ host: '127.0.0.1', port, path: '/', timeoutMs: 150, acceptStatus: twoXx, userAgent: 'test' }), false)
  } finally {
    await close(server)
  }
})
