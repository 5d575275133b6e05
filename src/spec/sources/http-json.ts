/**
 * The `http-json` external source's configuration: a URL answering JSON, and the metric's
 * `query` is the JSON path of the number in it (`$.queue.depth`, `queue.depth`,
 * `queues[0].depth`). Pure: the reader is src/metrics/external/http-json.ts; the path's
 * syntax is checked here so that a bad path is a config error at its line, not a failure
 * every sync period.
 *
 *   source: { type: http-json, url: http://127.0.0.1:8080/stats, timeoutSeconds: 5 }
 */
import { z } from 'zod'
import { sourceTimeoutSeconds, sourceUrl } from './common.ts'

/** Any URL answering a JSON document with a GET. */
export const HttpJsonSourceSchema = z.strictObject({
  type: z.literal('http-json'),
  url: sourceUrl,
  timeoutSeconds: sourceTimeoutSeconds,
})

/** A validated http-json source. */
export type HttpJsonSource = z.infer<typeof HttpJsonSourceSchema>

/** One step of a JSON path: a member name or an array index. */
export type JsonPathStep = string | number

/**
 * Parses a JSON path of members and indexes: an optional leading `$`, then `.name`,
 * `['name']` / `["name"]` or `[index]` steps; a path without `$` starts with a bare name
 * (`queue.depth`). Returns the steps, or a message saying what is wrong (filters,
 * wildcards and recursive descent are not supported: one path names one number).
 */
export function parseJsonPath(path: string): { readonly steps: readonly JsonPathStep[] } | { readonly error: string } {
  let rest = path.trim()
  if (rest === '') return { error: 'the JSON path is empty' }
  const steps: JsonPathStep[] = []
  if (rest.startsWith('$')) rest = rest.slice(1)
  else rest = `.${rest}`
  while (rest !== '') {
    const step = firstStep(rest)
    if (step === undefined) return { error: `cannot read the JSON path at "${rest}" (use $.a.b, a.b, a[0] or a['b c'])` }
    steps.push(step.step)
    rest = rest.slice(step.length)
  }
  if (steps.length === 0) return { error: 'the JSON path names no member (write $.name)' }
  return { steps }
}

/** The first step of a path's rest (`.name`, `[0]`, `['name']`) and its length in characters. */
function firstStep(rest: string): { step: JsonPathStep; length: number } | undefined {
  const member = /^\.([A-Za-z_$][\w$-]*)/.exec(rest)
  if (member?.[1] !== undefined) return { step: member[1], length: member[0].length }
  const index = /^\[(\d+)\]/.exec(rest)
  if (index?.[1] !== undefined) return { step: Number(index[1]), length: index[0].length }
  const quoted = /^\[(?:'([^']*)'|"([^"]*)")\]/.exec(rest)
  if (quoted) return { step: quoted[1] ?? quoted[2] ?? '', length: quoted[0].length }
  return undefined
}
