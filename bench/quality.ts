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
import { resolveSimulationParams } from '../src/simulator/params.ts'
import { simulate, type SimulationResult } from '../src/simulator/simulate.ts'
import { loadTrace, type Trace } from '../src/simulator/trace.ts'
import { fmt, type Table } from './table.ts'

const here = dirname(fileURLToPath(import.meta.url))
const sharedTraces = join(here, '..', '..', 'shared', 'traces')
const benchTraces = join(here, 'traces')

/** How each known trace is replayed; unknown CSVs get the defaults (N = 100, unscaled). */
/** `why`: what in the trace a reactive policy cannot absorb, printed when the SLO or dominance goal is missed. */
const setups: Readonly<Record<string, { instanceRps?: number; scale?: number; config?: string; why?: string }>> = {
  'wc98-day53-105min.csv': {
    instanceRps: 100,
    scale: 25,
    why: 'per-second counts of a ~20 req/s trace carry about ±20 % Poisson noise, which replaying it ×25 keeps; every second above the 10 % headroom violates, and only the oracle, which sees each second coming, avoids that',
  },
  'alibaba-8d-cpu-shape.csv': {
    instanceRps: 50,
    why: 'its 5-minute rows make every change an instant jump (229 of 2,242 rows rise by more than 20 %); each rise beyond the 10 % headroom violates for up to one sync period plus the 30 s start-up. Only more headroom (cost) or a forecast (issue 4) absorbs that',
  },
  'daily-tides-week.csv': {
    instanceRps: 100,
    why: 'about 20 bursts of +30 % for 3–8 minutes outrun the 30 s start-up unless the fleet carries 30 % headroom all the time, as the HPA\'s 60 % cpu target does at 1.4× the oracle\'s cost',
  },
  'flash-sale.csv': { config: 'flash-sale.tide.yaml' },
}

const POLICIES = ['configured', 'hpa', 'oracle'] as const

function scaled(trace: Trace, factor: number): Trace {
  return factor === 1 ? trace : { ...trace, rps: trace.rps.map((r) => r * factor) }
}

function traceFiles(): string[] {
  const files: string[] = []
  for (const dir of [sharedTraces, benchTraces]) {
    if (!existsSync(dir)) continue
    for (const f of readdirSync(dir).sort()) if (f.endsWith('.csv')) files.push(join(dir, f))
  }
  return files
}

/** One sentence per goal for the configured policy on one trace. */
function verdict(name: string, c: SimulationResult, h: SimulationResult, why: string | undefined): string {
  const cost = c.costRatio <= 1.15
  const slo = c.sloViolationRatio < 0.005
  const cheaper = c.instanceHours < h.instanceHours
  const safer = c.sloViolationRatio <= h.sloViolationRatio
  const parts = [
    `cost ×${fmt(c.costRatio, 3)} of the oracle (goal ≤ 1.15: ${cost ? 'met' : 'NOT met'})`,
    `SLO violated ${fmt(c.sloViolationRatio * 100, 3)} % (goal < 0.5 %: ${slo ? 'met' : 'NOT met'})`,
    `vs hpa: ${cheaper ? 'cheaper' : 'NOT cheaper'} and ${safer ? 'no more violations' : 'MORE violations'} (hpa ×${fmt(h.costRatio, 3)}, ${fmt(h.sloViolationRatio * 100, 3)} %)`,
  ]
  const missed = !slo || !cheaper || !safer
  return `${name}: ${parts.join('; ')}.${missed && why !== undefined ? ` Why: ${why}.` : ''}`
}

export async function run(): Promise<Table[]> {
  const rows: (string | number)[][] = []
  const notes: string[] = []
  for (const file of traceFiles()) {
    const name = basename(file)
    const setup = setups[name] ?? {}
    const group: GroupSpec | undefined = setup.config === undefined ? undefined : loadConfig(join(benchTraces, setup.config)).groups[0]
    const params = resolveSimulationParams({ instanceRps: setup.instanceRps }, group)
    const trace = scaled(loadTrace(file), setup.scale ?? 1)
    const label = `${name}${setup.scale === undefined ? '' : ` ×${setup.scale}`}${setup.config === undefined ? '' : ` (-c ${setup.config})`}`
    const results = new Map<string, SimulationResult>()
    for (const policy of POLICIES) {
      const r = await simulate({ trace, policy, params, ...(group === undefined ? {} : { group }) })
      results.set(policy, r)
      rows.push([
        policy === 'configured' ? label : '',
        policy,
        fmt(params.instanceRps),
        fmt(r.instanceHours, 1),
        `${fmt(r.costRatio, 3)}x`,
        `${fmt(r.sloViolationRatio * 100, 3)}%`,
        fmt(Math.round(r.failedRequests)),
        `${r.scaleOutActions}/${r.scaleInActions}`,
        r.maxInstances,
      ])
    }
    const c = results.get('configured')
    const h = results.get('hpa')
    if (c && h) notes.push(verdict(label, c, h, setup.why))
  }
  return [
    {
      title: 'Quality: instance-hours and SLO violations per policy and trace (1 s steps, start-up 30 s, SLO p95 200 ms, timeout 10 s)',
      columns: ['trace', 'policy', 'N req/s', 'instance-h', 'vs oracle', 'SLO violated', 'failed req', 'out/in', 'max inst'],
      rows,
      notes: [
        'configured = tide\'s default group (src/simulator/default-group.ts), or the trace\'s own config; hpa = Kubernetes HPA defaults at 60 % cpu; oracle = perfect foresight.',
        ...notes,
      ],
    },
  ]
}
