// The prometheus source: the answer's shapes (a table over valueOf and a fake API server on
// 127.0.0.1 for the error paths), then a REAL Prometheus scraping a gauge (skipped, with the
// reason, when the prometheus binary is absent).
import { test, after, before, describe } from 'node:test'
import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { readPrometheus, valueOf } from '../../../src/metrics/external/prometheus.ts'
import { SourceError } from '../../../src/metrics/external/http-get.ts'
import { PrometheusSourceSchema } from '../../../src/spec/sources/prometheus.ts'
import { missingBinary } from '../../support/system-binaries.ts'
import { startPrometheus, type TestPrometheus } from '../../support/prometheus.ts'

const shapes: { name: string; data: unknown; want: number | RegExp }[] = [
  { name: 'a scalar', data: { resultType: 'scalar', result: [1700000000, '3.5'] }, want: 3.5 },
  { name: 'a one-series vector', data: { resultType: 'vector', result: [{ metric: {}, value: [1700000000, '42'] }] }, want: 42 },
  { name: 'an empty vector', data: { resultType: 'vector', result: [] }, want: /^empty result/ },
  { name: 'two series', data: { resultType: 'vector', result: [{ value: [1, '1'] }, { value: [1, '2'] }] }, want: /^2 series, expected one/ },
  { name: 'NaN', data: { resultType: 'vector', result: [{ value: [1, 'NaN'] }] }, want: /value NaN, not a finite number/ },
  { name: '+Inf', data: { resultType: 'scalar', result: [1, '+Inf'] }, want: /value \+Inf/ },
  { name: 'a matrix (a range selector)', data: { resultType: 'matrix', result: [] }, want: /result type matrix, expected vector or scalar/ },
  { name: 'no data', data: undefined, want: /result type missing/ },
  { name: 'a sample without a value', data: { resultType: 'vector', result: [{ metric: {} }] }, want: /value missing/ },
]
for (const c of shapes) {
  test(`prometheus answer: ${c.name}`, () => {
    if (typeof c.want === 'number') assert.equal(valueOf(c.data as Parameters<typeof valueOf>[0]), c.want)
    else assert.throws(() => valueOf(c.data as Parameters<typeof valueOf>[0]), (err: unknown) => err instanceof SourceError && (c.want as RegExp).test(err.message))
  })
}

describe('the query API over HTTP (a fake server)', () => {
  let server: Server
  let base = ''
  const seen: string[] = []
  before(async () => {
    server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x')
      seen.push(`${url.pathname}?${url.searchParams.get('query') ?? ''}`)
      const q = url.searchParams.get('query')
      res.writeHead(q === 'bad(' ? 400 : q === 'down' ? 502 : 200, { 'content-type': 'application/json' })
      if (q === 'bad(') res.end(JSON.stringify({ status: 'error', errorType: 'bad_data', error: 'parse error: unexpected end of input' }))
      else if (q === 'down') res.end('<html>Bad Gateway</html>')
      else res.end(JSON.stringify({ status: 'success', data: { resultType: 'vector', result: [{ metric: {}, value: [1, '17'] }] } }))
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  after(() => server.close())

  test('the query goes to {url}/api/v1/query, encoded, under a path prefix', async () => {
    const source = PrometheusSourceSchema.parse({ type: 'prometheus', url: `${base}/prom` })
    assert.equal(await readPrometheus(source, 'sum(rate(x{job="a b"}[1m]))'), 17)
    assert.deepEqual(seen.at(-1), '/prom/api/v1/query?sum(rate(x{job="a b"}[1m]))')
  })
  test('an error status names the error type and message', async () => {
    await assert.rejects(readPrometheus(PrometheusSourceSchema.parse({ type: 'prometheus', url: base }), 'bad('), /^SourceError: query error \(bad_data\): parse error: unexpected end of input$/)
  })
  test('an answer that is not JSON names the status', async () => {
    await assert.rejects(readPrometheus(PrometheusSourceSchema.parse({ type: 'prometheus', url: base }), 'down'), /^SourceError: HTTP 502, not JSON: <html>Bad Gateway<\/html>$/)
  })
})

describe('a real Prometheus', { skip: missingBinary('prometheus') }, () => {
  let prom: TestPrometheus
  before(async () => {
    prom = await startPrometheus()
    prom.setGauge('orders_queue_depth', 120)
    await prom.waitFor('orders_queue_depth', 120)
  }, { timeout: 60_000 })
  after(async () => {
    await prom.stop()
  })

  test('an instant vector query gives the gauge; an aggregate too; a change is seen after the next scrape', async () => {
    const source = PrometheusSourceSchema.parse({ type: 'prometheus', url: prom.url })
    assert.equal(await readPrometheus(source, 'orders_queue_depth'), 120)
    assert.equal(await readPrometheus(source, 'sum(orders_queue_depth) * 2'), 240)
    assert.equal(await readPrometheus(source, 'scalar(orders_queue_depth)'), 120)
    prom.setGauge('orders_queue_depth', 5)
    await prom.waitFor('orders_queue_depth', 5)
    assert.equal(await readPrometheus(source, 'orders_queue_depth'), 5)
  })
  test('a series that does not exist: empty result, no value', async () => {
    await assert.rejects(readPrometheus(PrometheusSourceSchema.parse({ type: 'prometheus', url: prom.url }), 'no_such_metric'), /^SourceError: empty result/)
  })
  test('a bad PromQL expression: the server\'s parse error', async () => {
    await assert.rejects(readPrometheus(PrometheusSourceSchema.parse({ type: 'prometheus', url: prom.url }), 'sum(orders_queue_depth'), /^SourceError: query error \(bad_data\): .*parse error/)
  })
  test('NaN from the server is no value', async () => {
    await assert.rejects(readPrometheus(PrometheusSourceSchema.parse({ type: 'prometheus', url: prom.url }), 'orders_queue_depth * 0 / 0'), /value NaN/)
  })
})
