/**
 * The readers of the external sources, alphabetical, keyed by the source's `type` (as KEDA's
 * buildScaler switch): each turns its configuration and the metric's query into one number,
 * or rejects with a SourceError. Their configuration schemas are in src/spec/sources/.
 */
import type { ExternalSource } from '../../spec/sources/index.ts'
import { readHttpJson } from './http-json.ts'
import { readPrometheus } from './prometheus.ts'

/** Reads one external query from its source: a finite number, or a rejection (SourceError). */
export type ExternalReader = (source: ExternalSource, query: string) => Promise<number>

/** The reader of every source type, alphabetical. */
const readers: { readonly [T in ExternalSource['type']]: (source: Extract<ExternalSource, { type: T }>, query: string) => Promise<number> } = {
  'http-json': readHttpJson,
  prometheus: readPrometheus,
}

/** Reads `query` from `source` with the reader of its type. */
export const readExternal: ExternalReader = (source, query) => {
  switch (source.type) {
    case 'http-json':
      return readers['http-json'](source, query)
    case 'prometheus':
      return readers.prometheus(source, query)
  }
}
