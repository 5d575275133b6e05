/**
 * The `prometheus` source: evaluates a metric's PromQL query as an instant query on a
 * Prometheus server's HTTP API (`GET {url}/api/v1/query?query=…`), as KEDA's prometheus
 * scaler does. One number or a failure: a `scalar`, or a `vector` of exactly one series.
 * An empty vector (the series does not exist yet, or a filter matched nothing), several
 * series, NaN/±Inf, an HTTP error or `"status": "error"` give no value: a value of 0 for a
 * query that matched nothing could scale a group in on a typo.
 * Configuration: src/spec/sources/prometheus.ts.
 */
import type { PrometheusSource } from '../../spec/sources/prometheus.ts'
import { SOURCE_MAX_BYTES } from '../../spec/sources/common.ts'
import { getBounded, snippet, SourceError } from './http-get.ts'

/** The query API's answer, as much of it as tide reads. */
interface QueryAnswer {
  status?: unknown
  error?: unknown
  errorType?: unknown
  data?: { resultType?: unknown; result?: unknown }
}

/**
 * The value of `query` now, by the server's clock. Rejects with SourceError (a short reason)
 * when there is no single finite number.
 */
export async function readPrometheus(source: PrometheusSource, query: string): Promise<number> {
  const base = source.url.endsWith('/') ? source.url : `${source.url}/`
  const url = new URL('api/v1/query', base)
  url.searchParams.set('query', query)
  const answer = await getBounded(url, { timeoutMs: source.timeoutSeconds * 1000, maxBytes: SOURCE_MAX_BYTES, headers: { accept: 'application/json' } })
  let parsed: QueryAnswer
  try {
    parsed = JSON.parse(answer.body) as QueryAnswer
  } catch {
    throw new SourceError(`HTTP ${answer.status}, not JSON: ${snippet(answer.body)}`)
  }
  if (parsed.status !== 'success') {
    const why = typeof parsed.error === 'string' ? parsed.error : `HTTP ${answer.status}`
    throw new SourceError(`query error${typeof parsed.errorType === 'string' ? ` (${parsed.errorType})` : ''}: ${snippet(why)}`)
  }
  return valueOf(parsed.data)
}

/**
 * The one number of a query's `data`: a scalar `[time, "value"]`, or a vector with exactly one
 * sample `[{ metric, value: [time, "value"] }]`. Exported for its table test.
 */
export function valueOf(data: QueryAnswer['data']): number {
  const type = data?.resultType
  const result: unknown = data?.result
  let sample: unknown
  if (type === 'scalar') sample = result
  else if (type === 'vector' && Array.isArray(result)) {
    if (result.length === 0) throw new SourceError('empty result (no series matched)')
    if (result.length > 1) throw new SourceError(`${result.length} series, expected one (aggregate with sum, max, …)`)
    sample = (result[0] as { value?: unknown } | undefined)?.value
  } else throw new SourceError(`result type ${typeof type === 'string' ? type : 'missing'}, expected vector or scalar`)
  const text: unknown = Array.isArray(sample) ? sample[1] : undefined
  const value = typeof text === 'string' ? Number(text) : Number.NaN
  if (!Number.isFinite(value)) throw new SourceError(`value ${typeof text === 'string' ? text : 'missing'}, not a finite number`)
  return value
}
