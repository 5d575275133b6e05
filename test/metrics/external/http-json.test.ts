// The http-json source against a real node:http server on 127.0.0.1.
import { test, after, before } from 'node:test'
import assert from 'node:assert/strict'
import { createServer, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { numberAt, readHttpJson } from '../../../src/metrics/external/http-json.ts'
import { SourceError } from '../../../src/metrics/external/http-get.ts'
import { HttpJsonSourceSchema } from '../../../src/spec/sources/http-json.ts'

/** What each path of the test server answers. */
const routes: Record<string, (res: ServerResponse) => void> = {
  '/stats': (res) => { json(res, 200, { queue: { depth: 42, name: 'orders' }, queues: [{ depth: 7 }], quoted: '12.5', nothing: null, 'a b': 3 }); },
  '/down': (res) => { json(res, 503, { queue: { depth: 1 } }); },
  '/html': (res) => {
    res.writeHead(200, { 'content-type': 'text/html' })
    res.end('<html><body>gateway login</body></html>')
  },
  '/huge': (res) => {
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end(`{"pad":"${'x'.repeat(1024 * 1024 + 10)}","n":1}`)
  },
  '/slow': () => {
    // never answers: the source's timeout must end the request
  },
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' })
  res.end(JSON.stringify(body))
}

let server: Server
let base = ''
before(async () => {
  server = createServer((req, res) => { (routes[req.url ?? ''] ?? ((r: ServerResponse) => { json(r, 404, {}); }))(res); })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
after(() => {
  server.closeAllConnections()
  server.close()
})

const source = (path: string, timeoutSeconds = 2) => HttpJsonSourceSchema.parse({ type: 'http-json', url: `${base}${path}`, timeoutSeconds })

const reads: { name: string; path: string; query: string; want: number | RegExp }[] = [
  { name: 'a nested number', path: '/stats', query: '$.queue.depth', want: 42 },
  { name: 'a dotted path without $', path: '/stats', query: 'queue.depth', want: 42 },
  { name: 'an array element', path: '/stats', query: '$.queues[0].depth', want: 7 },
  { name: 'a quoted member', path: '/stats', query: "$['a b']", want: 3 },
  { name: 'a number in a string', path: '/stats', query: '$.quoted', want: 12.5 },
  { name: 'a missing member', path: '/stats', query: '$.queue.size', want: /^\$\.queue\.size: not found$/ },
  { name: 'an index past the end', path: '/stats', query: '$.queues[3].depth', want: /not found/ },
  { name: 'null', path: '/stats', query: '$.nothing', want: /null is not a number/ },
  { name: 'a string that is no number', path: '/stats', query: '$.queue.name', want: /"orders" is not a number/ },
  { name: 'an object', path: '/stats', query: '$.queue', want: /is not a number/ },
  { name: 'an error status', path: '/down', query: '$.queue.depth', want: /^HTTP 503$/ },
  { name: 'a 404', path: '/nope', query: '$.a', want: /^HTTP 404$/ },
  { name: 'a body that is not JSON', path: '/html', query: '$.a', want: /^not JSON: <html><body>gateway login/ },
  { name: 'a body over 1 MiB', path: '/huge', query: '$.n', want: /^answer larger than 1048576 bytes$/ },
]
for (const c of reads) {
  test(`http-json reads ${c.name}`, async () => {
    const read = readHttpJson(source(c.path), c.query)
    if (typeof c.want === 'number') assert.equal(await read, c.want)
    else await assert.rejects(read, (err: unknown) => err instanceof SourceError && (c.want as RegExp).test(err.message))
  })
}

test('http-json: a server that never answers fails at the timeout, not later', async () => {
  const started = performance.now()
  await assert.rejects(readHttpJson(source('/slow', 0.3), '$.a'), /^SourceError: timeout after 0\.3 s$/)
  const took = performance.now() - started
  assert.ok(took >= 250 && took < 5000, `took ${Math.round(took)} ms`)
})

test('http-json: nothing listening is a failure naming the cause', async () => {
  const closed = createServer()
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve))
  const port = (closed.address() as AddressInfo).port
  await new Promise<void>((resolve) => closed.close(() => { resolve(); }))
  await assert.rejects(readHttpJson(HttpJsonSourceSchema.parse({ type: 'http-json', url: `http://127.0.0.1:${port}/` }), '$.a'), /ECONNREFUSED/)
})

test('numberAt walks members and indexes and never reads inherited properties', () => {
  assert.equal(numberAt({ a: [{ b: 1 }, { b: 2 }] }, ['a', 1, 'b'], '$.a[1].b'), 2)
  assert.throws(() => numberAt({}, ['constructor'], '$.constructor'), /not found/)
  assert.throws(() => numberAt([1], ['length'], '$.length'), /not found/)
  assert.throws(() => numberAt({ a: 1 }, [0], '$[0]'), /not found/)
  assert.throws(() => numberAt({ a: '' }, ['a'], '$.a'), /"" is not a number/)
})
