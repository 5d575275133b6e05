/**
 * `tide export --format hpa`: a group as a Kubernetes HorizontalPodAutoscaler (autoscaling/v2),
 * the reverse of hpa-import.ts, for a team that goes back to the HPA or wants to compare. Where
 * the features overlap the fields carry over one to one; everything else is named in a note
 * (what it is, why the HPA cannot say it), never dropped silently. Pure: no I/O.
 *
 * | tide                                       | HPA v2                                            |
 * |--------------------------------------------|---------------------------------------------------|
 * | group, kubernetes.namespace                | metadata.name, metadata.namespace                 |
 * | kubernetes.deployment / statefulSet        | spec.scaleTargetRef (apps/v1)                     |
 * | replicas.min / max                         | spec.minReplicas / maxReplicas                    |
 * | cpu / memory averageUtilization            | Resource metric, Utilization                      |
 * | memory averageValueMiB                     | Resource metric, AverageValue (Mi)                |
 * | rps / inflight averageValue                | Pods metric (needs a custom metrics adapter)      |
 * | external value / averageValue              | External metric named by the query                |
 * | behavior (windows, policies, selectPolicy) | spec.behavior                                     |
 * | behavior tolerance ≠ 0.1                   | spec.behavior.*.tolerance (Kubernetes ≥ 1.33, HPAConfigurableTolerance) |
 *
 * Not converted, each with a note when the group sets it: latency, disk and network metrics,
 * step rules, schedules, predictive and vertical scaling, a strategy other than horizontal,
 * the SLO, warm-up and timing settings the HPA takes cluster-wide, lifecycle hooks and alerts.
 */
import { stringify } from 'yaml'
import { GroupSchema, type GroupSpec, type MetricSpec, type ScalingRules } from './schema.ts'

/** What could not be carried over: the group, the tide field and why. */
export interface ExportNote {
  readonly group: string
  readonly field: string
  readonly message: string
}

/** The manifests (one HPA per group) as YAML documents, and the notes. */
export interface HpaExport {
  readonly manifests: readonly Record<string, unknown>[]
  readonly yaml: string
  readonly notes: readonly ExportNote[]
}

/** Converts `groups` to HPA v2 manifests. */
export function exportHpa(groups: readonly GroupSpec[]): HpaExport {
  const notes: ExportNote[] = []
  const manifests = groups.map((g) => exportOne(g, (field, message) => notes.push({ group: g.group, field, message })))
  const yaml = manifests.map((m) => stringify(m)).join('---\n')
  return { manifests, yaml, notes }
}

type Note = (field: string, message: string) => void

function exportOne(g: GroupSpec, note: Note): Record<string, unknown> {
  const defaults = GroupSchema.parse({ group: g.group, provider: 'sim' })
  const k = g.kubernetes
  if (k === undefined) note('provider', `provider ${g.provider}: no Kubernetes workload; scaleTargetRef names a Deployment ${g.group} in namespace default`)
  const metrics = g.metrics.flatMap((m, i) => metricOf(m, `metrics[${String(i)}]`, note))
  if (g.metrics.length > 0 && metrics.length === 0) note('metrics', 'no metric converts; the HPA falls back to cpu at 80 % utilization')
  const behavior = {
    scaleUp: rulesOf(g.behavior.scaleUp, 'behavior.scaleUp', note),
    scaleDown: rulesOf(g.behavior.scaleDown, 'behavior.scaleDown', note),
  }
  notUsed(g, defaults, note)
  return {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: { name: g.group, namespace: k?.namespace ?? 'default' },
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: k?.statefulSet !== undefined ? 'StatefulSet' : 'Deployment', name: k?.deployment ?? k?.statefulSet ?? g.group },
      minReplicas: Math.max(1, g.replicas.min),
      maxReplicas: g.replicas.max,
      ...(metrics.length > 0 ? { metrics } : {}),
      behavior,
    },
  }
}

function metricOf(m: MetricSpec, field: string, note: Note): Record<string, unknown>[] {
  switch (m.type) {
    case 'cpu':
      return [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: m.target.averageUtilization } } }]
    case 'memory':
      return [{ type: 'Resource', resource: { name: 'memory', target: 'averageUtilization' in m.target ? { type: 'Utilization', averageUtilization: m.target.averageUtilization } : { type: 'AverageValue', averageValue: `${String(m.target.averageValueMiB)}Mi` } } }]
    case 'rps':
    case 'inflight': {
      const name = m.type === 'rps' ? 'requests_per_second' : 'requests_in_flight'
      note(field, `${m.type}: a Pods metric "${name}", which the HPA reads only through a custom metrics adapter (e.g. prometheus-adapter) that serves it`)
      return [{ type: 'Pods', pods: { metric: { name }, target: { type: 'AverageValue', averageValue: String(m.target.averageValue) } } }]
    }
    case 'external': {
      note(field, `external: an External metric named by the query "${m.query}"; an external metrics adapter must serve it under that name${m.fallback === undefined ? '' : ' (fallback has no HPA equivalent)'}`)
      const target = 'averageValue' in m.target ? { type: 'AverageValue', averageValue: String(m.target.averageValue) } : { type: 'Value', value: String(m.target.value) }
      return [{ type: 'External', external: { metric: { name: m.query }, target } }]
    }
    case 'latency':
      note(field, 'latency: not converted (the HPA has no latency percentile target; tide measures it at its router)')
      return []
    case 'disk':
    case 'network':
      note(field, `${m.type}: not converted (the HPA has no ${m.type} I/O metric)`)
      return []
  }
}

function rulesOf(r: ScalingRules, field: string, note: Note): Record<string, unknown> {
  if (r.tolerance !== 0.1) note(`${field}.tolerance`, `written as tolerance ${String(r.tolerance)}: the HPA honours it from Kubernetes 1.33 with the HPAConfigurableTolerance feature gate, else uses 0.1`)
  return {
    stabilizationWindowSeconds: r.stabilizationWindowSeconds,
    ...(r.tolerance === 0.1 ? {} : { tolerance: r.tolerance }),
    selectPolicy: r.selectPolicy,
    policies: r.policies.map((p) => ({ type: p.type, value: p.value, periodSeconds: p.periodSeconds })),
  }
}

/** Notes for what the group sets that the HPA has no field for. */
function notUsed(g: GroupSpec, d: GroupSpec, note: Note): void {
  const differs = (a: unknown, b: unknown): boolean => JSON.stringify(a) !== JSON.stringify(b)
  if (g.replicas.min === 0) note('replicas.min', 'min 0 written as minReplicas 1 (scale to zero needs the HPAScaleToZero feature gate)')
  if (g.steps.length > 0) note('steps', 'step rules: not converted (the HPA v2 scales by target tracking only)')
  if (g.schedules.length > 0) note('schedules', 'schedules and campaigns: not converted (the HPA has no schedule; a CronJob patching minReplicas, or KEDA\'s cron scaler, can stand in)')
  if (g.predictive.mode !== d.predictive.mode) note('predictive', 'predictive scaling: not converted (the HPA only reacts)')
  if (g.vertical.mode !== d.vertical.mode || g.sizes.length > 0) note('vertical', 'vertical scaling and the size ladder: not converted (that is the VPA\'s, which must not act on the same cpu signal as the HPA)')
  if (g.strategy !== 'horizontal') note('strategy', `strategy ${g.strategy}: only its horizontal half is in the HPA`)
  if (g.slo !== undefined) note('slo', 'the SLO and learned headroom: not converted (the HPA has fixed targets)')
  if (g.syncPeriodSeconds !== d.syncPeriodSeconds) note('syncPeriodSeconds', `${String(g.syncPeriodSeconds)} s: the HPA's sync period is the controller manager's --horizontal-pod-autoscaler-sync-period, cluster-wide`)
  for (const f of ['warmupSeconds', 'cpuInitializationPeriodSeconds', 'initialReadinessDelaySeconds'] as const) {
    if (g[f] !== d[f]) note(f, `${String(g[f])} s: the HPA takes this from the controller manager's flags, cluster-wide`)
  }
  if (differs(g.lifecycle, d.lifecycle)) note('lifecycle', "lifecycle hooks: not converted (put a preStop hook in the pod template)")
  if (g.alerts.length > 0) note('alerts', 'alerts: not converted (the HPA emits Kubernetes events; alert on them)')
}
