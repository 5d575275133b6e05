/**
 * Time-series charts with uPlot (loaded as a classic script: the global `uPlot`). A chart is
 * made once per view and fed new data on every refresh (`update`), so refreshing costs a
 * setData, not a new canvas. Series come from GET /groups/{name}/metrics, whose series have
 * their own buckets (an empty bucket is left out): `alignSeries` puts them on one x axis with
 * gaps as null. Decision events are drawn as markers: a dashed line on the canvas and, over it,
 * an element whose explanation shows on hover.
 *
 * Each chart's element carries what a test (or a curious operator in devtools) can read
 * without the canvas: `data-points` (non-null values drawn) and `data-last-at` (the newest
 * bucket, epoch ms).
 */

/** @typedef {{ atMs: number, avg: number }} Point */
/** @typedef {{ key: string, label: string, stroke: string, dash?: number[], stepped?: boolean, fill?: string, scale?: string }} SeriesSpec */
/** @typedef {{ atMs: number, kind: string, explanation: string }} Marker */

/**
 * One x axis (seconds, as uPlot takes it) for every series, each series' values on it, null
 * where it has no bucket.
 * @param {Record<string, { points: Point[] } | undefined>} series
 * @param {readonly string[]} keys
 * @returns {{ xs: number[], ys: (number|null)[][], points: number }}
 */
export function alignSeries(series, keys) {
  const times = new Set()
  for (const k of keys) for (const p of series[k]?.points ?? []) times.add(p.atMs)
  const xsMs = [...times].sort((a, b) => a - b)
  const index = new Map(xsMs.map((t, i) => [t, i]))
  let points = 0
  const ys = keys.map((k) => {
    /** @type {(number|null)[]} */
    const column = new Array(xsMs.length).fill(null)
    for (const p of series[k]?.points ?? []) {
      const i = index.get(p.atMs)
      if (i !== undefined && Number.isFinite(p.avg)) {
        column[i] = p.avg
        points++
      }
    }
    return column
  })
  return { xs: xsMs.map((t) => t / 1000), ys, points }
}

const KIND_COLOURS = { scale: '#d9480f', hold: '#868e96', skip: '#e8590c' }

/**
 * A chart in `host`: a title, the uPlot canvas and the decision markers.
 * @param {HTMLElement} host
 * @param {{ title: string, unit: string, series: SeriesSpec[], band?: [string, string], height?: number }} spec
 */
export function timeChart(host, spec) {
  const box = document.createElement('section')
  box.className = 'chart'
  box.dataset.chart = spec.title
  const h = document.createElement('h3')
  h.textContent = spec.title
  const plot = document.createElement('div')
  box.append(h, plot)
  host.append(box)
  /** @type {Marker[]} */
  let markers = []
  /** @type {HTMLElement[]} */
  let markerEls = []
  const tip = document.createElement('div')
  tip.className = 'marker-tip'
  tip.hidden = true

  const fmt = (/** @type {number|null} */ v) => (v === null || v === undefined ? '–' : `${Math.round(v * 10) / 10}${spec.unit === '' ? '' : ` ${spec.unit}`}`)
  const bandIdx = spec.band === undefined ? undefined : spec.band.map((k) => spec.series.findIndex((s) => s.key === k) + 1)
  // A series of another unit (cost beside percentages) gets its own scale, with its axis on the right.
  const extraScales = [...new Set(spec.series.map((s) => s.scale).filter((x) => x !== undefined && x !== 'y'))]
  const range = (/** @type {unknown} */ _u, /** @type {number} */ min, /** @type {number} */ max) => [Math.min(0, min), max > 0 ? max * 1.1 : 1]
  const ticksText = (/** @type {unknown} */ _u, /** @type {number[]} */ ticks) => ticks.map((t) => `${Math.round(t * 100) / 100}`)
  const opts = {
    width: Math.max(300, host.clientWidth / 2 - 24),
    height: spec.height ?? 200,
    legend: { live: true },
    cursor: { drag: { x: false, y: false } },
    scales: { x: { time: true }, y: { range }, ...Object.fromEntries(extraScales.map((k) => [k, { range }])) },
    axes: [
      { stroke: '#495057' },
      { stroke: '#495057', size: 56, values: ticksText },
      ...extraScales.map((k) => ({ scale: k, side: 1, stroke: '#495057', size: 56, grid: { show: false }, values: ticksText })),
    ],
    series: [
      {},
      ...spec.series.map((s) => ({
        scale: s.scale ?? 'y',
        label: s.label,
        stroke: s.stroke,
        width: 2,
        spanGaps: true,
        value: (/** @type {unknown} */ _u, /** @type {number|null} */ v) => fmt(v),
        ...(s.dash === undefined ? {} : { dash: s.dash }),
        ...(s.fill === undefined ? {} : { fill: s.fill }),
        ...(s.stepped === true ? { paths: uPlot.paths.stepped({ align: 1 }) } : {}),
      })),
    ],
    ...(bandIdx === undefined || bandIdx.some((i) => i <= 0) ? {} : { bands: [{ series: bandIdx, fill: 'rgba(112, 72, 232, 0.12)' }] }),
    hooks: {
      draw: [(/** @type {any} */ u) => drawMarkers(u)],
    },
  }
  const u = new uPlot(opts, [[], ...spec.series.map(() => [])], plot)
  u.over.append(tip)

  /** Dashed lines on the canvas and a hover target per marker inside the plot area. */
  function drawMarkers(/** @type {any} */ u) {
    for (const m of markerEls) m.remove()
    markerEls = []
    const { ctx, bbox } = u
    const ratio = window.devicePixelRatio || 1
    for (const m of markers) {
      const x = u.valToPos(m.atMs / 1000, 'x', true)
      if (!(x >= bbox.left && x <= bbox.left + bbox.width)) continue
      ctx.save()
      ctx.strokeStyle = KIND_COLOURS[/** @type {keyof typeof KIND_COLOURS} */ (m.kind)] ?? '#d9480f'
      ctx.lineWidth = ratio
      ctx.setLineDash([4 * ratio, 4 * ratio])
      ctx.beginPath()
      ctx.moveTo(x, bbox.top)
      ctx.lineTo(x, bbox.top + bbox.height)
      ctx.stroke()
      ctx.restore()
      // The same place in CSS pixels from the plot area's left edge (where u.over starts).
      const left = u.valToPos(m.atMs / 1000, 'x')
      const target = document.createElement('div')
      target.className = 'decision-marker'
      target.dataset.explanation = m.explanation
      target.style.left = `${left - 4}px`
      target.addEventListener('mouseenter', () => {
        tip.textContent = `${new Date(m.atMs).toLocaleTimeString([], { hour12: false })} · ${m.explanation}`
        tip.style.left = `${Math.max(0, Math.min(left, u.over.clientWidth - 260))}px`
        tip.hidden = false
      })
      target.addEventListener('mouseleave', () => {
        tip.hidden = true
      })
      u.over.append(target)
      markerEls.push(target)
    }
  }

  const onResize = () => {
    u.setSize({ width: Math.max(300, plot.clientWidth), height: spec.height ?? 200 })
  }
  window.addEventListener('resize', onResize)
  requestAnimationFrame(onResize)

  return {
    /**
     * New data: the metrics answer's series, and the decisions to mark.
     * @param {Record<string, { points: Point[] } | undefined>} series
     * @param {Marker[]} [decisions]
     * @param {Record<string, number>} [constants] series drawn as a flat line at this value (an SLO)
     */
    update(series, decisions = [], constants = {}) {
      const keys = spec.series.map((s) => s.key)
      const { xs, ys, points } = alignSeries(series, keys)
      keys.forEach((k, i) => {
        const c = constants[k]
        if (c !== undefined) ys[i] = xs.map(() => c)
      })
      markers = decisions
      u.setData([xs, ...ys])
      box.dataset.points = String(points)
      box.dataset.lastAt = xs.length === 0 ? '' : String(xs[xs.length - 1] * 1000)
      box.classList.toggle('empty', points === 0)
    },
    destroy() {
      window.removeEventListener('resize', onResize)
      u.destroy()
      box.remove()
    },
  }
}
