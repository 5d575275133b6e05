/**
 * `tide simulate --trace FILE [-c tide.yaml] [--policy configured|hpa|predictive|mixed|oracle]
 *  [--instance-rps N] [--startup-seconds S] [--slo-p95-ms MS] [--tick-seconds S]
 *  [--history FILE] [--out DIR] [--json]` — replays a traffic trace through a policy with a virtual
 * clock and prints how it did. This command line and its JSON are a contract that
 * other tools call: add to them, never rename.
 *
 * Parameters: flags override the group's `simulation:` section, which overrides the
 * defaults (instance-rps 100, startup 30 s, SLO p95 200 ms, request timeout 10 s,
 * tick 1 s). With `-c`, the first group of the file is simulated; without it, tide's
 * default group (src/simulator/default-group.ts).
 */
import { UsageError, type Command, type CommandIo, type ParsedArgs } from './args.ts'
import { loadConfig } from '../spec/load.ts'
import type { GroupSpec } from '../spec/schema.ts'
import { simulationPolicies, simulationPolicyNames } from '../simulator/baselines.ts'
import { resolveSimulationParams, type SimulationParams } from '../simulator/params.ts'
import { reportSinks } from '../simulator/report.ts'
import { simulate, type SimulationResult } from '../simulator/simulate.ts'
import { loadTrace, traceDurationSeconds, type Trace } from '../core/trace.ts'

/** Refuse runs with more steps than this (a month at 1 s is 2.6 million): a mistyped --tick-seconds would run for hours. */
const MAX_STEPS = 50_000_000

const COMMAND_PATH = 'tide simulate'

/** The `simulate` command. */
export const command: Command = {
  summary: 'replay a traffic trace through a scaling policy and score it against the oracle',
  usage: '--trace FILE [-c FILE] [--policy NAME] [--instance-rps N] [--startup-seconds S] [--slo-p95-ms MS] [--tick-seconds S] [--history FILE] [--out DIR] [--json]',
  description: [
    'Runs the real controller with a virtual clock and simulated instances, and reports instance-hours, SLO violations, failed requests and scaling actions, beside the perfect-foresight oracle.',
    `Policies: ${simulationPolicyNames.map((n) => `${n} (${simulationPolicies[n]?.description ?? ''})`).join('; ')}.`,
    'Workload model: each ready instance is an M/M/1 queue whose service rate is calibrated so that its p95 equals the SLO at --instance-rps; load beyond what the instances serve queues and fails after the request timeout (simulation.requestTimeoutSeconds, default 10 s).',
    'Flags override the group\'s simulation: section; defaults: --instance-rps 100, --startup-seconds 30, --slo-p95-ms 200, --tick-seconds 1.',
  ].join('\n\n'),
  examples: [
    { command: 'tide simulate --trace traffic.csv --instance-rps 50', does: 'score tide\'s default group on a trace, an instance serving 50 req/s at the SLO' },
    { command: 'tide simulate --trace traffic.csv -c tide.yaml --policy hpa --out out/', does: 'the HPA\'s rules on your group; out/ gets ticks.csv and chart.svg' },
    { command: 'tide simulate --trace week.csv --history month.csv -c tide.yaml --policy predictive --json', does: 'predictive scaling that learned from recorded demand; the summary as JSON' },
  ],
  flags: {
    trace: { kind: 'file', description: 'the trace CSV: time (seconds, unix seconds or ISO-8601), requests per second', required: true },
    config: { kind: 'file', short: 'c', description: 'a tide.yaml; its first group is simulated (default: tide\'s default group)' },
    policy: { kind: 'string', description: 'which policy to replay', choices: simulationPolicyNames, defaultText: 'configured', valueName: 'NAME' },
    'instance-rps': { kind: 'positive-number', max: 1e9, description: 'requests/s one default-size instance serves with p95 at the SLO', defaultText: '100', valueName: 'N' },
    'startup-seconds': { kind: 'non-negative-number', max: 86_400, description: 'seconds from launch until an instance serves', defaultText: '30', valueName: 'S' },
    'slo-p95-ms': { kind: 'positive-number', max: 3_600_000, description: 'the p95 response-time objective in milliseconds', defaultText: '200', valueName: 'MS' },
    'tick-seconds': { kind: 'positive-number', max: 3_600, description: 'the simulation step in seconds (the controller keeps its sync period)', defaultText: '1', valueName: 'S' },
    history: { kind: 'file', description: 'demand recorded before the trace (same CSV format), for the predictive policy to learn from; relative times end where the trace starts' },
    out: { kind: 'output', description: 'a directory to write ticks.csv (one row per step) and chart.svg into', valueName: 'DIR' },
    json: { kind: 'boolean', description: 'print exactly one JSON object with the summary on stdout' },
  },
  async run(args, io) {
    const group = configGroup(args)
    const params = paramsFrom(args, group)
    const trace = loadTrace(args.requiredString('trace'))
    const history = historyOf(args)
    const steps = checkedSteps(trace, params)
    const json = args.boolean('json')
    const outDir = args.string('out')
    const report = outDir === undefined ? undefined : reportSinks(outDir)
    const progress = !json && io.stderr.isTTY === true && steps >= 100_000 ? progressPrinter(io) : undefined
    const result = await simulate({
      trace,
      policy: args.string('policy') ?? 'configured',
      params,
      ...(group === undefined ? {} : { group }),
      ...(history === undefined ? {} : { history }),
      ...(report === undefined ? {} : { sink: report.sink }),
      ...(progress === undefined ? {} : { onProgress: progress }),
    })
    if (progress !== undefined) io.stderr.write('\r\x1b[K')
    const files = report === undefined ? [] : await report.finish(result)
    io.stdout.write(json ? `${JSON.stringify(files.length > 0 ? { ...result, files } : result)}\n` : summaryText(result, params, files))
    return 0
  },
}

/** The --history trace, or undefined without the flag. */
function historyOf(args: ParsedArgs): Trace | undefined {
  const path = args.string('history')
  return path === undefined ? undefined : loadTrace(path)
}

/** The number of steps the run takes; a usage error past MAX_STEPS. */
function checkedSteps(trace: Trace, params: SimulationParams): number {
  const steps = Math.ceil(traceDurationSeconds(trace) / params.tickSeconds)
  if (steps > MAX_STEPS) {
    throw new UsageError(COMMAND_PATH, `--tick-seconds ${params.tickSeconds}: the trace would take ${steps} steps (at most ${MAX_STEPS}); use a longer tick`)
  }
  return steps
}

/** The first group of `-c`, or undefined without it. */
function configGroup(args: ParsedArgs): GroupSpec | undefined {
  const path = args.string('config')
  if (path === undefined) return undefined
  const config = loadConfig(path)
  const first = config.groups[0]
  if (first === undefined) throw new UsageError(COMMAND_PATH, `-c ${path}: the file defines no group to simulate`)
  return first
}

function paramsFrom(args: ParsedArgs, group: GroupSpec | undefined): SimulationParams {
  return resolveSimulationParams(
    {
      instanceRps: args.number('instance-rps'),
      startupSeconds: args.number('startup-seconds'),
      sloP95Ms: args.number('slo-p95-ms'),
      tickSeconds: args.number('tick-seconds'),
    },
    group,
  )
}

/** `\r simulating… 42%` on a terminal, at most once per percent. */
function progressPrinter(io: CommandIo): (fraction: number) => void {
  let shown = -1
  return (fraction) => {
    const pct = Math.floor(fraction * 100)
    if (pct === shown) return
    shown = pct
    io.stderr.write(`\rsimulating… ${pct}%`)
  }
}

/** The readable summary: what an operator compares between two runs. */
export function summaryText(r: SimulationResult, p: SimulationParams, files: readonly string[]): string {
  const n = (x: number, digits = 0) => x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })
  const span = r.durationSeconds >= 2 * 86400 ? `${n(r.durationSeconds / 86400, 1)} days` : r.durationSeconds >= 3 * 3600 ? `${n(r.durationSeconds / 3600, 1)} h` : `${n(r.durationSeconds / 60, 1)} min`
  const lines = [
    `${r.trace}: policy ${r.policy}, group ${r.group}, ${span} in ${p.tickSeconds} s steps`,
    `  model     ${n(p.instanceRps, 1)} req/s per instance at p95 ${n(p.sloP95Ms)} ms; start-up ${n(p.startupSeconds)} s; timeout ${n(p.requestTimeoutSeconds)} s`,
    r.costHours === r.instanceHours
      ? `  cost      ${n(r.instanceHours, 2)} instance-hours (oracle ${n(r.oracleInstanceHours, 2)}, ×${n(r.costRatio, 3)})`
      : `  cost      ${n(r.costHours, 2)} default-size instance-hours by price, ${n(r.instanceHours, 2)} instance-hours (oracle ${n(r.oracleInstanceHours, 2)}, ×${n(r.costRatio, 3)}); ${n(r.resizeActions)} resizes`,
    `  SLO       violated ${n(r.sloViolationRatio * 100, 2)} % of the time (${n(r.sloViolationSeconds)} s); p95 of step p95s ${n(r.p95Ms)} ms`,
    `  requests  ${n(r.totalRequests)} offered, ${n(r.failedRequests)} failed`,
    `  scaling   ${n(r.scaleOutActions)} scale-outs, ${n(r.scaleInActions)} scale-ins; at most ${n(r.maxInstances)} instances`,
  ]
  const f = r.forecast
  if (f !== undefined) {
    const accuracy = f.liveWapePercent === undefined ? 'no live accuracy yet' : `live WAPE ${n(f.liveWapePercent, 1)} % over ${n(f.scoredBuckets)} buckets`
    lines.push(`  forecast  ${f.method ?? 'none (too little history)'}; ${accuracy}; ${n(f.fullFits)} full fits, ${n(f.refits)} refits; drove ${n(f.ticksLed)} scale-outs`)
  }
  if (files.length > 0) lines.push(`  wrote     ${files.join(', ')}`)
  return `${lines.join('\n')}\n`
}
