/**
 * `chart.svg` of `tide simulate --out DIR`: three panels over one time axis, rendered
 * with Vega.
 *
 * - requests/s: the offered load (bucket mean as a line, bucket min–max as a band, so a
 *   one-second spike is not averaged away) and the capacity within the SLO (bucket mean);
 * - instances billed (bucket mean), on its own scale: capacity is instances × N, so on a
 *   shared panel the two lines lie on top of each other;
 * - SLO violated: per bucket, a bar whose height is the share of the bucket's time in
 *   violation (0–100 %), so the red area is proportional to the violated time: 1 s in a
 *   600 s bucket is a bar 1/600 high, not a full one. Above the bars, a thin strip marks
 *   every bucket with any violation, so a single violated second can still be found.
 *   The requests/s panel is tinted behind the lines with an opacity proportional to the
 *   same share.
 *
 * Long runs are reduced to at most `CHART_MAX_POINTS` buckets of consecutive steps.
 * The legend labels are never truncated (Vega's default label limit cut them off).
 */
import * as vega from 'vega'
import type { SimulationResult, TickRow, TickSink } from './simulate.ts'

/** Plot width and panel heights, pixels. */
const LAYOUT = { width: 840, rps: 280, instances: 120, violation: 80, strip: 6, gap: 22 } as const

/**
 * At most this many buckets (points per series) in the chart: one per pixel of the plot's
 * width. Narrower buckets only add noise; the min–max band keeps what a bucket hides.
 */
export const CHART_MAX_POINTS: number = LAYOUT.width

/** The chart's data after downsampling; index i is bucket i. */
export interface ChartSeries {
  /** Bucket start, seconds from the trace start. */
  readonly t: Float64Array
  /** Seconds the bucket covers: steps in it × tick (the last bucket may be shorter). */
  readonly seconds: Float64Array
  /** Offered load, requests/s: mean, min and max over the bucket's steps. */
  readonly offeredRps: Float64Array
  readonly offeredMinRps: Float64Array
  readonly offeredMaxRps: Float64Array
  /** Capacity within the SLO, requests/s, bucket mean. */
  readonly capacityRps: Float64Array
  /** Instances billed, bucket mean. */
  readonly instancesBilled: Float64Array
  /** Share of the bucket's time in SLO violation, 0–1: violating steps ÷ steps in the bucket. */
  readonly violatedShare: Float64Array
  /** Seconds covered by a full bucket (steps per bucket × tick). */
  readonly bucketSeconds: number
}

/**
 * Collects the steps into at most `maxPoints` buckets as the simulation runs, keeping
 * per bucket the sums for the means, the min and max of load and the violating steps.
 * Memory is O(maxPoints) whatever the run's length.
 */
export class ChartBuilder implements TickSink {
  readonly #maxPoints: number
  #perBucket = 1
  #tickSeconds = 1
  #buckets = 0
  #t = new Float64Array(0)
  #counts = new Float64Array(0)
  #offered = new Float64Array(0)
  #offeredMin = new Float64Array(0)
  #offeredMax = new Float64Array(0)
  #capacity = new Float64Array(0)
  #billed = new Float64Array(0)
  #violating = new Float64Array(0)

  /** `maxPoints` (≥ 1) is the most buckets the chart will have; tests pass a small one. */
  constructor(maxPoints = CHART_MAX_POINTS) {
    if (!Number.isInteger(maxPoints) || maxPoints < 1) throw new RangeError(`maxPoints must be an integer ≥ 1, got ${maxPoints}`)
    this.#maxPoints = maxPoints
  }

  begin(steps: number, tickSeconds: number): void {
    this.#perBucket = Math.max(1, Math.ceil(steps / this.#maxPoints))
    this.#tickSeconds = tickSeconds
    const n = Math.ceil(steps / this.#perBucket)
    this.#buckets = n
    this.#t = new Float64Array(n)
    this.#counts = new Float64Array(n)
    this.#offered = new Float64Array(n)
    this.#offeredMin = new Float64Array(n).fill(Infinity)
    this.#offeredMax = new Float64Array(n).fill(-Infinity)
    this.#capacity = new Float64Array(n)
    this.#billed = new Float64Array(n)
    this.#violating = new Float64Array(n)
  }

  tick(row: Readonly<TickRow>): void {
    const b = Math.floor(Math.round(row.t / this.#tickSeconds) / this.#perBucket)
    if (b < 0 || b >= this.#buckets) return
    if (this.#counts[b] === 0) this.#t[b] = row.t
    this.#counts[b] = (this.#counts[b] ?? 0) + 1
    this.#offered[b] = (this.#offered[b] ?? 0) + row.offeredRps
    this.#offeredMin[b] = Math.min(this.#offeredMin[b] ?? Infinity, row.offeredRps)
    this.#offeredMax[b] = Math.max(this.#offeredMax[b] ?? -Infinity, row.offeredRps)
    this.#capacity[b] = (this.#capacity[b] ?? 0) + row.capacityRps
    this.#billed[b] = (this.#billed[b] ?? 0) + row.instancesBilled
    if (row.violation) this.#violating[b] = (this.#violating[b] ?? 0) + 1
  }

  /** The downsampled series. Buckets that received no step (a run cut short) are dropped. */
  series(): ChartSeries {
    const keep: number[] = []
    for (let i = 0; i < this.#buckets; i++) if ((this.#counts[i] ?? 0) > 0) keep.push(i)
    const pick = (f: (i: number, count: number) => number) => Float64Array.from(keep, (i) => f(i, this.#counts[i] ?? 1))
    return {
      t: pick((i) => this.#t[i] ?? 0),
      seconds: pick((_, count) => count * this.#tickSeconds),
      offeredRps: pick((i, count) => (this.#offered[i] ?? 0) / count),
      offeredMinRps: pick((i) => this.#offeredMin[i] ?? 0),
      offeredMaxRps: pick((i) => this.#offeredMax[i] ?? 0),
      capacityRps: pick((i, count) => (this.#capacity[i] ?? 0) / count),
      instancesBilled: pick((i, count) => (this.#billed[i] ?? 0) / count),
      violatedShare: pick((i, count) => (this.#violating[i] ?? 0) / count),
      bucketSeconds: this.#perBucket * this.#tickSeconds,
    }
  }

  /** Renders the chart as SVG text. */
  async toSvg(result: SimulationResult): Promise<string> {
    const view = new vega.View(vega.parse(chartSpec(this.series(), result)), { renderer: 'none' })
    return view.toSVG()
  }
}

/** The series names, as the legends show them (units are on the axes). */
export const CHART_SERIES = {
  loadMean: 'offered load, bucket mean',
  loadRange: 'offered load, bucket min–max',
  load: 'offered load',
  capacity: 'capacity within SLO',
  instances: 'instances billed',
  violatedShare: 'share of the bucket’s time violated',
  anyViolation: 'bucket with any violated second',
} as const

const COLORS = { load: '#1f77b4', loadRange: '#9ecae1', capacity: '#2ca02c', instances: '#ff7f0e', violation: '#d62728' } as const

/** The strip's legend symbol: a short vertical tick, as the strip draws (an SVG path in the symbol's unit square). */
const STRIP_SYMBOL = 'M-0.15,-0.5H0.15V0.5H-0.15Z'

/** A run of adjacent buckets drawn as one rectangle, x in axis units. */
interface Span {
  x0: number
  x1: number
  share: number
}

/**
 * Adjacent buckets merged into spans, x in axis units: runs of equal share (for the bars
 * and the tint, whose area stays Σ share × seconds) when `byShare`, else every run of
 * buckets with a violation (for the strip). Buckets with no violation are left out.
 */
export function violationSpans(s: ChartSeries, unit: number, byShare: boolean): Span[] {
  const spans: Span[] = []
  for (let i = 0; i < s.t.length; i++) {
    const share = s.violatedShare[i] ?? 0
    if (share === 0) continue
    const x0 = (s.t[i] ?? 0) / unit
    const x1 = x0 + (s.seconds[i] ?? 0) / unit
    const last = spans.at(-1)
    if (last && Math.abs(last.x1 - x0) < 1e-9 && (!byShare || last.share === share)) last.x1 = x1
    else spans.push({ x0, x1, share: byShare ? share : 1 })
  }
  return spans
}

/** The rows of the three panels' data sets, x in axis units. */
function chartData(s: ChartSeries, unit: number): vega.Data[] {
  const load: { x: number; mean: number; min: number; max: number; capacity: number; instances: number }[] = []
  for (let i = 0; i < s.t.length; i++) {
    load.push({
      x: (s.t[i] ?? 0) / unit,
      mean: s.offeredRps[i] ?? 0,
      min: s.offeredMinRps[i] ?? 0,
      max: s.offeredMaxRps[i] ?? 0,
      capacity: s.capacityRps[i] ?? 0,
      instances: s.instancesBilled[i] ?? 0,
    })
  }
  // The last point again at the run's end, so step lines and the band reach the right edge.
  const last = load.at(-1)
  const n = s.t.length
  if (last && n > 0) load.push({ ...last, x: ((s.t[n - 1] ?? 0) + (s.seconds[n - 1] ?? 0)) / unit })
  return [
    { name: 'load', values: load },
    { name: 'shares', values: violationSpans(s, unit, true) },
    { name: 'anyViolation', values: violationSpans(s, unit, false) },
  ]
}

/** A legend to the right of a panel, one entry per domain value of `scale`, never truncated. */
function legend(scale: string, title: string, shape: string): vega.Legend {
  return {
    fill: scale,
    stroke: scale,
    title,
    orient: 'right',
    labelLimit: 1000,
    titleLimit: 1000,
    labelFontSize: 11,
    symbolStrokeWidth: 2,
    encode: { symbols: { update: { shape: { signal: shape } } } },
  }
}

/** An x axis for a panel: labelled under the last panel only. */
function timeAxis(labels: boolean, title?: string): vega.Axis {
  return { orient: 'bottom', scale: 'x', labels, ticks: true, grid: true, gridOpacity: 0.5, ...(title === undefined ? {} : { title }) }
}

/** The requests/s panel: violation tint, load band, load mean, capacity. */
function rpsPanel(showBand: boolean): vega.GroupMark {
  const line = (field: string, color: string, interpolate: 'linear' | 'step-after'): vega.Mark => ({
    type: 'line',
    from: { data: 'load' },
    encode: { enter: { x: { scale: 'x', field: 'x' }, y: { scale: 'yRps', field }, stroke: { value: color }, strokeWidth: { value: 1.5 }, interpolate: { value: interpolate } } },
  })
  const marks: vega.Mark[] = [
    {
      type: 'rect',
      name: 'violationTint',
      from: { data: 'shares' },
      encode: {
        enter: {
          x: { scale: 'x', field: 'x0' },
          x2: { scale: 'x', field: 'x1' },
          y: { value: 0 },
          y2: { value: LAYOUT.rps },
          fill: { value: COLORS.violation },
          opacity: { signal: '0.3 * datum.share' },
        },
      },
    },
  ]
  if (showBand) {
    marks.push({
      type: 'area',
      name: 'loadRange',
      from: { data: 'load' },
      encode: {
        enter: {
          x: { scale: 'x', field: 'x' },
          y: { scale: 'yRps', field: 'max' },
          y2: { scale: 'yRps', field: 'min' },
          fill: { value: COLORS.loadRange },
          opacity: { value: 0.8 },
          interpolate: { value: 'step-after' },
        },
      },
    })
  }
  marks.push({ ...line('mean', COLORS.load, 'linear'), name: 'loadMean' }, { ...line('capacity', COLORS.capacity, 'step-after'), name: 'capacity' })
  return {
    type: 'group',
    name: 'rpsPanel',
    encode: { enter: { x: { value: 0 }, y: { value: 0 }, width: { value: LAYOUT.width }, height: { value: LAYOUT.rps } } },
    axes: [timeAxis(false), { orient: 'left', scale: 'yRps', title: 'requests/s', grid: true }],
    legends: [legend('colorRps', 'requests/s', `datum.value === '${CHART_SERIES.loadRange}' ? 'square' : 'stroke'`)],
    marks,
  }
}

/** The instances panel, below the requests/s panel. */
function instancesPanel(): vega.GroupMark {
  return {
    type: 'group',
    name: 'instancesPanel',
    encode: { enter: { x: { value: 0 }, y: { value: LAYOUT.rps + LAYOUT.gap }, width: { value: LAYOUT.width }, height: { value: LAYOUT.instances } } },
    axes: [timeAxis(false), { orient: 'left', scale: 'yInstances', title: 'instances', grid: true, tickCount: 4 }],
    legends: [legend('colorInstances', 'instances', "'stroke'")],
    marks: [
      {
        type: 'line',
        name: 'instances',
        from: { data: 'load' },
        encode: {
          enter: {
            x: { scale: 'x', field: 'x' },
            y: { scale: 'yInstances', field: 'instances' },
            stroke: { value: COLORS.instances },
            strokeWidth: { value: 1.5 },
            interpolate: { value: 'step-after' },
          },
        },
      },
    ],
  }
}

/** The SLO panel at the bottom: share bars, and the strip of buckets with any violation above them. */
function violationPanel(xTitle: string): vega.GroupMark {
  const y = LAYOUT.rps + LAYOUT.instances + 2 * LAYOUT.gap
  return {
    type: 'group',
    name: 'violationPanel',
    encode: { enter: { x: { value: 0 }, y: { value: y }, width: { value: LAYOUT.width }, height: { value: LAYOUT.violation } } },
    axes: [timeAxis(true, xTitle), { orient: 'left', scale: 'yShare', title: 'SLO violated', format: '.0%', values: [0, 0.5, 1], grid: true }],
    legends: [legend('colorViolation', 'SLO violated', `datum.value === '${CHART_SERIES.anyViolation}' ? '${STRIP_SYMBOL}' : 'square'`)],
    marks: [
      {
        type: 'rect',
        name: 'violationShare',
        from: { data: 'shares' },
        encode: {
          enter: {
            x: { scale: 'x', field: 'x0' },
            x2: { scale: 'x', field: 'x1' },
            y: { scale: 'yShare', field: 'share' },
            y2: { scale: 'yShare', value: 0 },
            fill: { value: COLORS.violation },
          },
        },
      },
      {
        type: 'rect',
        name: 'anyViolation',
        from: { data: 'anyViolation' },
        encode: {
          enter: {
            x: { scale: 'x', field: 'x0' },
            // At least 1 px wide, so a single violated second stays findable.
            x2: { signal: `max(scale('x', datum.x1), scale('x', datum.x0) + 1)` },
            y: { value: 0 },
            y2: { value: LAYOUT.strip - 1 },
            fill: { value: COLORS.violation },
            opacity: { value: 0.6 },
          },
        },
      },
    ],
  }
}

/** "5 s", "5 min", "1.5 h": the bucket length for the axis title. */
function duration(seconds: number): string {
  if (seconds < 120) return `${+seconds.toFixed(1)} s`
  if (seconds < 7200) return `${+(seconds / 60).toFixed(1)} min`
  return `${+(seconds / 3600).toFixed(1)} h`
}

/** The largest value in the arrays, or 1 when there is none above 0 (a scale needs a non-empty domain). */
function topOf(...arrays: Float64Array[]): number {
  let top = 0
  for (const a of arrays) for (const v of a) if (v > top) top = v
  return top > 0 ? top : 1
}

/**
 * The Vega spec of the chart (see the module comment). Time is in minutes for runs up to
 * 3 hours, else in hours. When a bucket holds one step, load has no band and its line is
 * named plain "offered load".
 */
export function chartSpec(s: ChartSeries, result: SimulationResult): vega.Spec {
  const hours = result.durationSeconds > 3 * 3600
  const unit = hours ? 3600 : 60
  const perStep = s.bucketSeconds <= result.tickSeconds
  const loadNames = perStep ? [CHART_SERIES.load] : [CHART_SERIES.loadMean, CHART_SERIES.loadRange]
  const xTitle = `${hours ? 'hours' : 'minutes'} from start · ${perStep ? `one point per ${duration(s.bucketSeconds)} step` : `one point per ${duration(s.bucketSeconds)} bucket: lines are bucket means`}`
  // A violated second must not read as 0.00 %.
  const pctValue = result.sloViolationRatio * 100
  const pct = pctValue === 0 || pctValue >= 0.01 ? pctValue.toFixed(2) : '< 0.01'
  const violatedSeconds = Math.round(result.sloViolationSeconds).toLocaleString('en-US')
  const subtitle = `${result.instanceHours.toFixed(1)} instance-hours (oracle ${result.oracleInstanceHours.toFixed(1)}, ×${result.costRatio.toFixed(2)}) · SLO violated ${pct} % of the time (${violatedSeconds} s) · ${Math.round(result.failedRequests).toLocaleString('en-US')} failed requests`
  const yShareTop = LAYOUT.strip + 2
  return {
    $schema: 'https://vega.github.io/schema/vega/v5.json',
    width: LAYOUT.width,
    height: LAYOUT.rps + LAYOUT.instances + LAYOUT.violation + 2 * LAYOUT.gap,
    padding: 12,
    autosize: 'pad',
    background: 'white',
    title: { text: `${result.trace} — policy ${result.policy}`, subtitle, subtitlePadding: 6, offset: 12 },
    data: chartData(s, unit),
    scales: [
      { name: 'x', type: 'linear', domain: [0, result.durationSeconds / unit], range: [0, LAYOUT.width], zero: true },
      // Explicit domains from 0: the load's max (not its mean) sets the top, and an empty run still has a scale.
      { name: 'yRps', type: 'linear', domain: [0, topOf(s.offeredMaxRps, s.capacityRps)], range: [LAYOUT.rps, 0], nice: true },
      { name: 'yInstances', type: 'linear', domain: [0, topOf(s.instancesBilled)], range: [LAYOUT.instances, 0], nice: true },
      { name: 'yShare', type: 'linear', domain: [0, 1], range: [LAYOUT.violation, yShareTop] },
      { name: 'colorRps', type: 'ordinal', domain: [...loadNames, CHART_SERIES.capacity], range: [COLORS.load, ...(perStep ? [] : [COLORS.loadRange]), COLORS.capacity] },
      { name: 'colorInstances', type: 'ordinal', domain: [CHART_SERIES.instances], range: [COLORS.instances] },
      { name: 'colorViolation', type: 'ordinal', domain: [CHART_SERIES.violatedShare, CHART_SERIES.anyViolation], range: [COLORS.violation, COLORS.violation] },
    ],
    marks: [rpsPanel(!perStep), instancesPanel(), violationPanel(xTitle)],
  }
}
