/**
 * The external sources tide can read, alphabetical, as KEDA's scaler list: a metric
 * `{ type: external, query, source }` names one. Adding a source: a schema file here, a reader
 * in src/metrics/external/ (registered in its index.ts), a test for each, and a row in
 * docs/config.md (CONTRIBUTING.md, "Add an external source").
 */
import { z } from 'zod'
import { HttpJsonSourceSchema } from './http-json.ts'
import { PrometheusSourceSchema } from './prometheus.ts'

/**
 * Every source type's schema, keyed by `type`, alphabetical. Required on every external metric:
 * a metric nothing produces would have no value for ever, and a metric without a value blocks
 * scale-in; the message for a missing source says so (src/spec/load.ts prints a schema's own
 * message for a missing field).
 */
export const ExternalSourceSchema = z.discriminatedUnion('type', [HttpJsonSourceSchema, PrometheusSourceSchema], {
  error: (issue) =>
    issue.input === undefined
      ? 'an external metric needs a source: { type: prometheus, url: … } or { type: http-json, url: … } (without one it never has a value and blocks scale-in for ever)'
      : undefined,
})

/** A validated source of an external metric. */
export type ExternalSource = z.infer<typeof ExternalSourceSchema>

/** The source types, for messages (`tide validate`, errors). */
export const EXTERNAL_SOURCE_TYPES: readonly ExternalSource['type'][] = ['http-json', 'prometheus']

/**
 * What to do once a source has failed `failureThreshold` times in a row (KEDA's `fallback`):
 * propose `replicas` instances for this metric until it answers again. Without it a failing
 * source only holds: no value, so no scale-in (the HPA's rule for a missing metric).
 */
export const ExternalFallbackSchema = z.strictObject({
  failureThreshold: z.number().int().positive().max(1_000).default(3),
  replicas: z.number().int().nonnegative().max(10_000),
})

/** A validated fallback. */
export type ExternalFallback = z.infer<typeof ExternalFallbackSchema>

/** A short description of a source for `tide validate` and explanations: `prometheus http://127.0.0.1:9090`. */
export function describeSource(source: ExternalSource): string {
  return `${source.type} ${source.url}`
}
