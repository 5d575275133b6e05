/**
 * `tide validate -c FILE`: reads tide.yaml the way every other command does and prints
 * the groups it found, or every error at once (exit 1). With `--json` it prints the
 * whole config with every default filled in, which is what tide will actually run, with
 * `launch.env` values redacted (they may be secrets).
 */
import { statSync } from 'node:fs'
import { isAbsolute, join, resolve } from 'node:path'
import { findExecutable, isExecutable } from '../core/executables.ts'
import { loadConfig } from '../spec/load.ts'
import { redactConfig } from '../spec/redact.ts'
import { defaultHeadroom } from '../engine/policies/slo.ts'
import { metricName } from '../engine/readings.ts'
import type { GroupSpec, MetricSpec, TideConfig } from '../spec/schema.ts'
import { describeSource } from '../spec/sources/index.ts'
import type { Command } from './args.ts'

/** The `validate` command. */
export const command: Command = {
  summary: 'check a tide.yaml and list the groups it defines',
  usage: '-c FILE [--json] [--strict]',
  description: [
    'Reports every problem at once as file:line:col: field: message. Exit status 1 when the file is not valid.',
    'Also warns about valid settings that are probably mistakes (a group nothing scales, a schedule above max);',
    'warnings go to stderr and fail the check only with --strict.',
  ].join('\n'),
  examples: [
    { command: 'tide validate -c tide.yaml', does: 'check the file: every error with its line, then the groups and any warnings' },
    { command: 'tide validate -c tide.yaml --strict', does: 'in CI: warnings fail the check too' },
    { command: 'tide validate -c tide.yaml --json', does: 'the config with every default filled in' },
  ],
  flags: {
    config: { kind: 'file', short: 'c', description: 'the tide.yaml to check', required: true },
    json: { kind: 'boolean', description: 'print the config with all defaults applied, as JSON (launch.env values redacted)' },
    strict: { kind: 'boolean', description: 'exit 1 when there are warnings (for CI)' },
  },
  run(args, io) {
    const path = args.requiredString('config')
    const config = loadConfig(path)
    // launch.env values may be secrets: printed as (redacted), as the API does (docs/security.md).
    io.stdout.write(args.boolean('json') ? `${JSON.stringify(redactConfig(config), null, 2)}\n` : summary(config, path))
    const warnings = [...configWarnings(config), ...launchWarnings(config, io.env.PATH ?? '')]
    for (const w of warnings) io.stderr.write(`tide: warning: ${w}\n`)
    return args.boolean('strict') && warnings.length > 0 ? 1 : 0
  },
}

/**
 * Settings that are valid but probably not what the operator meant. Not errors: each
 * can be deliberate (a fixed-size group), so they only warn unless --strict.
 */
export function configWarnings(config: TideConfig): string[] {
  return config.groups.flatMap((g) => [...scalingWarnings(g), ...sizeWarnings(g), ...scheduleWarnings(g)])
}

function scalingWarnings(g: GroupSpec): string[] {
  const out: string[] = []
  const scales = g.metrics.length > 0 || g.steps.length > 0 || g.schedules.length > 0 || g.predictive.mode === 'forecastAndScale'
  if (!scales) out.push(`${g.group}: no metrics, steps, schedules or predictive scaling; it stays at replicas.min (${g.replicas.min})`)
  const up = g.behavior.scaleUp.selectPolicy === 'Disabled'
  const down = g.behavior.scaleDown.selectPolicy === 'Disabled'
  if (up && down && scales) out.push(`${g.group}: behavior disables both scaling up and down; only schedules and min/max move it`)
  return out
}

function sizeWarnings(g: GroupSpec): string[] {
  const out: string[] = []
  if (g.strategy !== 'horizontal' && g.sizes.length < 2) {
    out.push(`${g.group}: strategy ${g.strategy} with ${g.sizes.length === 0 ? 'no' : 'one'} size in sizes; vertical steps need a ladder of at least two sizes`)
  }
  if (g.strategy === 'horizontal' && g.vertical.mode === 'auto' && g.metrics.some((m) => m.type === 'cpu' || m.type === 'memory')) {
    out.push(`${g.group}: vertical.mode auto and a ${g.metrics.some((m) => m.type === 'cpu') ? 'cpu' : 'memory'} target both act on the same signal (the HPA-against-VPA loop); use strategy: mixed, or scale the count on rps or latency`)
  }
  if (g.strategy === 'mixed' && g.mixedOrder === 'cheapest' && g.sizes.length > 0 && g.sizes.every((z) => z.pricePerHour === undefined)) {
    out.push(`${g.group}: mixedOrder cheapest but no size has pricePerHour`)
  }
  return out
}

function scheduleWarnings(g: GroupSpec): string[] {
  const out: string[] = []
  for (const s of g.schedules) {
    const max = s.replicas.max ?? g.replicas.max
    const { min, desired } = s.replicas
    if (min !== undefined && min > max) out.push(`${g.group}: schedule ${s.name} raises min to ${min} above max ${max}; raise replicas.max in the schedule too`)
    if (desired !== undefined && desired > max) out.push(`${g.group}: schedule ${s.name} wants ${desired} replicas, above max ${max}`)
  }
  return out
}

/**
 * For `local` groups: whether launch.cwd is a directory and launch.command[0] can be
 * run from here (a path relative to launch.cwd, or a name found on `path`, the PATH
 * variable). Warnings, not errors: the file may be checked on another machine than the
 * one that runs it.
 */
export function launchWarnings(config: TideConfig, path: string): string[] {
  const out: string[] = []
  const onPath = (program: string): boolean => findExecutable(program, path) !== undefined
  for (const g of config.groups) {
    if (g.provider !== 'local') continue
    if (g.routing.proxy === 'haproxy' && !onPath('haproxy')) out.push(`${g.group}: routing.proxy is haproxy, but there is no haproxy on PATH here (Debian: apt-get install haproxy)`)
    if (g.launch === undefined) continue
    const cwd = resolve(g.launch.cwd ?? '.')
    if (!isDirectory(cwd)) {
      out.push(`${g.group}: launch.cwd ${g.launch.cwd ?? '.'} is not a directory here`)
      continue
    }
    const program = g.launch.command[0] ?? ''
    const found = program.includes('/') ? isExecutable(isAbsolute(program) ? program : join(cwd, program)) : onPath(program)
    if (!found) out.push(`${g.group}: launch.command program "${program}" is not ${program.includes('/') ? 'an executable file' : 'on PATH'} here`)
  }
  return out
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory()
  } catch {
    return false
  }
}



/** A few lines per group: what an operator checks first after editing the file. */
export function summary(config: TideConfig, path: string): string {
  const lines = [`${path}: valid, ${config.groups.length} group${config.groups.length === 1 ? '' : 's'}`]
  for (const g of config.groups) lines.push(...groupLines(g))
  const q = config.global.quotas
  const quotas = [
    q.maxInstances === undefined ? '' : `${q.maxInstances} instances`,
    q.maxCpu === undefined ? '' : `${q.maxCpu} cpu`,
    q.maxMemoryMiB === undefined ? '' : `${q.maxMemoryMiB} MiB`,
  ].filter((s) => s !== '')
  if (quotas.length > 0) lines.push(`quotas: at most ${quotas.join(', ')}`)
  return `${lines.join('\n')}\n`
}

/** What an aws group drives, for validate's summary: `Auto Scaling group web in us-east-1, min/max the ASG's, types small=t3.small`. */
function awsText(a: NonNullable<GroupSpec['aws']>): string {
  const types = Object.entries(a.instanceTypes).map(([size, type]) => `${size}=${type}`)
  return [
    `Auto Scaling group ${a.autoScalingGroupName} in ${a.region}`,
    a.ownsMinMax ? 'min/max from replicas' : "min/max the ASG's",
    ...(a.albTargetGroupArn === undefined ? [] : ['requests from its target group']),
    ...(types.length === 0 ? [] : [`types ${types.join(', ')}`]),
  ].join(', ')
}

function groupLines(g: GroupSpec): string[] {
  const metrics = g.metrics.map(metricText)
  const parts = [
    `  ${g.group}: provider ${g.provider}, replicas ${g.replicas.min}..${g.replicas.max}, size ${g.size.cpu} cpu / ${g.size.memoryMiB} MiB, strategy ${g.strategy}`,
    `    metrics: ${metrics.length === 0 ? 'none' : metrics.join(', ')}`,
  ]
  if (g.aws !== undefined) parts.push(`    aws: ${awsText(g.aws)}`)
  if (g.slo !== undefined) parts.push(`    slo: ${sloText(g.slo)}`)
  if (g.steps.length > 0) {
    const external = g.steps.flatMap((r) => (r.metric.type === 'external' ? [`external ${r.metric.query} from ${describeSource(r.metric.source)}`] : []))
    parts.push(`    step rules: ${g.steps.length}${external.length === 0 ? '' : ` (${[...new Set(external)].join(', ')})`}`)
  }
  if (g.schedules.length > 0) parts.push(`    schedules: ${g.schedules.map((s) => s.name).join(', ')}`)
  if (g.predictive.mode !== 'off') parts.push(`    predictive: ${g.predictive.mode}`)
  if (g.vertical.mode !== 'off') parts.push(`    vertical: ${g.vertical.mode}`)
  return parts
}

/** e.g. 'p95 200 ms, budget 0.5 % of the time; 50 req/s per instance, headroom learned (40 % until an hour is learned)'. */
function sloText(slo: NonNullable<GroupSpec['slo']>): string {
  const objective = `p95 ${slo.latencyP95Ms} ms, budget ${slo.budgetPercent} % of the time`
  if (slo.instanceRps === undefined) return `${objective} (accounted; set instanceRps to scale on it)`
  const h = slo.headroom ?? defaultHeadroom
  const headroom = h.mode === 'fixed' ? `headroom fixed at ${h.percent} %` : `headroom learned (${h.percent} % until an hour is learned)`
  return `${objective}; ${slo.instanceRps} req/s per instance, ${headroom}${slo.fastScaleOut ? ', fast scale-out' : ''}`
}

function metricText(m: MetricSpec): string {
  switch (m.type) {
    case 'cpu':
      return `cpu ${m.target.averageUtilization}%`
    case 'memory':
      return 'averageUtilization' in m.target ? `memory ${m.target.averageUtilization}%` : `memory ${m.target.averageValueMiB} MiB`
    case 'rps':
      return `rps ${m.target.averageValue}/instance`
    case 'inflight':
      return `inflight ${m.target.averageValue}/instance`
    case 'disk':
    case 'network':
      return `${metricName(m)} ${m.target.averageValueMiBPerSecond} MiB/s/instance`
    case 'latency':
      return `p${m.percentile} latency ${m.target.valueMs} ms${m.class === undefined ? '' : ` (${m.class})`}`
    case 'external': {
      const target = 'averageValue' in m.target ? `${m.target.averageValue}/instance` : `${m.target.value}`
      const fallback = m.fallback === undefined ? 'hold on failure' : `fallback ${m.fallback.replicas} after ${m.fallback.failureThreshold} failures`
      return `external ${m.query} ${target} from ${describeSource(m.source)} (${fallback})`
    }
  }
}
