/**
 * The one way tide reads YAML (tide.yaml, HPA manifests): the `yaml` library with limits that
 * keep hostile input bounded in time and memory, so that every reader gets the same guards:
 *
 * - size: at most MAX_YAML_BYTES of text (a tide.yaml is a few KiB; an HPA manifest less) and
 *   MAX_YAML_DOCUMENTS documents;
 * - aliases: at most MAX_YAML_ALIASES alias expansions per document (the "billion laughs"
 *   bomb expands a few lines into gigabytes; the library's own check throws an untyped
 *   ReferenceError, which is caught here and turned into a message);
 * - nesting: at most MAX_YAML_DEPTH levels (the library turns a stack overflow into a document
 *   error; a depth beyond any real config is refused before anything walks it);
 * - duplicate keys: found in one pass with a Set per mapping. The library's own `uniqueKeys`
 *   compares each key with every earlier one, which is quadratic: 100k keys in one mapping took
 *   over a minute.
 *
 * Problems come back as offsets into the text with a message, for the caller to place at a
 * line and wrap in its own error (ConfigError, HpaImportError).
 */
import { LineCounter, isAlias, isMap, isScalar, isSeq, parseAllDocuments, type Document, type YAMLMap } from 'yaml'

/** Largest YAML text tide parses, in bytes (UTF-16 code units, as JavaScript counts): 1 MiB. */
export const MAX_YAML_BYTES = 1024 * 1024
/** Alias expansions allowed per document (the yaml library's maxAliasCount). */
export const MAX_YAML_ALIASES = 100
/** Deepest nesting of mappings and sequences allowed. tide.yaml needs about 8. */
export const MAX_YAML_DEPTH = 64
/** Documents (`---` or `...` markers) allowed in one text: one per group and the global one. */
export const MAX_YAML_DOCUMENTS = 1000

/** One problem in YAML text: where (an offset into the text) and what. */
export interface YamlProblem {
  readonly offset: number
  readonly message: string
}

/** Parsed YAML: the documents and the line counter that places their offsets. */
export interface ParsedYaml {
  readonly documents: readonly Document.Parsed[]
  readonly lineCounter: LineCounter
}

/**
 * Why `text` is too large to parse (naming the limit), or undefined when it is not: more than
 * MAX_YAML_BYTES, or more than MAX_YAML_DOCUMENTS document markers (200 000 empty documents
 * in 800 KB took the library seconds), counted in one pass before anything is parsed.
 */
export function yamlSizeProblem(text: string): string | undefined {
  if (text.length > MAX_YAML_BYTES) return `the YAML is ${text.length} bytes, more than the ${MAX_YAML_BYTES} bytes (1 MiB) tide reads`
  const marker = /^(?:---|\.\.\.)/gm
  let markers = 0
  while (marker.exec(text) !== null) {
    if (++markers > MAX_YAML_DOCUMENTS) return `the YAML has more than ${MAX_YAML_DOCUMENTS} documents ("---" or "..." lines)`
  }
  return undefined
}

/**
 * Parses every document of `text` without the library's quadratic duplicate-key check (see
 * the module comment; yamlProblems does it linearly). The caller checks the size first.
 */
export function parseYaml(text: string): ParsedYaml {
  const lineCounter = new LineCounter()
  const documents = parseAllDocuments(text, { lineCounter, prettyErrors: false, uniqueKeys: false, merge: true, logLevel: 'error' })
  return { documents: Array.isArray(documents) ? documents : [documents], lineCounter }
}

/**
 * Every problem of one parsed document, in text order: its syntax errors and warnings (a
 * stack overflow named as too deep a nesting), nesting deeper than MAX_YAML_DEPTH, and
 * duplicate keys. Linear in the document's nodes. An empty list means it can be turned into
 * values with yamlValue.
 */
export function yamlProblems(doc: Document.Parsed): YamlProblem[] {
  const syntax = [...doc.errors, ...doc.warnings].map((e) => ({
    offset: e.pos[0],
    message: /call stack/i.test(e.message) ? `nesting too deep (at most ${MAX_YAML_DEPTH} levels)` : e.message,
  }))
  if (syntax.length > 0) return syntax
  return structureProblems(doc.contents)
}

/** Depth and duplicate keys, walking the node tree with an explicit stack (no recursion to overflow). */
function structureProblems(root: unknown): YamlProblem[] {
  const problems: YamlProblem[] = []
  const stack: { node: unknown; depth: number }[] = [{ node: root, depth: 0 }]
  while (stack.length > 0) {
    const top = stack.pop()
    if (top === undefined) break
    const { node, depth } = top
    if (!isMap(node) && !isSeq(node)) continue
    if (depth >= MAX_YAML_DEPTH) {
      problems.push({ offset: node.range?.[0] ?? 0, message: `nesting too deep (at most ${MAX_YAML_DEPTH} levels)` })
      continue
    }
    if (isSeq(node)) for (const item of node.items) stack.push({ node: item, depth: depth + 1 })
    else for (const value of mapValues(node, problems)) stack.push({ node: value, depth: depth + 1 })
  }
  return problems.sort((a, b) => a.offset - b.offset)
}

/** A mapping's values, adding a problem for each key seen before in it (a Set: linear). */
function mapValues(node: YAMLMap, problems: YamlProblem[]): unknown[] {
  const values: unknown[] = []
  const seen = new Set<string>()
  for (const pair of node.items) {
    const key = keyText(pair.key)
    if (key !== undefined) {
      if (seen.has(key)) {
        const at = (pair.key as { range?: [number, number, number] } | null)?.range?.[0] ?? node.range?.[0] ?? 0
        problems.push({ offset: at, message: `Map keys must be unique: "${clip(key)}" is repeated` })
      }
      seen.add(key)
    }
    values.push(pair.value)
  }
  return values
}

/** A scalar key's identity (its type and value, so `1` and `"1"` differ as the library has it); undefined for other keys. */
function keyText(key: unknown): string | undefined {
  if (isScalar(key)) return `${typeof key.value}:${String(key.value)}`
  if (isAlias(key)) return `*${key.source}`
  return undefined
}

function clip(s: string): string {
  const text = s.slice(s.indexOf(':') + 1)
  return text.length > 40 ? `${text.slice(0, 37)}...` : text
}

/**
 * The document as plain values, expanding at most MAX_YAML_ALIASES aliases: `{ value }`, or
 * `{ problem }` naming the alias bomb (or any other failure of the conversion) at the
 * document's start. Call it only when yamlProblems found nothing.
 */
export function yamlValue(doc: Document.Parsed): { readonly value: unknown } | { readonly problem: YamlProblem } {
  try {
    return { value: doc.toJS({ maxAliasCount: MAX_YAML_ALIASES }) }
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err)
    const offset = doc.contents?.range[0] ?? doc.range[0]
    if (/excessive alias count/i.test(message)) {
      return { problem: { offset, message: `too many aliases: their expansions exceed ${MAX_YAML_ALIASES} (an alias bomb?)` } }
    }
    return { problem: { offset, message } }
  }
}
