/**
 * Reads tide.yaml: YAML with several documents, one per group (a document with `group:`)
 * plus at most one global document (quotas, store, api). Every document is validated
 * with the zod schemas in schema.ts, then the rules the schema cannot express alone are
 * checked across fields and documents (crossChecks below). Every problem is reported at
 * once, each at its place in the file (`file:line:col: field.path: message`), in one
 * ConfigError. Nothing is half-applied: the result is a whole valid config or an error.
 */
import { dirname, resolve as resolvePath } from 'node:path'
import { isMap, isScalar, isSeq, type Document, type LineCounter, type YAMLMap } from 'yaml'
import type { z } from 'zod'
import { didYouMean } from '../errors.ts'
import { readRegularFile } from '../core/input-file.ts'
import { ConfigError, MAX_LISTED_ISSUES, type ConfigIssue } from './errors.ts'
import { GlobalSchema, GroupSchema, type GlobalSpec, type GroupSpec, type TideConfig } from './schema.ts'
import { parseJsonPath } from './sources/http-json.ts'
import type { ExternalSource } from './sources/index.ts'
import { Cron } from 'croner'
import { MAX_YAML_BYTES, parseYaml, yamlProblems, yamlSizeProblem, yamlValue } from './safe-yaml.ts'

/** A path into a document, as zod reports it: keys and sequence indexes. */
export type FieldPath = readonly PropertyKey[]

/** The keys that make a document without `group:` the global one. */
const GLOBAL_KEYS = ['quotas', 'store', 'api'] as const

/**
 * One YAML document of the file with a way to find where a field sits in it. Handed to
 * the cross-document checks so that they report at the right line too.
 */
export interface SourceDocument {
  /** 1-based line of the document's first content. */
  readonly line: number
  /** An issue at `path`. With `atKey`, at the key itself (unknown fields) rather than its value. */
  issue(path: FieldPath, message: string, atKey?: boolean): ConfigIssue
}

/** A valid group document and where it came from. */
export interface LoadedGroup {
  readonly spec: GroupSpec
  readonly source: SourceDocument
}

/**
 * Parses and validates the text of a tide.yaml. `fileName` is used only in messages.
 * Throws ConfigError (TIDE_ERR_CONFIG) listing every issue; returns the groups in file
 * order and the global settings (defaults when there is no global document).
 */
export function parseConfig(text: string, fileName: string): TideConfig {
  const tooBig = yamlSizeProblem(text)
  if (tooBig !== undefined) throw new ConfigError([{ file: fileName, path: '', message: tooBig }])
  const { documents, lineCounter } = parseYaml(text)
  const state: LoadState = { issues: [], groups: [], global: undefined, groupLines: new Map() }
  for (const doc of documents) {
    const source = sourceDocument(doc, fileName, lineCounter)
    const value = documentValue(doc, source, fileName, lineCounter, state.issues)
    if (value === undefined) continue
    if ('group' in value) addGroup(value, source, state)
    else if (GLOBAL_KEYS.some((k) => k in value)) addGlobal(value, source, state)
    else {
      const keys = Object.keys(value)
      const found = keys.length === 0 ? 'it is empty' : `found ${keys.slice(0, 5).join(', ')}`
      state.issues.push(source.issue([], `a document needs "group:" (a group) or quotas/store/api (the global settings); ${found}`))
    }
  }
  const { issues, groups, global } = state
  if (issues.length === 0 && groups.length === 0) {
    issues.push({ file: fileName, path: '', message: 'no group documents found (a group starts with "group: NAME")' })
  }
  if (issues.length === 0) issues.push(...crossChecks(groups, global))
  if (issues.length > 0) throw new ConfigError(issues)
  return { groups: groups.map((g) => g.spec), global: global?.spec ?? GlobalSchema.parse({}) }
}

/**
 * Validates a config given as plain values rather than YAML text (a group spec sent to the API,
 * beside the groups in force): each group and the global settings through the same schemas and
 * the same checks, per document and across documents, as parseConfig. Issues carry the field
 * path and no line (`file` is `where(i)` for the i-th group, `globalName` for the global
 * settings). Throws ConfigError listing every issue; returns the whole, defaulted config.
 */
export function validateConfigValues(groups: readonly unknown[], global: unknown, where: (index: number) => string, globalName = 'global settings'): TideConfig {
  const state: LoadState = { issues: [], groups: [], global: undefined, groupLines: new Map() }
  for (const [i, value] of groups.entries()) {
    const source = plainSource(where(i), i + 1)
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      state.issues.push(source.issue([], `a group must be an object of fields, found ${Array.isArray(value) ? 'a list' : value === null ? 'null' : typeof value}`))
      continue
    }
    addGroup(value as Record<string, unknown>, source, state)
  }
  if (global !== undefined) addGlobal(global as Record<string, unknown>, plainSource(globalName, 0), state)
  const { issues } = state
  if (issues.length === 0) issues.push(...crossChecks(state.groups, state.global))
  if (issues.length > 0) throw new ConfigError(issues)
  return { groups: state.groups.map((g) => g.spec), global: state.global?.spec ?? GlobalSchema.parse({}) }
}

/** A document with no text behind it: issues name the field, not a line. `line` orders it in messages ("already defined at …"). */
function plainSource(file: string, line: number): SourceDocument {
  return { line, issue: (path, message) => ({ file, path: formatFieldPath(path), message }) }
}

/** What parseConfig gathers while it walks the documents. */
interface LoadState {
  readonly issues: ConfigIssue[]
  readonly groups: LoadedGroup[]
  global: { spec: GlobalSpec; source: SourceDocument } | undefined
  /** Group name → line of its first document, for duplicate names (also of invalid groups). */
  readonly groupLines: Map<string, number>
}

/**
 * The document as a plain mapping, or undefined when it is empty or unusable (its
 * syntax errors, alias bombs and non-mapping contents are added to `issues`).
 */
function documentValue(doc: Document.Parsed, source: SourceDocument, fileName: string, lineCounter: LineCounter, issues: ConfigIssue[]): Record<string, unknown> | undefined {
  const problems = yamlProblems(doc)
  const converted = problems.length === 0 ? yamlValue(doc) : undefined
  if (converted !== undefined && 'problem' in converted) problems.push(converted.problem)
  for (const p of problems) {
    const pos = lineCounter.linePos(p.offset)
    issues.push({ file: fileName, line: pos.line, col: pos.col, path: '', message: `YAML: ${p.message}` })
  }
  if (converted === undefined || !('value' in converted)) return undefined
  const value = converted.value
  if (value === null || value === undefined) return undefined // an empty document, e.g. after a trailing `---`
  if (typeof value !== 'object' || Array.isArray(value)) {
    issues.push(source.issue([], `a document must be a mapping of fields, found ${Array.isArray(value) ? 'a list' : 'a scalar'}`))
    return undefined
  }
  return value as Record<string, unknown>
}

function addGroup(value: Record<string, unknown>, source: SourceDocument, state: LoadState): void {
  const r = GroupSchema.safeParse(value)
  if (r.success) {
    state.groups.push({ spec: r.data, source })
    state.issues.push(...groupChecks({ spec: r.data, source }))
  } else state.issues.push(...zodIssues(r.error.issues, GroupSchema, value, source))
  const name = value.group
  if (typeof name !== 'string') return
  const earlier = state.groupLines.get(name)
  if (earlier === undefined) state.groupLines.set(name, source.line)
  else state.issues.push(source.issue(['group'], `group "${name}" is already defined at line ${earlier}`))
}

function addGlobal(value: Record<string, unknown>, source: SourceDocument, state: LoadState): void {
  if (state.global !== undefined) {
    state.issues.push(source.issue([], `a second global document (quotas/store/api); the first is at line ${state.global.source.line} — merge them`))
    return
  }
  const r = GlobalSchema.safeParse(value)
  if (r.success) state.global = { spec: r.data, source }
  else state.issues.push(...zodIssues(r.error.issues, GlobalSchema, value, source))
}

/**
 * Reads and parses a tide.yaml file: FileError when unreadable or not a regular file (a FIFO
 * or a device would block or never end), ConfigError when invalid or larger than MAX_YAML_BYTES.
 */
export function loadConfig(path: string): TideConfig {
  const text = readRegularFile(path, MAX_YAML_BYTES)
  return resolveConfigPaths(parseConfig(text, path), dirname(resolvePath(path)))
}

/**
 * Makes the paths a config names independent of the shell it is run from: relative ones resolve
 * against `baseDir`, the config file's folder. Resolved: `store.path` (except `:memory:`) and each group's `launch.cwd`, which is
 * the config's folder when absent. Not touched: the arguments of `launch.command` and
 * `lifecycle.backup.command` and the values of `launch.env`, which tide cannot tell from
 * words: they are the program's to read, and it runs in `launch.cwd` (the backup command
 * too). A program with a slash (`./run.sh`, `bin/server`) is therefore found from
 * `launch.cwd`; one without is looked up on PATH.
 */
export function resolveConfigPaths(config: TideConfig, baseDir: string): TideConfig {
  const store = config.global.store
  return {
    global: { ...config.global, store: { ...store, path: store.path === ':memory:' ? store.path : resolvePath(baseDir, store.path) } },
    groups: config.groups.map((g) => (g.launch === undefined ? g : { ...g, launch: { ...g.launch, cwd: resolvePath(baseDir, g.launch.cwd ?? '.') } })),
  }
}

/** Renders a path as `metrics[0].target.valueMs`. */
export function formatFieldPath(path: FieldPath): string {
  let out = ''
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`
    else out += out === '' ? String(seg) : `.${String(seg)}`
  }
  return out
}

type YamlNode = { range?: [number, number, number] | null } | null | undefined

function sourceDocument(doc: Document.Parsed, file: string, lineCounter: LineCounter): SourceDocument {
  const offsetOf = (node: YamlNode): number | undefined => node?.range?.[0]
  const startOffset = offsetOf(doc.contents) ?? doc.range[0]
  const at = (offset: number): { line: number; col: number } => lineCounter.linePos(offset)
  return {
    line: at(startOffset).line,
    issue(path, message, atKey = false) {
      const offset = locate(doc, path, atKey) ?? startOffset
      const pos = at(offset)
      return { file, line: pos.line, col: pos.col, path: formatFieldPath(path), message }
    },
  }
}

/**
 * The source offset for `path`: its value node (or its key with `atKey`). When the path
 * does not exist (a missing field), the deepest existing ancestor's key, so that the
 * error points at `target:` for a missing `target.valueMs`.
 */
function locate(doc: Document.Parsed, path: FieldPath, atKey: boolean): number | undefined {
  let node: unknown = doc.contents
  let keyOffset: number | undefined
  let offset = (node as YamlNode)?.range?.[0]
  for (const [i, seg] of path.entries()) {
    const last = i === path.length - 1
    if (isMap(node)) {
      const pair = pairsByKey(node).get(String(seg))
      if (pair === undefined) return keyOffset ?? offset
      keyOffset = (pair.key as YamlNode)?.range?.[0]
      if (last && atKey) return keyOffset
      node = pair.value
      offset = (node as YamlNode)?.range?.[0] ?? keyOffset
    } else if (isSeq(node) && typeof seg === 'number') {
      const item: unknown = node.items[seg]
      if (item === undefined) return keyOffset ?? offset
      node = item
      keyOffset = (node as YamlNode)?.range?.[0]
      offset = keyOffset
    } else {
      return keyOffset ?? offset
    }
  }
  return offset
}

type MapPair = YAMLMap['items'][number]
const keyIndexes = new WeakMap<YAMLMap, Map<string, MapPair>>()

/**
 * A mapping's pairs by key text (the first of duplicates), built once per mapping: locating
 * each of many issues in one large mapping by a scan of its items was quadratic.
 */
function pairsByKey(node: YAMLMap): Map<string, MapPair> {
  let index = keyIndexes.get(node)
  if (index === undefined) {
    index = new Map()
    for (const p of node.items) {
      if (!isScalar(p.key)) continue
      const k = String(p.key.value)
      if (!index.has(k)) index.set(k, p)
    }
    keyIndexes.set(node, index)
  }
  return index
}

type ZodIssue = z.core.$ZodIssue

/** Turns zod issues into located ConfigIssues with messages that name what is wrong and what is expected. */
function zodIssues(issues: readonly ZodIssue[], schema: z.ZodType, data: unknown, source: SourceDocument): ConfigIssue[] {
  const out: ConfigIssue[] = []
  for (const issue of issues) {
    for (const e of explain(issue, [], schema, data)) out.push(source.issue(e.path, e.message, e.atKey))
  }
  return out
}

interface Explained {
  path: FieldPath
  message: string
  atKey?: boolean
}

function explain(issue: ZodIssue, prefix: FieldPath, schema: z.ZodType, data: unknown): Explained[] {
  const path = [...prefix, ...issue.path]
  const value = valueAt(data, path)
  switch (issue.code) {
    case 'unrecognized_keys': {
      const known = knownKeys(schema, path, data)
      // Hints for the first keys only (a message lists 100 issues): 100k unknown keys stay linear and quick.
      return issue.keys.map((key, i) => {
        const hint = i < MAX_LISTED_ISSUES ? didYouMean(key, known) : undefined
        const tail = hint === undefined ? (known.length > 0 && known.length <= 8 ? `; allowed: ${known.join(', ')}` : '') : `; did you mean "${hint}"?`
        return { path: [...path, key], message: `unknown field "${key}"${tail}`, atKey: true }
      })
    }
    case 'invalid_type':
      if (value === undefined) {
        // A schema may say why a field is needed (zod's `error`); zod's own message starts "Invalid input".
        const why = issue.message.startsWith('Invalid input') ? ` (${issue.expected})` : `: ${issue.message}`
        return [{ path, message: `required field is missing${why}` }]
      }
      if (value === null) return [{ path, message: `is empty; expected ${issue.expected}` }]
      return [{ path, message: `expected ${issue.expected}, got ${describe(value)}` }]
    case 'invalid_value':
      return [{ path, message: `must be ${oneOf(issue.values)}, got ${describe(value)}` }]
    case 'invalid_union':
      if ('discriminator' in issue) {
        const options = (issue as { options?: unknown }).options
        if (Array.isArray(options)) return [{ path, message: `must be ${oneOf(options)}, got ${describe(value)}` }]
      }
      return explainUnion(issue.errors, path, value, schema, data)
    case 'too_small':
      return [{ path, message: boundMessage('at least', issue.origin, issue.minimum, issue.inclusive ?? true, value) }]
    case 'too_big':
      return [{ path, message: boundMessage('at most', issue.origin, issue.maximum, issue.inclusive ?? true, value) }]
    case 'invalid_format':
      return [{ path, message: formatMessage(issue.format, issue.message, value) }]
    case 'custom':
      return [{ path, message: issue.message }]
    case 'not_multiple_of':
    case 'invalid_key':
    case 'invalid_element':
      return [{ path, message: issue.message }]
  }
}

/**
 * A union failed in every branch. Literal-like branches combine into "must be A or B";
 * object branches combine their missing fields into "needs one of …" and keep the
 * problems that every branch shares (such as an unknown field).
 */
function explainUnion(branches: readonly (readonly ZodIssue[])[], path: FieldPath, value: unknown, schema: z.ZodType, data: unknown): Explained[] {
  const simple = branches.every((b) => b.length === 1 && b[0]?.path.length === 0 && (b[0].code === 'invalid_value' || b[0].code === 'invalid_type'))
  if (simple) {
    const forms = branches.map((b) => {
      const i = b[0]
      return i?.code === 'invalid_value' ? i.values.map((v) => JSON.stringify(v)).join(' or ') : `a ${i?.code === 'invalid_type' ? i.expected : 'value'}`
    })
    const allLiterals = branches.every((b) => b[0]?.code === 'invalid_value')
    return [{ path, message: `must be ${allLiterals ? `one of ${forms.join(', ')}` : forms.join(' or ')}, got ${describe(value)}` }]
  }
  const missing = new Set<string>()
  const perBranch = branches.map((b) =>
    b.flatMap((i) => {
      if (i.code === 'invalid_type' && i.path.length === 1 && valueAt(data, [...path, ...i.path]) === undefined) {
        missing.add(String(i.path[0]))
        return []
      }
      return explain(i, path, schema, data)
    }),
  )
  const key = (e: Explained): string => `${formatFieldPath(e.path)}\u0000${e.message}`
  const first = perBranch[0] ?? []
  // Sets, not nested scans: a branch may carry thousands of issues (unknown keys).
  const keySets = perBranch.map((b) => new Set(b.map(key)))
  const common = first.filter((e) => keySets.every((k) => k.has(key(e))))
  const out: Explained[] = []
  if (missing.size > 0) out.push({ path, message: `needs one of ${[...missing].join(', ')}` })
  if (common.length > 0) out.push(...common)
  else if (missing.size === 0) {
    const fewest = perBranch.reduce((a, b) => (b.length < a.length ? b : a), first)
    out.push(...fewest)
  }
  return out.length > 0 ? out : [{ path, message: `does not match any allowed form, got ${describe(value)}` }]
}

function boundMessage(word: 'at least' | 'at most', origin: string, bound: number | bigint, inclusive: boolean, value: unknown): string {
  const n = Number(bound)
  if (origin === 'array') return `needs ${word} ${n} item${n === 1 ? '' : 's'}`
  if (origin === 'string') return n === 1 && word === 'at least' ? 'must not be empty' : `must be ${word} ${n} characters`
  const op = word === 'at least' ? (inclusive ? '≥' : '>') : inclusive ? '≤' : '<'
  return `must be ${op} ${n}, got ${describe(value)}`
}

function formatMessage(format: string, zodMessage: string, value: unknown): string {
  switch (format) {
    case 'datetime':
      return `must be an ISO-8601 date-time with a zone, e.g. 2026-11-11T12:00:00+08:00, got ${describe(value)}`
    case 'url':
      return `must be an http(s) URL, got ${describe(value)}`
    case 'regex':
      return zodMessage.startsWith('Invalid') ? `has the wrong form, got ${describe(value)}` : `${zodMessage}, got ${describe(value)}`
    default:
      return `${zodMessage}, got ${describe(value)}`
  }
}

function oneOf(values: readonly unknown[]): string {
  const shown = values.map((v) => JSON.stringify(v))
  return shown.length === 1 ? (shown[0] ?? '') : `one of ${shown.join(', ')}`
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing'
  if (value === null) return 'an empty value'
  if (Array.isArray(value)) return 'a list'
  if (typeof value === 'object') return 'a mapping'
  const s = JSON.stringify(value)
  return s.length > 40 ? `${s.slice(0, 37)}...` : s
}

/** The plain (already parsed) value at `path`; undefined when any step is missing. */
function valueAt(data: unknown, path: FieldPath): unknown {
  let v = data
  for (const seg of path) {
    if (v === null || typeof v !== 'object') return undefined
    if (!Object.hasOwn(v, seg)) return undefined
    v = (v as Record<PropertyKey, unknown>)[seg]
  }
  return v
}

/** A zod schema seen through its definition, enough to walk objects, arrays and unions. */
interface SchemaDef {
  readonly type: string
  readonly shape?: Record<string, z.ZodType>
  readonly innerType?: z.ZodType
  readonly element?: z.ZodType
  readonly valueType?: z.ZodType
  readonly options?: readonly z.ZodType[]
  readonly in?: z.ZodType
  readonly discriminator?: string
  readonly values?: readonly unknown[]
}

/**
 * The field names the schema allows for the object at `path`. A discriminated union
 * follows the branch the document's discriminator names; other unions offer every branch's fields.
 */
function knownKeys(schema: z.ZodType, path: FieldPath, data: unknown): string[] {
  const keys = new Set<string>()
  const walk = (s: z.ZodType | undefined, done: FieldPath, rest: FieldPath): void => {
    if (s === undefined) return
    const def = defOf(s)
    switch (def.type) {
      case 'default':
      case 'optional':
      case 'nullable':
      case 'prefault':
      case 'readonly':
        walk(def.innerType, done, rest)
        return
      case 'pipe':
        walk(def.in, done, rest)
        return
      case 'union':
        for (const o of unionBranches(def, valueAt(data, done))) walk(o, done, rest)
        return
      case 'array':
        if (typeof rest[0] === 'number') walk(def.element, [...done, rest[0]], rest.slice(1))
        return
      case 'record':
        if (rest.length > 0) walk(def.valueType, [...done, rest[0] ?? ''], rest.slice(1))
        return
      case 'object': {
        const shape = def.shape ?? {}
        if (rest.length === 0) for (const k of Object.keys(shape)) keys.add(k)
        else walk(shape[String(rest[0])], [...done, rest[0] ?? ''], rest.slice(1))
        return
      }
      default:
        return
    }
  }
  walk(schema, [], path)
  return [...keys]
}

function defOf(s: z.ZodType): SchemaDef {
  return (s as unknown as { _zod: { def: SchemaDef } })._zod.def
}

/** The branches of a union worth offering: for a discriminated union, the one the data names (all when none matches). */
function unionBranches(def: SchemaDef, data: unknown): readonly z.ZodType[] {
  const options = def.options ?? []
  if (def.discriminator === undefined || data === null || typeof data !== 'object') return options
  const tag = (data as Record<string, unknown>)[def.discriminator]
  const match = options.filter((o) => {
    const field = defOf(o).shape?.[def.discriminator ?? '']
    return field !== undefined && (defOf(field).values ?? []).includes(tag)
  })
  return match.length > 0 ? match : options
}

/**
 * Rules that hold across documents (ports, quotas). Run only when every document passed
 * its schema and its own checks, so they see the whole, defaulted config.
 */
function crossChecks(groups: readonly LoadedGroup[], global: { spec: GlobalSpec; source: SourceDocument } | undefined): ConfigIssue[] {
  const issues: ConfigIssue[] = []
  issues.push(...listenChecks(groups, global))
  if (global !== undefined) issues.push(...quotaChecks(groups, global))
  return issues
}

/** Checks inside one group: classes named by metrics exist, schedules' cron and zones, external sources, backup targets, replicas, the size ladder. */
function groupChecks({ spec, source }: LoadedGroup): ConfigIssue[] {
  const issues: ConfigIssue[] = []
  const classes = spec.routing.classes.map((c) => c.name)
  const seen = new Set<string>()
  for (const [i, c] of spec.routing.classes.entries()) {
    if (seen.has(c.name)) issues.push(source.issue(['routing', 'classes', i, 'name'], `priority class "${c.name}" is defined twice`))
    seen.add(c.name)
  }
  const checkClass = (path: FieldPath, name: string | undefined): void => {
    if (name === undefined || classes.includes(name)) return
    const hint = didYouMean(name, classes)
    const known = classes.length === 0 ? 'routing.classes defines none' : `routing.classes has ${classes.join(', ')}`
    issues.push(source.issue(path, `class "${name}" is not a routing class (${known})${hint === undefined ? '' : `; did you mean "${hint}"?`}`))
  }
  for (const [i, m] of spec.metrics.entries()) if (m.type === 'latency') checkClass(['metrics', i, 'class'], m.class)
  for (const [i, s] of spec.steps.entries()) if (s.metric.type === 'latency') checkClass(['steps', i, 'metric', 'class'], s.metric.class)
  for (const [i, s] of spec.schedules.entries()) issues.push(...scheduleChecks(s, ['schedules', i], source))
  issues.push(...externalChecks(spec, source))
  issues.push(...backupChecks(spec, source))
  issues.push(...byteMetricChecks(spec, source))
  const { min, max, initial } = spec.replicas
  if (initial !== undefined && (initial < min || initial > max)) {
    issues.push(source.issue(['replicas', 'initial'], `must lie between replicas.min (${min}) and replicas.max (${max}), got ${initial}`))
  }
  for (let i = 1; i < spec.sizes.length; i++) {
    const a = spec.sizes[i - 1]
    const b = spec.sizes[i]
    if (a !== undefined && b !== undefined && (b.cpu < a.cpu || b.memoryMiB < a.memoryMiB)) {
      issues.push(source.issue(['sizes', i], `the size ladder goes smallest first: ${b.cpu} cpu / ${b.memoryMiB} MiB is smaller than the size before it`))
    }
  }
  return issues
}

/**
 * Disk and network metrics are measured for local groups only (disk from /proc/<pid>/io on this
 * host, network by tide's router, which only local groups have); on another provider they would
 * never have a value and would block scale-in forever. The sim provider is left to `tide
 * simulate`, which refuses them with its own reason.
 */
function byteMetricChecks(spec: GroupSpec, source: SourceDocument): ConfigIssue[] {
  if (spec.provider === 'local' || spec.provider === 'sim') return []
  const why = (type: string): string =>
    `a ${type} metric is measured for provider local only (disk from /proc/<pid>/io, network by tide's router); provider ${spec.provider} has no source for it`
  return [
    ...spec.metrics.flatMap((m, i) => (m.type === 'disk' || m.type === 'network' ? [source.issue(['metrics', i, 'type'], why(m.type))] : [])),
    ...spec.steps.flatMap((r, i) => (r.metric.type === 'disk' || r.metric.type === 'network' ? [source.issue(['steps', i, 'metric', 'type'], why(r.metric.type))] : [])),
  ]
}

/**
 * External metrics: an http-json query must be a JSON path; one query has one source in a
 * group (the value is kept by query, for target tracking and step rules alike); a fallback
 * count lies within replicas.min..max.
 */
function externalChecks(spec: GroupSpec, source: SourceDocument): ConfigIssue[] {
  const issues: ConfigIssue[] = []
  const seen = new Map<string, { where: string; source: ExternalSource }>()
  const check = (path: FieldPath, where: string, query: string, src: ExternalSource): void => {
    if (src.type === 'http-json') {
      const parsed = parseJsonPath(query)
      if ('error' in parsed) issues.push(source.issue([...path, 'query'], `an http-json source reads the JSON path in query: ${parsed.error}`))
    }
    const earlier = seen.get(query)
    if (earlier === undefined) seen.set(query, { where, source: src })
    else if (JSON.stringify(earlier.source) !== JSON.stringify(src)) {
      issues.push(source.issue([...path, 'source'], `query "${query}" already has another source at ${earlier.where}: one query, one source in a group`))
    }
  }
  for (const [i, m] of spec.metrics.entries()) {
    if (m.type !== 'external') continue
    check(['metrics', i], `metrics[${i}]`, m.query, m.source)
    const { min, max } = spec.replicas
    if (m.fallback !== undefined && (m.fallback.replicas < min || m.fallback.replicas > max)) {
      issues.push(source.issue(['metrics', i, 'fallback', 'replicas'], `must lie between replicas.min (${min}) and replicas.max (${max}), got ${m.fallback.replicas}`))
    }
  }
  for (const [i, s] of spec.steps.entries()) if (s.metric.type === 'external') check(['steps', i, 'metric'], `steps[${i}].metric`, s.metric.query, s.metric.source)
  return issues
}

/**
 * A backup target must not be the group's own router (routing.host:routing.listen): a request
 * would be forwarded to the router again and again.
 */
function backupChecks(spec: GroupSpec, source: SourceDocument): ConfigIssue[] {
  const { backup, host, listen } = spec.routing
  if (backup === undefined || listen === 0) return []
  const self = (h: string, port: number): boolean => port === listen && (h === host || (isLoopback(h) && isLoopback(host)))
  const loop = `is this group's own router (routing.host ${host}, routing.listen ${listen}): requests would loop`
  const issues: ConfigIssue[] = []
  for (const [i, t] of (backup.instances ?? []).entries()) if (self(t.host, t.port)) issues.push(source.issue(['routing', 'backup', 'instances', i], loop))
  if (backup.url !== undefined) {
    const u = new URL(backup.url)
    if (self(u.hostname, u.port === '' ? 80 : Number(u.port))) issues.push(source.issue(['routing', 'backup', 'url'], loop))
  }
  return issues
}

/** 127.0.0.0/8, ::1 and localhost: the same machine's loopback, however it is spelt. */
function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host)
}

/** A schedule's time zone must be known to Intl, its cron must parse (croner), and its replicas must be consistent. */
function scheduleChecks(s: GroupSpec['schedules'][number], path: FieldPath, source: SourceDocument): ConfigIssue[] {
  const issues: ConfigIssue[] = []
  let zoneOk = true
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: s.timezone })
  } catch {
    zoneOk = false
    issues.push(source.issue([...path, 'timezone'], `unknown time zone "${s.timezone}" (use an IANA name such as Asia/Shanghai or UTC)`))
  }
  if (s.cron !== undefined) {
    try {
      new Cron(s.cron, { paused: true, ...(zoneOk ? { timezone: s.timezone } : {}) }).stop()
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err)
      issues.push(source.issue([...path, 'cron'], `invalid cron "${s.cron}": ${why}`))
    }
  }
  const r = s.replicas
  if (r.min !== undefined && r.max !== undefined && r.min > r.max) {
    issues.push(source.issue([...path, 'replicas', 'min'], `min (${r.min}) must not exceed max (${r.max})`))
  }
  return issues
}

/** Two local groups (or a group and the API) cannot listen on the same port; 0 means any free port. */
function listenChecks(groups: readonly LoadedGroup[], global: { spec: GlobalSpec; source: SourceDocument } | undefined): ConfigIssue[] {
  const issues: ConfigIssue[] = []
  const owners = new Map<number, string>()
  if (global !== undefined && global.spec.api.listen !== 0) owners.set(global.spec.api.listen, 'the API (api.listen)')
  for (const g of groups) {
    if (g.spec.provider !== 'local' || g.spec.routing.listen === 0) continue
    const port = g.spec.routing.listen
    const owner = owners.get(port)
    if (owner === undefined) owners.set(port, `group "${g.spec.group}"`)
    else issues.push(g.source.issue(['routing', 'listen'], `port ${port} is already used by ${owner}; give each local group its own routing.listen`))
  }
  return issues
}

/** The groups' minimums must fit in the quotas, or tide could never satisfy both. */
function quotaChecks(groups: readonly LoadedGroup[], global: { spec: GlobalSpec; source: SourceDocument }): ConfigIssue[] {
  const issues: ConfigIssue[] = []
  const check = (limits: GlobalSpec['quotas'] | NonNullable<GlobalSpec['quotas']['perProvider']['local']>, members: readonly GroupSpec[], path: FieldPath): void => {
    const instances = members.reduce((n, g) => n + g.replicas.min, 0)
    const cpu = members.reduce((n, g) => n + g.replicas.min * g.size.cpu, 0)
    const memory = members.reduce((n, g) => n + g.replicas.min * g.size.memoryMiB, 0)
    const over = (field: string, limit: number | undefined, need: number, unit: string): void => {
      if (limit !== undefined && need > limit) {
        issues.push(global.source.issue([...path, field], `${limit} ${unit} is less than the groups' replicas.min need together (${need} ${unit})`))
      }
    }
    over('maxInstances', limits.maxInstances, instances, 'instances')
    over('maxCpu', limits.maxCpu, cpu, 'cpu')
    over('maxMemoryMiB', limits.maxMemoryMiB, memory, 'MiB')
  }
  const specs = groups.map((g) => g.spec)
  check(global.spec.quotas, specs, ['quotas'])
  for (const [provider, limits] of Object.entries(global.spec.quotas.perProvider)) {
    check(limits, specs.filter((g) => g.provider === provider), ['quotas', 'perProvider', provider])
  }
  return issues
}
