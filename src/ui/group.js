/**
 * A group's page: its header (badges, bounds, Pause/Resume), live charts of its metric history
 * (GET /groups/{name}/metrics) with the decisions marked (GET /events?type=decision), the
 * instance table with Protect/Unprotect, the event timeline (newest first, live from the
 * stream), and the policy editor (editor.js). Refreshed every 3 s and, debounced, on each event
 * of this group.
 */
import { api, ApiFailure, token } from './api.js'
import { timeChart } from './charts.js'
import { ago, clock, duration, el, num, phaseCounts } from './dom.js'
import { policyEditor } from './editor.js'
import { subscribe } from './live.js'
import { risksOf } from './risks.js'

/** The time ranges offered, ms; the step keeps about 180 buckets per chart. */
const RANGES = [
  { label: '5 min', ms: 5 * 60_000 },
  { label: '15 min', ms: 15 * 60_000 },
  { label: '1 h', ms: 3_600_000 },
  { label: '6 h', ms: 6 * 3_600_000 },
]

/** The charts and the series each draws (docs/api.md, "Metric history"). */
const CHARTS = [
  {
    title: 'Load and capacity (req/s)',
    unit: 'req/s',
    series: [
      { key: 'rps', label: 'load', stroke: '#1c7ed6' },
      { key: 'capacity_rps', label: 'capacity in service', stroke: '#2f9e44', stepped: true },
      { key: 'forecast_rps', label: 'forecast', stroke: '#7048e8', dash: [6, 4] },
      { key: 'forecast_upper_rps', label: 'forecast upper', stroke: 'rgba(112,72,232,0.35)' },
      { key: 'forecast_lower_rps', label: 'forecast lower', stroke: 'rgba(112,72,232,0.35)' },
    ],
    band: /** @type {[string, string]} */ (['forecast_upper_rps', 'forecast_lower_rps']),
  },
  {
    title: 'Instances',
    unit: '',
    series: [
      { key: 'instances', label: 'instances (warming + in service)', stroke: '#1c7ed6', stepped: true },
      { key: 'desired', label: 'desired', stroke: '#e8590c', dash: [6, 4], stepped: true },
    ],
  },
  {
    title: 'p95 latency (ms)',
    unit: 'ms',
    series: [
      { key: 'p95', label: 'p95', stroke: '#1c7ed6' },
      { key: 'slo', label: 'SLO', stroke: '#e03131', dash: [8, 4] },
    ],
  },
  {
    title: 'Headroom and SLO budget (%), cost (right axis)',
    unit: '',
    series: [
      { key: 'headroom_percent', label: 'headroom %', stroke: '#2f9e44' },
      { key: 'slo_budget_spent_percent', label: 'SLO budget spent today %', stroke: '#e03131' },
      { key: 'cost_per_hour', label: 'cost / h', stroke: '#f08c00', scale: 'cost' },
      { key: 'instance_hours_per_hour', label: 'instance-hours / h', stroke: '#f08c00', stepped: true, scale: 'cost' },
    ],
  },
]

/**
 * Renders the page of group `name` into `view`; returns the function that stops it.
 * @param {HTMLElement} view
 * @param {string} name
 * @returns {() => void}
 */
export function renderGroup(view, name) {
  let rangeMs = RANGES[1]?.ms ?? 900_000
  const title = el('h1', {}, el('span', { text: name }))
  const badges = el('span', { class: 'badges' })
  const pauseButton = el('button', { type: 'button', id: 'pause-button', text: 'Pause' })
  const actionNote = el('span', { class: 'note', id: 'action-note' })
  const facts = el('dl', { class: 'figures wide', id: 'group-facts' })
  const decision = el('p', { class: 'decision', id: 'last-decision' })
  const risks = el('ul', { class: 'risks' })
  const rangeButtons = RANGES.map((r) => el('button', { type: 'button', class: r.ms === rangeMs ? 'on' : '', text: r.label, data: { ms: r.ms } }))
  const chartsBox = el('div', { class: 'charts', id: 'charts' })
  const instances = el('tbody')
  const timeline = el('ol', { class: 'timeline', id: 'timeline' })
  const editorBox = el('section', { class: 'panel', id: 'editor' })
  const problem = el('p', { class: 'error', hidden: true })

  view.replaceChildren(
    el('header', { class: 'group-head' }, title, badges, el('span', { class: 'grow' }), pauseButton, actionNote),
    problem,
    facts,
    decision,
    risks,
    el('section', { class: 'panel' }, el('header', { class: 'panel-head' }, el('h2', { text: 'History' }), el('span', { class: 'ranges' }, ...rangeButtons)), chartsBox),
    el(
      'section',
      { class: 'panel' },
      el('h2', { text: 'Instances' }),
      el(
        'table',
        { class: 'instances', id: 'instances' },
        el('thead', {}, el('tr', {}, ...['id', 'phase', 'age', 'protected', 'size', 'health', ''].map((h) => el('th', { text: h })))),
        instances,
      ),
    ),
    el('div', { class: 'two' }, el('section', { class: 'panel' }, el('h2', { text: 'Events' }), timeline), editorBox),
  )
  const charts = CHARTS.map((c) => timeChart(chartsBox, c))
  /** @type {any} */
  let group
  let stopped = false

  /** Shows what a change answered (or why it was refused) beside the buttons. */
  const say = (/** @type {string} */ text, bad = false) => {
    actionNote.textContent = text
    actionNote.classList.toggle('bad', bad)
  }
  const failed = (/** @type {unknown} */ err) => say(err instanceof ApiFailure ? `${err.code}: ${err.message}` : String(err), true)
  const needToken = () => {
    if (token() !== '') return false
    say('changes need the API token: paste it at the top right', true)
    return true
  }

  pauseButton.addEventListener('click', () => {
    if (group === undefined || needToken()) return
    api
      .setPaused(name, !group.paused)
      .then((r) => {
        say(`${r.paused ? 'paused' : 'resumed'}${r.changed ? '' : ' (it already was)'}`)
        return refreshGroup()
      })
      .catch(failed)
  })
  for (const b of rangeButtons) {
    b.addEventListener('click', () => {
      rangeMs = Number(b.dataset.ms)
      for (const o of rangeButtons) o.classList.toggle('on', o === b)
      void refreshCharts()
    })
  }

  async function refreshGroup() {
    try {
      group = await api.group(name)
      problem.hidden = true
    } catch (err) {
      problem.textContent = err instanceof ApiFailure && err.status === 404 ? `No group ${name}: ${err.message}` : `Cannot read the group: ${err instanceof Error ? err.message : String(err)}`
      problem.hidden = false
      return
    }
    const s = group.status
    badges.replaceChildren(...badgesOf(group))
    pauseButton.textContent = group.paused ? 'Resume' : 'Pause'
    facts.replaceChildren(...factsOf(group))
    decision.replaceChildren(el('span', { class: 'muted', text: `last decision ${ago(s?.lastDecision?.atMs)}: ` }), s?.lastDecision?.explanation ?? 'none yet')
    risks.replaceChildren(...risksOf(group).map((r) => el('li', { class: 'risk', text: r })))
    instances.replaceChildren(...(s?.instances ?? []).map((/** @type {any} */ i) => instanceRow(i)))
    if (s !== null && s.instances.length === 0) instances.append(el('tr', {}, el('td', { colspan: 7, class: 'muted', text: 'no instances' })))
  }

  /**
   * One instance's row, with its Protect/Unprotect button.
   * @param {any} i a status instance
   */
  function instanceRow(i) {
    const button = el('button', { type: 'button', class: 'protect', text: i.protectedFromScaleIn ? 'Unprotect' : 'Protect' })
    button.addEventListener('click', () => {
      if (needToken()) return
      api
        .setProtected(name, i.id, !i.protectedFromScaleIn)
        .then((r) => {
          say(`${r.instance} ${r.protected ? 'protected from scale-in' : 'no longer protected'} (shown from the next tick)`)
          return refreshGroup()
        })
        .catch(failed)
    })
    return el(
      'tr',
      { data: { instance: i.id, phase: i.phase } },
      el('td', { class: 'mono', text: i.id }),
      el('td', {}, el('span', { class: `phase ${i.phase}`, text: i.phase })),
      el('td', { text: duration(Date.now() - i.launchedAtMs) }),
      el('td', { class: 'protected', text: i.protectedFromScaleIn ? 'yes' : 'no' }),
      el('td', { text: sizeText(i.size) }),
      el('td', { text: healthText(i) }),
      el('td', {}, button),
    )
  }

  async function refreshCharts() {
    const toMs = Date.now()
    const fromMs = toMs - rangeMs
    const step = Math.max(1, Math.round(rangeMs / 180 / 1000))
    try {
      const [m, d] = await Promise.all([api.metrics(name, { from: fromMs, step }), api.events({ group: name, type: 'decision', since: fromMs, limit: 500 })])
      const decisions = d.events.map((/** @type {any} */ e) => ({ atMs: e.atMs, kind: e.decision?.kind ?? 'scale', explanation: e.message }))
      const sloMs = group?.status?.slo?.latencyP95Ms ?? latencyTarget(group?.spec)
      for (const c of charts) c.update(m.series, decisions, sloMs === undefined ? {} : { slo: sloMs })
    } catch (err) {
      problem.textContent = `Cannot read the metric history: ${err instanceof Error ? err.message : String(err)}`
      problem.hidden = false
    }
  }

  async function loadTimeline() {
    try {
      const { events } = await api.events({ group: name, limit: 100 })
      timeline.replaceChildren(...events.map((/** @type {any} */ e) => eventItem(e)))
    } catch (err) {
      timeline.replaceChildren(el('li', { class: 'error', text: `Cannot read the events: ${err instanceof Error ? err.message : String(err)}` }))
    }
  }

  let soon = 0
  const off = subscribe((e) => {
    if (e.group !== name) return
    timeline.prepend(eventItem(e))
    while (timeline.childElementCount > 200) timeline.lastElementChild?.remove()
    clearTimeout(soon)
    soon = window.setTimeout(() => {
      void refreshGroup()
      void refreshCharts()
    }, 500)
  })
  const editor = policyEditor(editorBox, name, { onApplied: () => void refreshGroup().then(refreshCharts) })
  const timer = window.setInterval(() => {
    if (stopped) return
    void refreshGroup()
    void refreshCharts()
  }, 3000)
  void refreshGroup().then(refreshCharts)
  void loadTimeline()
  return () => {
    stopped = true
    off()
    clearTimeout(soon)
    clearInterval(timer)
    editor.destroy()
    for (const c of charts) c.destroy()
  }
}

/**
 * A group's badges: its provider, paused, removing.
 * @param {any} group a GET /groups/{name} answer
 * @returns {HTMLElement[]}
 */
function badgesOf(group) {
  const out = [el('span', { class: 'badge', text: group.provider })]
  if (group.paused) out.push(el('span', { class: 'badge warn', id: 'paused-badge', text: 'paused' }))
  if (group.state === 'removing') out.push(el('span', { class: 'badge warn', text: 'removing' }))
  return out
}

/**
 * The figures under a group's title: bounds, count, instances, size, SLO, headroom, forecast.
 * @param {any} group a GET /groups/{name} answer
 * @returns {HTMLElement[]}
 */
function factsOf(group) {
  const s = group.status
  const spec = group.spec
  const slo = s?.slo
  return [
    ...fact('replicas', `min ${spec.replicas.min} · max ${spec.replicas.max}`, 'bounds'),
    ...fact('desired', s === null ? '–' : String(s.desiredReplicas), 'desired'),
    ...fact('instances', s === null ? 'not observed yet' : phaseCounts(s.instances)),
    ...fact('size', s === null ? '–' : sizeText(s.size)),
    ...(slo === undefined ? [] : fact('SLO', `p95 ≤ ${slo.latencyP95Ms} ms; budget ${slo.budgetPercent} %, ${num(slo.budget.todayViolatedPercent, 2)} % of today violated`)),
    ...(slo?.headroom === undefined ? [] : fact('headroom', `${slo.headroom.percent} % (${slo.headroom.source})`)),
    ...(s?.forecast === undefined ? [] : fact('forecast', `${s.forecast.status}${s.forecast.expectedRps === undefined ? '' : `, ${num(s.forecast.expectedRps)} req/s now`}`)),
  ]
}

/**
 * @param {string} term
 * @param {string} text
 * @param {string} [id]
 */
function fact(term, text, id) {
  return [el('dt', { text: term }), el('dd', { text, id: id === undefined ? undefined : `fact-${id}` })]
}

/** @param {any} size */
function sizeText(size) {
  return `${size.name === undefined ? '' : `${size.name} `}${size.cpu} cpu / ${size.memoryMiB} MiB${size.pricePerHour === undefined ? '' : ` · ${size.pricePerHour}/h`}`
}

/** @param {any} i a status instance */
function healthText(i) {
  if (i.phase === 'unhealthy') return 'failing checks'
  if (i.unready === true) return 'not ready'
  if (i.readyAtMs !== undefined) return `ready ${ago(i.readyAtMs)}`
  return 'starting'
}

/** The latency target of a latency metric in the spec, ms, when the group has no slo. @param {any} spec */
function latencyTarget(spec) {
  const m = spec?.metrics?.find((/** @type {any} */ x) => x.type === 'latency' && x.class === undefined)
  return m?.target?.valueMs
}

/** @param {any} e an event */
function eventItem(e) {
  return el('li', { class: `event ${e.type}`, data: { type: e.type } }, el('time', { text: clock(e.atMs) }), el('span', { class: 'badge', text: e.type }), el('span', { class: 'message', text: e.message }))
}
