/**
 * What `tide simulate --out DIR` writes: `ticks.csv`, one row per simulation step,
 * streamed to disk while the simulation runs (a month of 1 s steps is 2.6 million
 * rows, too many to hold as strings), and `chart.svg`, load, capacity and
 * instances over time with SLO-violation periods shaded, rendered with Vega.
 * Long runs are reduced to at most `CHART_MAX_POINTS` points per series by
 * averaging consecutive steps into buckets; a bucket is shaded when any of its
 * steps violated the SLO.
 */
import { closeSync, mkdirSync, openSync, writeFileSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import * as vega from 'vega'
import { FileError } from '../errors.ts'
import type { SimulationResult, TickRow, TickSink } from './simulate.ts'

/** The header of ticks.csv; a contract other tools read. */
export const TICKS_CSV_HEADER = 't,offered_rps,served_rps,failed_rps,instances_billed,instances_in_service,capacity_rps,p95_ms,desired'

/** At most this many points per series in the chart. */
export const CHART_MAX_POINTS = 2000

/** Passes every step to several sinks. */
export function teeSinks(...sinks: TickSink[]): TickSink {
  return {
    begin: (steps, tickSeconds) => {
      for (const s of sinks) s.begin?.(steps, tickSeconds)
    },
    tick: (row) => {
      for (const s of sinks) s.tick(row)
    },
  }
}

/** Rounds to 3 decimals for the CSV: plenty for rates and milliseconds, and far shorter. */
function r3(x: number): string {
  return String(Math.round(x * 1000) / 1000)
}

/**
 * Streams ticks.csv to `path`, buffering about 64 KB per write. Call `close()` when
 * the simulation is done. Throws FileError naming the path when it cannot write.
 */
export class TicksCsvWriter implements TickSink {
  readonly #path: string
  readonly #fd: number
  #buffer = TICKS_CSV_HEADER + '\n'

  constructor(path: string) {
    this.#path = path
    try {
      this.#fd = openSync(path, 'w')
    } catch (err) {
      throw new FileError(path, 'write', err)
    }
  }

  tick(row: Readonly<TickRow>): void {
    this.#buffer += `${r3(row.t)},${r3(row.offeredRps)},${r3(row.servedRps)},${r3(row.failedRps)},${row.instancesBilled},${row.instancesInService},${r3(row.capacityRps)},${r3(row.p95Ms)},${row.desired}\n`
    if (this.#buffer.length >= 65_536) this.#flush()
  }

  close(): void {
    this.#flush()
    closeSync(this.#fd)
  }

  #flush(): void {
    try {
      writeSync(this.#fd, this.#buffer)
    } catch (err) {
      throw new FileError(this.#path, 'write', err)
    }
    this.#buffer = ''
  }
}

/** The chart's data after downsampling: bucket means, and which buckets had a violation. */
export interface ChartSeries {
  /** Bucket start, seconds from the trace start. */
  readonly t: Float64Array
  readonly offeredRps: Float64Array
  readonly capacityRps: Float64Array
  readonly instancesBilled: Float64Array
  readonly violated: Uint8Array
  /** Seconds covered by one bucket. */
  readonly bucketSeconds: number
}

/** Collects the steps into at most CHART_MAX_POINTS buckets as the simulation runs. */
export class ChartBuilder implements TickSink {
  #perBucket = 1
  #tickSeconds = 1
  #buckets = 0
  #t = new Float64Array(0)
  #offered = new Float64Array(0)
  #capacity = new Float64Array(0)
  #billed = new Float64Array(0)
  #counts = new Float64Array(0)
  #violated = new Uint8Array(0)

  begin(steps: number, tickSeconds: number): void {
    this.#perBucket = Math.max(1, Math.ceil(steps / CHART_MAX_POINTS))
    this.#tickSeconds = tickSeconds
    this.#buckets = Math.ceil(steps / this.#perBucket)
    this.#t = new Float64Array(this.#buckets)
    this.#offered = new Float64Array(this.#buckets)
    this.#capacity = new Float64Array(this.#buckets)
    this.#billed = new Float64Array(this.#buckets)
    this.#counts = new Float64Array(this.#buckets)
    this.#violated = new Uint8Array(this.#buckets)
  }

  tick(row: Readonly<TickRow>): void {
    const b = Math.floor(Math.round(row.t / this.#tickSeconds) / this.#perBucket)
    if (b < 0 || b >= this.#buckets) return
    if (this.#counts[b] === 0) this.#t[b] = row.t
    this.#counts[b] = (this.#counts[b] ?? 0) + 1
    this.#offered[b] = (this.#offered[b] ?? 0) + row.offeredRps
    this.#capacity[b] = (this.#capacity[b] ?? 0) + row.capacityRps
    this.#billed[b] = (this.#billed[b] ?? 0) + row.instancesBilled
    if (row.violation) this.#violated[b] = 1
  }

  /** The downsampled series (bucket means). */
  series(): ChartSeries {
    const n = this.#buckets
    const mean = (sums: Float64Array) => sums.map((s, i) => ((this.#counts[i] ?? 0) > 0 ? s / (this.#counts[i] ?? 1) : 0))
    return {
      t: this.#t.slice(0, n),
      offeredRps: mean(this.#offered),
      capacityRps: mean(this.#capacity),
      instancesBilled: mean(this.#billed),
      violated: this.#violated.slice(0, n),
      bucketSeconds: this.#perBucket * this.#tickSeconds,
    }
  }

  /** Renders the chart as SVG text. */
  async toSvg(result: SimulationResult): Promise<string> {
    const view = new vega.View(vega.parse(chartSpec(this.series(), result)), { renderer: 'none' })
    return view.toSVG()
  }
}

const COLORS = { load: '#1f77b4', capacity: '#2ca02c', instances: '#ff7f0e', violation: '#d62728' } as const

/**
 * The Vega spec of the chart: requests/s (offered load, capacity within the SLO) on
 * the left axis, instances billed on the right, SLO-violation buckets shaded red.
 * Time is in minutes for runs up to 3 hours, else in hours.
 */
export function chartSpec(s: ChartSeries, result: SimulationResult): vega.Spec {
  const hours = result.durationSeconds > 3 * 3600
  const unit = hours ? 3600 : 60
  const rps: { x: number; series: string; value: number }[] = []
  const instances: { x: number; value: number }[] = []
  const violations: { x0: number; x1: number }[] = []
  for (let i = 0; i < s.t.length; i++) {
    const x = (s.t[i] ?? 0) / unit
    rps.push({ x, series: 'offered load (req/s)', value: s.offeredRps[i] ?? 0 }, { x, series: 'capacity within SLO (req/s)', value: s.capacityRps[i] ?? 0 })
    instances.push({ x, value: s.instancesBilled[i] ?? 0 })
    if (s.violated[i] === 1) {
      const last = violations.at(-1)
      const x1 = x + s.bucketSeconds / unit
      if (last && Math.abs(last.x1 - x) < 1e-9) last.x1 = x1
      else violations.push({ x0: x, x1 })
    }
  }
  // Keep short violations visible: at least 2 px of the 960 px plot.
  const minWidth = result.durationSeconds / unit / 480
  for (const v of violations) v.x1 = Math.max(v.x1, v.x0 + minWidth)
  const pct = (result.sloViolationRatio * 100).toFixed(2)
  const subtitle = `${result.instanceHours.toFixed(1)} instance-hours (oracle ${result.oracleInstanceHours.toFixed(1)}, ×${result.costRatio.toFixed(2)}) · SLO violated ${pct}% of the time · ${Math.round(result.failedRequests)} failed requests`
  return {
    $schema: 'https://vega.github.io/schema/vega/v5.json',
    width: 960,
    height: 380,
    padding: 12,
    background: 'white',
    title: { text: `${result.trace} — policy ${result.policy}`, subtitle },
    data: [
      { name: 'rps', values: rps },
      { name: 'instances', values: instances },
      { name: 'violations', values: violations },
    ],
    scales: [
      { name: 'x', type: 'linear', domain: [0, result.durationSeconds / unit], range: 'width', zero: true },
      { name: 'yRps', type: 'linear', domain: { data: 'rps', field: 'value' }, range: 'height', nice: true, zero: true },
      { name: 'yInstances', type: 'linear', domain: { data: 'instances', field: 'value' }, range: 'height', nice: true, zero: true },
      {
        name: 'color',
        type: 'ordinal',
        domain: ['offered load (req/s)', 'capacity within SLO (req/s)', 'instances billed', 'SLO violated'],
        range: [COLORS.load, COLORS.capacity, COLORS.instances, COLORS.violation],
      },
    ],
    axes: [
      { orient: 'bottom', scale: 'x', title: hours ? 'hours from start' : 'minutes from start', grid: false },
      { orient: 'left', scale: 'yRps', title: 'requests/s', grid: true },
      { orient: 'right', scale: 'yInstances', title: 'instances billed' },
    ],
    legends: [{ stroke: 'color', fill: 'color', orient: 'top', direction: 'horizontal', symbolType: 'stroke' }],
    marks: [
      {
        type: 'rect',
        name: 'violationShading',
        from: { data: 'violations' },
        encode: {
          enter: {
            x: { scale: 'x', field: 'x0' },
            x2: { scale: 'x', field: 'x1' },
            y: { value: 0 },
            y2: { signal: 'height' },
            fill: { value: COLORS.violation },
            opacity: { value: 0.18 },
          },
        },
      },
      {
        type: 'group',
        from: { facet: { name: 'rpsSeries', data: 'rps', groupby: 'series' } },
        marks: [
          {
            type: 'line',
            from: { data: 'rpsSeries' },
            encode: {
              enter: {
                x: { scale: 'x', field: 'x' },
                y: { scale: 'yRps', field: 'value' },
                stroke: { scale: 'color', field: 'series' },
                strokeWidth: { value: 1.5 },
              },
            },
          },
        ],
      },
      {
        type: 'line',
        name: 'instanceLine',
        from: { data: 'instances' },
        encode: {
          enter: {
            x: { scale: 'x', field: 'x' },
            y: { scale: 'yInstances', field: 'value' },
            stroke: { value: COLORS.instances },
            strokeWidth: { value: 1.5 },
            strokeDash: { value: [5, 3] },
            interpolate: { value: 'step-after' },
          },
        },
      },
    ],
  }
}

/**
 * Sinks for `--out DIR`: the CSV writer and the chart builder. `finish()` closes
 * the CSV and writes chart.svg; returns the paths written. Creates DIR if needed.
 */
export function reportSinks(outDir: string): { sink: TickSink; finish(result: SimulationResult): Promise<string[]> } {
  try {
    mkdirSync(outDir, { recursive: true })
  } catch (err) {
    throw new FileError(outDir, 'write', err)
  }
  const csvPath = join(outDir, 'ticks.csv')
  const chartPath = join(outDir, 'chart.svg')
  const csv = new TicksCsvWriter(csvPath)
  const chart = new ChartBuilder()
  return {
    sink: teeSinks(csv, chart),
    async finish(result) {
      csv.close()
      const svg = await chart.toSvg(result)
      try {
        writeFileSync(chartPath, svg)
      } catch (err) {
        throw new FileError(chartPath, 'write', err)
      }
      return [csvPath, chartPath]
    },
  }
}
