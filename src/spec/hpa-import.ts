/**
 * `tide import`: converts Kubernetes HorizontalPodAutoscaler manifests (autoscaling/v2,
 * also v2beta2 and v1) into tide.yaml group documents, so that an HPA user starts from
 * what they already run. tide's field names follow the HPA's, so most of a manifest
 * carries over one to one:
 *
 * | HPA                                              | tide                                      |
 * |--------------------------------------------------|-------------------------------------------|
 * | metadata.name                                    | group (lower-cased, dashes)               |
 * | spec.scaleTargetRef (Deployment/StatefulSet), metadata.namespace | kubernetes: { namespace (default `default`), deployment / statefulSet } |
 * | spec.minReplicas (default 1) / maxReplicas       | replicas.min / replicas.max               |
 * | Resource/ContainerResource cpu, Utilization      | { type: cpu, target: averageUtilization } |
 * | Resource memory, Utilization / AverageValue      | memory averageUtilization / averageValueMiB |
 * | Pods metric, AverageValue                        | external, per-instance averageValue       |
 * | Object metric, Value / AverageValue              | external, value / averageValue            |
 * | External metric, Value / AverageValue            | external, value / averageValue            |
 * | spec.behavior (policies, windows, selectPolicy, tolerance) | behavior, unchanged             |
 * | v1 targetCPUUtilizationPercentage                | cpu averageUtilization                    |
 * | no metrics at all                                | cpu 80 % (the HPA's default)              |
 *
 * What cannot be carried over is left out and reported as a note naming the field:
 * cpu AverageValue (tide targets cpu as a share of the instance size, and the pod's
 * requests are not in the manifest), label selectors with matchExpressions, and
 * Object/Pods/External metric queries, which are turned into PromQL-like queries that
 * the operator should check against their metrics source.
 */
import { Document } from 'yaml'
import { TideError } from '../errors.ts'
import { ConfigError } from './errors.ts'
import { parseConfig } from './load.ts'
import type { GroupInput } from './schema.ts'
import { parseYaml, yamlProblems, yamlSizeProblem, yamlValue } from './safe-yaml.ts'

/** The manifest cannot be converted at all: not YAML, no HPA in it, or an HPA without maxReplicas. */
export class HpaImportError extends TideError {
  constructor(message: string) {
    super('TIDE_ERR_HPA_IMPORT', message)
  }
}

/** Something in an HPA that was not converted, or converted with an assumption to check. */
export interface ConversionNote {
  /** The HPA's metadata.name (or `document N` when it has none). */
  readonly hpa: string
  /** Where in the HPA, e.g. `spec.metrics[1]`. */
  readonly field: string
  readonly message: string
}

/** The result: one group per HPA, the notes, and the tide.yaml text (notes included as comments). */
export interface HpaConversion {
  readonly groups: readonly GroupInput[]
  readonly notes: readonly ConversionNote[]
  readonly yaml: string
}

type Json = Record<string, unknown>
type MetricInput = NonNullable<GroupInput['metrics']>[number]
type RulesInput = NonNullable<NonNullable<GroupInput['behavior']>['scaleUp']>

/** Converts every HorizontalPodAutoscaler in `text` (several documents or a `kind: List`); other kinds are skipped with a note. */
export function convertHpa(text: string, fileName: string): HpaConversion {
  const tooBig = yamlSizeProblem(text)
  if (tooBig !== undefined) throw new HpaImportError(`${fileName}: ${tooBig}`)
  const { documents: docs, lineCounter } = parseYaml(text)
  const notes: ConversionNote[] = []
  const groups: GroupInput[] = []
  const rendered: string[] = []
  for (const [index, doc] of docs.entries()) {
    const problems = yamlProblems(doc)
    const converted = problems.length === 0 ? yamlValue(doc) : undefined
    const first = problems[0] ?? (converted !== undefined && 'problem' in converted ? converted.problem : undefined)
    if (first !== undefined || converted === undefined || !('value' in converted)) {
      const pos = lineCounter.linePos(first?.offset ?? 0)
      throw new HpaImportError(`${fileName}:${pos.line}:${pos.col}: YAML: ${first?.message ?? 'cannot be read'}`)
    }
    const value: unknown = converted.value
    if (value === null || value === undefined) continue
    const line = lineCounter.linePos(doc.range[0]).line
    for (const manifest of manifestsOf(value)) {
      const kind = typeof manifest.kind === 'string' ? manifest.kind : '(no kind)'
      const name = str(obj(manifest.metadata).name) ?? `document ${index + 1}`
      if (kind !== 'HorizontalPodAutoscaler') {
        notes.push({ hpa: name, field: 'kind', message: `skipped a ${kind}: not a HorizontalPodAutoscaler` })
        continue
      }
      const before = notes.length
      const group = convertOne(manifest, name, `${fileName}:${line}`, notes)
      groups.push(group)
      rendered.push(renderGroup(group, name, fileName, notes.slice(before)))
    }
  }
  if (groups.length === 0) throw new HpaImportError(`${fileName}: no HorizontalPodAutoscaler found (kind: HorizontalPodAutoscaler)`)
  const yaml = rendered.join('---\n')
  checkOutput(yaml, fileName)
  return { groups, notes, yaml }
}

/**
 * The output must be a valid tide.yaml. It is not when the HPA itself holds values
 * Kubernetes would refuse too (maxReplicas 0, periodSeconds 0, min above max) or two
 * HPAs share a name; say so in tide's field names, which mirror the HPA's.
 */
function checkOutput(yaml: string, fileName: string): void {
  try {
    parseConfig(yaml, 'converted')
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err
    const problems = err.issues.map((i) => `  ${i.path === '' ? '' : `${i.path}: `}${i.message}`).join('\n')
    throw new HpaImportError(`${fileName}: the HorizontalPodAutoscaler holds values tide cannot accept (would Kubernetes?):\n${problems}`)
  }
}

function manifestsOf(value: unknown): Json[] {
  const o = obj(value)
  if (o.kind === 'List' || (o.kind === undefined && Array.isArray(o.items))) return arr(o.items).map(obj)
  if (typeof o.kind === 'string' && o.kind.endsWith('List') && Array.isArray(o.items)) return arr(o.items).map(obj)
  return [o]
}

function convertOne(hpa: Json, name: string, where: string, notes: ConversionNote[]): GroupInput {
  const namespace = str(obj(hpa.metadata).namespace) ?? 'default'
  const note = (field: string, message: string): void => {
    notes.push({ hpa: name, field, message })
  }
  const spec = obj(hpa.spec)
  const apiVersion = str(hpa.apiVersion) ?? ''
  if (!/^autoscaling\/v(1|2|2beta1|2beta2)$/.test(apiVersion)) note('apiVersion', `apiVersion "${apiVersion}" is not autoscaling/v1 or v2; converted as v2`)
  const max = num(spec.maxReplicas)
  if (max === undefined) throw new HpaImportError(`${where}: HorizontalPodAutoscaler ${name}: spec.maxReplicas is required`)
  const min = num(spec.minReplicas) ?? 1
  const target = obj(spec.scaleTargetRef)
  const kind = str(target.kind) ?? 'Deployment'
  let targetName = str(target.name)
  if (targetName === undefined) {
    targetName = groupName(name, () => undefined)
    note('spec.scaleTargetRef', `none given (Kubernetes requires one); the group targets ${kind === 'StatefulSet' ? 'statefulSet' : 'deployment'} ${targetName} in namespace ${namespace}`)
  }
  if (kind !== 'Deployment' && kind !== 'StatefulSet') {
    throw new HpaImportError(`${where}: HorizontalPodAutoscaler ${name}: spec.scaleTargetRef.kind ${kind}: tide's kubernetes provider scales Deployments and StatefulSets`)
  }
  const group: GroupInput = {
    group: groupName(name, note),
    provider: 'kubernetes',
    kubernetes: { namespace, ...(kind === 'Deployment' ? { deployment: targetName } : { statefulSet: targetName }) },
    replicas: { min, max },
  }
  const metrics = metricsOf(spec, note)
  if (metrics.length > 0) group.metrics = metrics
  const behavior = obj(spec.behavior)
  const scaleUp = rulesOf(behavior.scaleUp, 'spec.behavior.scaleUp', note)
  const scaleDown = rulesOf(behavior.scaleDown, 'spec.behavior.scaleDown', note)
  if (scaleUp !== undefined || scaleDown !== undefined) {
    group.behavior = { ...(scaleUp === undefined ? {} : { scaleUp }), ...(scaleDown === undefined ? {} : { scaleDown }) }
  }
  return group
}

function groupName(name: string, note: (field: string, message: string) => void): string {
  const clean = name.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '') || 'imported'
  if (clean !== name) note('metadata.name', `"${name}" is not a valid group name; renamed to "${clean}"`)
  return clean
}

function metricsOf(spec: Json, note: (field: string, message: string) => void): MetricInput[] {
  const v1Cpu = num(spec.targetCPUUtilizationPercentage)
  if (v1Cpu !== undefined) return [{ type: 'cpu', target: { averageUtilization: v1Cpu } }]
  if (spec.metrics === undefined) {
    note('spec.metrics', 'none given: the HPA default, cpu at 80 % utilization, is written out')
    return [{ type: 'cpu', target: { averageUtilization: 80 } }]
  }
  const out: MetricInput[] = []
  for (const [i, m] of arr(spec.metrics).entries()) {
    const converted = metricOf(obj(m), `spec.metrics[${i}]`, note)
    if (converted !== null) out.push(converted)
  }
  if (out.length === 0) note('spec.metrics', 'no metric could be converted; the group has none until you add one')
  return out
}

function metricOf(m: Json, field: string, note: (field: string, message: string) => void): MetricInput | null {
  const type = str(m.type) ?? ''
  switch (type) {
    case 'Resource':
    case 'ContainerResource': {
      const r = obj(type === 'Resource' ? m.resource : m.containerResource)
      if (type === 'ContainerResource') note(field, `container "${str(r.container) ?? ''}" only: tide measures the whole instance`)
      return resourceMetric(str(r.name) ?? '', obj(r.target), field, note)
    }
    case 'Pods': {
      const p = obj(m.pods)
      const metric = obj(p.metric)
      const t = obj(p.target)
      const avg = quantity(t.averageValue)
      if (avg === undefined) return skip(note, field, 'a Pods metric needs target.averageValue')
      const query = promQuery(str(metric.name) ?? '', metric.selector, field, note)
      note(field, `Pods metric "${str(metric.name) ?? ''}" became external query ${query} (a per-instance average) on a Prometheus source at ${GUESSED_PROMETHEUS}; check the query and set source.url to your server`)
      return { type: 'external', query, source: guessedSource(), target: { averageValue: avg } }
    }
    case 'Object':
    case 'External': {
      const o = obj(type === 'Object' ? m.object : m.external)
      const metric = obj(o.metric)
      const t = obj(o.target)
      const query = promQuery(str(metric.name) ?? '', metric.selector, field, note)
      const described = obj(o.describedObject)
      const about = type === 'Object' ? ` of ${str(described.kind) ?? 'object'}/${str(described.name) ?? ''}` : ''
      note(field, `${type} metric "${str(metric.name) ?? ''}"${about} became external query ${query} on a Prometheus source at ${GUESSED_PROMETHEUS}; check the query and set source.url to your server`)
      const value = quantity(t.value)
      const avg = quantity(t.averageValue)
      if (value !== undefined) return { type: 'external', query, source: guessedSource(), target: { value } }
      if (avg !== undefined) return { type: 'external', query, source: guessedSource(), target: { averageValue: avg } }
      return skip(note, field, `an ${type} metric needs target.value or target.averageValue`)
    }
    default:
      return skip(note, field, `metric type "${type}" is unknown`)
  }
}

function resourceMetric(name: string, t: Json, field: string, note: (field: string, message: string) => void): MetricInput | null {
  const utilization = num(t.averageUtilization)
  const avg = quantity(t.averageValue)
  if (name === 'cpu') {
    if (utilization !== undefined) return { type: 'cpu', target: { averageUtilization: utilization } }
    if (avg !== undefined) {
      // An absolute per-pod cpu only means a utilization relative to the pod's request, which the HPA manifest does not hold.
      return skip(note, field, `cpu averageValue ${String(t.averageValue)} is absolute; tide targets cpu as a share of size.cpu — with size.cpu C use averageUtilization ${Math.round(avg * 100)}/C`)
    }
  }
  if (name === 'memory') {
    if (utilization !== undefined) return { type: 'memory', target: { averageUtilization: utilization } }
    if (avg !== undefined) return { type: 'memory', target: { averageValueMiB: Math.max(1, Math.round(avg / 2 ** 20)) } }
  }
  if (name !== 'cpu' && name !== 'memory') return skip(note, field, `resource "${name}" is not cpu or memory`)
  return skip(note, field, `${name} target needs averageUtilization or averageValue`)
}

function skip(note: (field: string, message: string) => void, field: string, why: string): null {
  note(field, `not converted: ${why}`)
  return null
}

/** `sum(name{k="v",…})` from a metric name and a matchLabels selector; metric names get PromQL's character set. */
/**
 * The Prometheus server an imported Pods/Object/External metric is read from. The HPA reads
 * them through a metrics adapter (most often prometheus-adapter) that names no server, so the
 * import writes a local one and says so in a note: the user sets the real URL.
 */
const GUESSED_PROMETHEUS = 'http://127.0.0.1:9090'

function guessedSource(): { type: 'prometheus'; url: string } {
  return { type: 'prometheus', url: GUESSED_PROMETHEUS }
}

function promQuery(name: string, selector: unknown, field: string, note: (field: string, message: string) => void): string {
  const s = obj(selector)
  if (s.matchExpressions !== undefined) note(`${field}.metric.selector`, 'matchExpressions not converted; add them to the query by hand')
  const labels = Object.entries(obj(s.matchLabels)).map(([k, v]) => `${k}=${JSON.stringify(String(v))}`)
  const metric = name.replace(/[^a-zA-Z0-9_:]/g, '_')
  return `sum(${metric}${labels.length === 0 ? '' : `{${labels.join(',')}}`})`
}

function rulesOf(value: unknown, field: string, note: (field: string, message: string) => void): RulesInput | undefined {
  if (value === undefined || value === null) return undefined
  const r = obj(value)
  const out: RulesInput = {}
  const window = num(r.stabilizationWindowSeconds)
  if (window !== undefined) out.stabilizationWindowSeconds = window
  const select = str(r.selectPolicy)
  if (select === 'Max' || select === 'Min' || select === 'Disabled') out.selectPolicy = select
  else if (select !== undefined) note(`${field}.selectPolicy`, `not converted: "${select}" is not Max, Min or Disabled`)
  const tolerance = quantity(r.tolerance)
  if (tolerance !== undefined) out.tolerance = tolerance
  if (r.policies !== undefined) {
    const policies: NonNullable<RulesInput['policies']> = []
    for (const [i, p] of arr(r.policies).entries()) {
      const q = obj(p)
      const type = str(q.type)
      const v = num(q.value)
      const period = num(q.periodSeconds)
      if ((type === 'Pods' || type === 'Percent') && v !== undefined && period !== undefined) policies.push({ type, value: v, periodSeconds: period })
      else note(`${field}.policies[${i}]`, 'not converted: a policy needs type Pods or Percent, value and periodSeconds')
    }
    if (policies.length > 0) out.policies = policies
  }
  return out
}

function renderGroup(group: GroupInput, name: string, fileName: string, notes: readonly ConversionNote[]): string {
  const doc = new Document(group)
  const lines = [` Converted by tide import from HorizontalPodAutoscaler ${name} (${fileName}).`]
  if (notes.length > 0) {
    lines.push(' Check these:')
    for (const n of notes) lines.push(`   ${n.field}: ${n.message}`)
  }
  doc.commentBefore = lines.join('\n')
  return doc.toString({ lineWidth: 0 })
}

const DECIMAL_SUFFIX: Readonly<Record<string, number>> = { n: 1e-9, u: 1e-6, m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 }
const BINARY_SUFFIX: Readonly<Record<string, number>> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 }

/**
 * A Kubernetes resource quantity as a number: `500m` → 0.5, `1k` → 1000, `10Mi` →
 * 10485760, `1e3` → 1000, a plain YAML number as is. Undefined when absent or not a quantity.
 */
export function quantity(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined
  if (typeof value !== 'string') return undefined
  const m = /^([+-]?(?:\d+\.?\d*|\.\d+))(?:(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE])|[eE]([+-]?\d+))?$/.exec(value.trim())
  if (m === null) return undefined
  const base = Number(m[1])
  if (m[3] !== undefined) return base * 10 ** Number(m[3])
  const suffix = m[2] ?? ''
  return base * (BINARY_SUFFIX[suffix] ?? DECIMAL_SUFFIX[suffix] ?? 1)
}

function obj(v: unknown): Json {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {}
}
function arr(v: unknown): unknown[] {
  return Array.isArray(v) ? (v as unknown[]) : []
}
function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined
}
function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined
}
