/**
 * The `prometheus` external source's configuration: the server whose HTTP API evaluates the
 * metric's `query` (PromQL) as an instant query, `GET {url}/api/v1/query?query=…`. Pure:
 * the reader is src/metrics/external/prometheus.ts.
 *
 *   source: { type: prometheus, url: http://127.0.0.1:9090, timeoutSeconds: 5 }
 */
import { z } from 'zod'
import { sourceTimeoutSeconds, sourceUrl } from './common.ts'

/** A Prometheus server (or anything serving its query API: Thanos, Mimir, VictoriaMetrics). */
export const PrometheusSourceSchema = z.strictObject({
  type: z.literal('prometheus'),
  /** The server's base URL; a path prefix (a server behind a proxy at /prometheus) is kept. */
  url: sourceUrl,
  timeoutSeconds: sourceTimeoutSeconds,
})

/** A validated prometheus source. */
export type PrometheusSource = z.infer<typeof PrometheusSourceSchema>
