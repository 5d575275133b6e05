/**
 * The `http-json` source: GETs a URL and reads the number at the metric's query, a JSON path
 * (`$.queue.depth`), as KEDA's metrics-api scaler does. A 2xx answer whose value at the path
 * is a finite number (or a string holding one) is the value; anything else is a failure.
 * Configuration and the path syntax: src/spec/sources/http-json.ts.
 */
import { parseJsonPath, type HttpJsonSource, type JsonPathStep } from '../../spec/sources/http-json.ts'
import { SOURCE_MAX_BYTES } from '../../spec/sources/common.ts'
import { getBounded, snippet, SourceError } from './http-get.ts'

/** The number at `path` in the JSON that `source.url` answers; SourceError when there is none. */
export async function readHttpJson(source: HttpJsonSource, path: string): Promise<number> {
  const parsedPath = parseJsonPath(path)
  if ('error' in parsedPath) throw new SourceError(parsedPath.error) // validation refuses it first
  const answer = await getBounded(new URL(source.url), { timeoutMs: source.timeoutSeconds * 1000, maxBytes: SOURCE_MAX_BYTES, headers: { accept: 'application/json' } })
  if (answer.status < 200 || answer.status > 299) throw new SourceError(`HTTP ${answer.status}`)
  let doc: unknown
  try {
    doc = JSON.parse(answer.body)
  } catch {
    throw new SourceError(`not JSON: ${snippet(answer.body)}`)
  }
  return numberAt(doc, parsedPath.steps, path)
}

/**
 * The finite number at `steps` in `doc`. A string is accepted when it is a number in full
 * ("42", "1.5e3"), as many exporters quote them. Exported for its table test.
 */
export function numberAt(doc: unknown, steps: readonly JsonPathStep[], path: string): number {
  let at: unknown = doc
  for (const step of steps) {
    if (typeof step === 'number') at = Array.isArray(at) ? at[step] : undefined
    else at = at !== null && typeof at === 'object' && !Array.isArray(at) && Object.hasOwn(at, step) ? (at as Record<string, unknown>)[step] : undefined
    if (at === undefined) throw new SourceError(`${path}: not found`)
  }
  const value = typeof at === 'number' ? at : typeof at === 'string' && at.trim() !== '' ? Number(at) : Number.NaN
  if (!Number.isFinite(value)) throw new SourceError(`${path}: ${JSON.stringify(at).slice(0, 40)} is not a number`)
  return value
}
