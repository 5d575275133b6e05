/**
 * Quality: every trace in ../shared/traces (/work/shared/traces) and the synthetic
 * ones in bench/traces, replayed through each policy (configured = tide's default
 * group, or the trace's own config; hpa; oracle). Per policy: instance-hours, the
 * ratio to the oracle, the share of seconds that violate the SLO, failed requests.
 * The goal for the default (DESIGN.md): cost within 15 % of the oracle, violations
 * under 0.5 % of the time, and better than the HPA on both at once. The notes say,
 * per trace, which goals are met and which are not.
 *
 * Instance capacity is chosen per trace so that it needs tens of instances: with
 * few instances every step of one instance is a large fraction of the cost, and the
 * M/M/1 model needs N well above ln(20)/SLO (15 req/s at 200 ms) for cpu to mean
 * what it does on a real server. The World Cup trace peaks at 86 req/s, so it is
 * replayed ×25 (its shape, not its volume, is what it contributes).
 */
import { existsSync, readdirSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { loadConfig } from '../src/spec/load.ts'
import type { GroupSpec } from '../src/spec/schema.ts'
import { resolveSimulationParams, type SimulationParams } from '../src/simulator/params.ts'
import { simulate, type SimulationResult } from '../src/simulator/simulate.ts'
import { loadTrace, type Trace } from '../src/core/trace.ts'
import { fmt, type Table } from './table.ts'

const here = dirname(fileURLToPath(import.meta.url))
const sharedTraces = join(here, '..', '..', 'shared', 'traces')
const benchTraces = join(here, 'traces')

/**
 * How each known trace is replayed; unknown CSVs get the defaults (N = 100, unscaled).
 * `why`: what in the trace a reactive policy cannot absorb, printed when the SLO or dominance goal is missed.
 * `history`: demand recorded before the trace, handed to the predictive policy (tide simulate --history).
 * `variants`: further configs to replay the same trace with, each its own block of rows.
 */
interface Setup {
  readonly instanceRps?: number
  readonly scale?: number
  readonly config?: string
  readonly history?: string
  readonly why?: string
  readonly predictiveWhy?: string
  readonly variants?: readonly Omit<Setup, 'variants'>[]
}

const setups: Readonly<Record<string, Setup>> = {
  'wc98-day53-105min.csv': {
    instanceRps: 100,
    scale: 25,
    why: 'per-second counts of a ~20 req/s trace carry about ±20 % Poisson noise, which replaying it ×25 keeps; every second above the 10 % headroom violates, and only the oracle, which sees each second coming, avoids that',
    predictiveWhy: '105 minutes is far less than the 2 days a forecaster needs, so the predictive policy stays out of the way (as the cloud forecasters do)',
  },
  'alibaba-8d-cpu-shape.csv': {
    instanceRps: 50,
    why: 'its 5-minute rows make every change an instant jump (229 of 2,242 rows rise by more than 20 %); each rise beyond the 10 % headroom violates for up to one sync period plus the 30 s start-up. Only more headroom (cost) or a forecast absorbs that',
    predictiveWhy: 'the forecaster needs 2 of the 8 days before it forecasts, and its 5-minute jumps are noise around the daily wave (backtest WAPE ≈ 13 % an hour ahead), which a forecast cannot place to the minute',
  },
  'daily-tides-week.csv': {
    instanceRps: 100,
    history: 'daily-tides-history.csv',
    why: 'about 20 bursts of +30 % for 3–8 minutes outrun the 30 s start-up unless the fleet carries 30 % headroom all the time, as the HPA\'s 60 % cpu target does at 1.4× the oracle\'s cost',
    predictiveWhy: 'every violation second of the reactive policy lies in one of 19 random +30 % bursts (generate.ts draws them with a fixed-seed generator); the tides themselves are forecast within a few percent and cause none. No forecast knows when a random burst comes, so halving the violations needs headroom, which costs more than 5 %',
  },
  'daily-deals-week.csv': {
    instanceRps: 100,
    history: 'daily-deals-history.csv',
    why: 'the deal drop at 20:00 triples the load within two minutes every day, and a reactive policy meets it one sync period plus the start-up late',
  },
  'flash-sale.csv': {
    config: 'flash-sale.tide.yaml',
    variants: [
      { config: 'flash-sale-campaign.tide.yaml' },
      {
        config: 'flash-sale-capped.tide.yaml',
        predictiveWhy: 'max 30 instances hold half the sale; a policy that only adds instances stops there, however early it starts. The mixed planner, which grows the size instead, is the answer here (next line)',
      },
    ],
  },
}

/** Files in bench/traces that are not traces of their own: histories and configs. */
const isHistory = (file: string): boolean => file.endsWith('-history.csv')

const POLICIES = ['configured', 'predictive', 'mixed', 'hpa', 'oracle'] as const

function scaled(trace: Trace, factor: number): Trace {
  return factor === 1 ? trace : { ...trace, rps: trace.rps.map((r) => r * factor) }
}

function traceFiles(): string[] {
  const files: string[] = []
  for (const dir of [sharedTraces, benchTraces]) {
    if (!existsSync(dir)) continue
    for (const f of readdirSync(dir).sort()) if (f.endsWith('.csv') && !isHistory(f)) files.push(join(dir, f))
  }
  return files
}

/** One sentence per goal for the configured policy on one trace. */
function verdict(name: string, c: SimulationResult, h: SimulationResult, why: string | undefined): string {
  const cost = c.costRatio <= 1.15
  const slo = c.sloViolationRatio < 0.005
  const cheaper = c.costHours < h.costHours
  const safer = c.sloViolationRatio <= h.sloViolationRatio
  const parts = [
    `cost ×${fmt(c.costRatio, 3)} of the oracle (goal ≤ 1.15: ${cost ? 'met' : 'NOT met'})`,
    `SLO violated ${fmt(c.sloViolationRatio * 100, 3)} % (goal < 0.5 %: ${slo ? 'met' : 'NOT met'})`,
    `vs hpa: ${cheaper ? 'cheaper' : 'NOT cheaper'} and ${safer ? 'no more violations' : 'MORE violations'} (hpa ×${fmt(h.costRatio, 3)}, ${fmt(h.sloViolationRatio * 100, 3)} %)`,
  ]
  const missed = !slo || !cheaper || !safer
  return `${name}: configured: ${parts.join('; ')}.${missed && why !== undefined ? ` Why: ${why}.` : ''}`
}

/** What the forecaster did, for the notes; '' without prediction. */
function forecastText(p: SimulationResult): string {
  const f = p.forecast
  if (f === undefined) return ''
  const live = f.liveWapePercent === undefined ? '' : `, live WAPE ${fmt(f.liveWapePercent, 1)} %`
  return ` Forecast: ${f.method ?? 'none (too little history)'}${live}; it led ${f.ticksLed} scale-outs.`
}

/**
 * The predictive goals (issue 4) against the reactive configured policy: violations at least
 * halved at no more than 5 % extra cost; and, where the config declares a campaign, none at all.
 */
function predictiveVerdict(name: string, c: SimulationResult, p: SimulationResult, campaign: boolean, why: string | undefined): string {
  const extra = c.costHours > 0 ? p.costHours / c.costHours - 1 : 0
  const halved = p.sloViolationSeconds <= c.sloViolationSeconds / 2
  const cheapEnough = extra <= 0.05
  const forecast = forecastText(p)
  const parts = [`violations ${c.sloViolationSeconds} s → ${p.sloViolationSeconds} s (goal: at least halved: ${halved ? 'met' : 'NOT met'})`, `cost ${extra >= 0 ? '+' : ''}${fmt(extra * 100, 1)} % (goal ≤ +5 %: ${cheapEnough ? 'met' : 'NOT met'})`]
  if (campaign) parts.push(`with the campaign declared: ${p.sloViolationSeconds === 0 ? 'no' : 'SOME'} SLO violation (goal: none: ${p.sloViolationSeconds === 0 ? 'met' : 'NOT met'})`)
  const missed = !halved || !cheapEnough || (campaign && p.sloViolationSeconds > 0)
  return `${name}: predictive: ${parts.join('; ')}.${forecast}${missed && why !== undefined ? ` Why: ${why}.` : ''}`
}

/** What the mixed planner did against horizontal scaling alone. */
function mixedVerdict(name: string, c: SimulationResult, m: SimulationResult): string {
  const extra = c.costHours > 0 ? m.costHours / c.costHours - 1 : 0
  const what = m.resizeActions === 0 ? 'never changed size (horizontal was as cheap)' : `${m.resizeActions} size change${m.resizeActions === 1 ? '' : 's'}`
  return `${name}: mixed: ${what}; violations ${c.sloViolationSeconds} s → ${m.sloViolationSeconds} s at ${extra >= 0 ? '+' : ''}${fmt(extra * 100, 1)} % cost.`
}

/** The configs a trace is replayed with: its setup, then each variant. */
function runsOf(setup: Setup): Omit<Setup, 'variants'>[] {
  return [setup, ...(setup.variants ?? []).map((v) => ({ ...setup, ...v }))]
}

/** One table row of a policy's result. */
function row(label: string, policy: string, params: SimulationParams, r: SimulationResult): (string | number)[] {
  return [
    label,
    policy,
    fmt(params.instanceRps),
    fmt(r.costHours, 1),
    `${fmt(r.costRatio, 3)}x`,
    `${fmt(r.sloViolationRatio * 100, 3)}%`,
    fmt(Math.round(r.failedRequests)),
    `${r.scaleOutActions}/${r.scaleInActions}${r.resizeActions > 0 ? `/${r.resizeActions}` : ''}`,
    r.maxInstances,
  ]
}

/** What a scenario replays: the group (from its config), parameters, the (scaled) trace and history, and its label. */
function inputsOf(file: string, setup: Omit<Setup, 'variants'>) {
  const group: GroupSpec | undefined = setup.config === undefined ? undefined : loadConfig(join(benchTraces, setup.config)).groups[0]
  const factor = setup.scale ?? 1
  return {
    group,
    params: resolveSimulationParams({ instanceRps: setup.instanceRps }, group),
    trace: scaled(loadTrace(file), factor),
    history: setup.history === undefined ? undefined : scaled(loadTrace(join(dirname(file), setup.history)), factor),
    label: `${basename(file)}${setup.scale === undefined ? '' : ` ×${setup.scale}`}${setup.config === undefined ? '' : ` (-c ${setup.config})`}`,
  }
}

/** Replays one trace with one setup through every policy: its rows and its notes. */
async function scenario(file: string, setup: Omit<Setup, 'variants'>): Promise<{ rows: (string | number)[][]; notes: string[] }> {
  const { group, params, trace, history, label } = inputsOf(file, setup)
  const rows: (string | number)[][] = []
  const results = new Map<string, SimulationResult>()
  for (const policy of POLICIES) {
    const r = await simulate({ trace, policy, params, ...(group === undefined ? {} : { group }), ...(history === undefined ? {} : { history }) })
    results.set(policy, r)
    const first = policy === 'configured' ? label : policy === 'predictive' && setup.history !== undefined ? `  (history: ${setup.history})` : ''
    rows.push(row(first, policy, params, r))
  }
  const notes: string[] = []
  const c = results.get('configured')
  const h = results.get('hpa')
  const p = results.get('predictive')
  const m = results.get('mixed')
  if (c && h) notes.push(verdict(label, c, h, setup.why))
  const campaign = group?.schedules.some((s) => s.campaign !== undefined) ?? false
  if (c && p) notes.push(predictiveVerdict(label, c, p, campaign, setup.predictiveWhy))
  if (c && m) notes.push(mixedVerdict(label, c, m))
  return { rows, notes }
}

export async function run(): Promise<Table[]> {
  const rows: (string | number)[][] = []
  const notes: string[] = []
  for (const file of traceFiles()) {
    for (const setup of runsOf(setups[basename(file)] ?? {})) {
      const s = await scenario(file, setup)
      rows.push(...s.rows)
      notes.push(...s.notes)
    }
  }
  return [
    {
      title: 'Quality: cost and SLO violations per policy and trace (1 s steps, start-up 30 s, SLO p95 200 ms, timeout 10 s)',
      columns: ['trace', 'policy', 'N req/s', 'cost inst-h', 'vs oracle', 'SLO violated', 'failed req', 'out/in/resize', 'max inst'],
      rows,
      notes: [
        "configured = tide's default group (src/simulator/default-group.ts), or the trace's own config; predictive = configured + forecastAndScale (2 % buffer); mixed = configured + the mixed planner over a 0.5×–4× ladder priced by cpu; hpa = Kubernetes HPA defaults at 60 % cpu; oracle = perfect foresight with default-size instances and no max.",
        'cost inst-h = instance-hours weighted by size price, in default-size instances (equal to instance-hours when nothing resizes).',
        ...notes,
      ],
    },
  ]
}
