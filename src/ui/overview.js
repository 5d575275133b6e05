/**
 * The overview: one card per group (GET /groups), refreshed every 3 s and on every event of the
 * live stream: instances by phase, load against the capacity in service, p95 against the SLO,
 * the SLO budget spent today, the last decision in words, paused or removing, conditions that
 * need attention, and risk warnings when the status carries them (`status.risks`).
 */
import { api } from './api.js'
import { ago, el, lastAvg, num, phaseCounts } from './dom.js'
import { subscribe } from './live.js'
import { risksOf } from './risks.js'

/** The conditions' normal states (docs/status.md): anything else is shown. */
const NORMAL = { AbleToScale: 'True', ScalingActive: 'True', ScalingLimited: 'False' }

/**
 * Renders the overview into `view`; returns the function that stops its refreshing.
 * @param {HTMLElement} view
 * @returns {() => void}
 */
export function renderOverview(view) {
  const list = el('div', { class: 'cards', id: 'groups' })
  const problem = el('p', { class: 'error', hidden: true })
  view.replaceChildren(el('h1', { text: 'Groups' }), problem, list)
  let pending = false

  async function refresh() {
    if (pending) return
    pending = true
    try {
      const { groups } = await api.groups()
      const figures = await Promise.all(
        groups.map((/** @type {any} */ g) => api.metrics(g.group, { series: 'rps,capacity_rps,p95,slo_budget_spent_percent', step: 5, from: Date.now() - 120_000 }).catch(() => undefined)),
      )
      list.replaceChildren(...groups.map((/** @type {any} */ g, /** @type {number} */ i) => card(g, figures[i])))
      if (groups.length === 0) list.append(el('p', { class: 'muted', text: 'No groups: add one to tide.yaml, or PUT /groups/{name}.' }))
      problem.hidden = true
    } catch (err) {
      problem.textContent = `Cannot read the groups: ${err instanceof Error ? err.message : String(err)}`
      problem.hidden = false
    } finally {
      pending = false
    }
  }

  let soon = 0
  const off = subscribe(() => {
    clearTimeout(soon)
    soon = window.setTimeout(() => void refresh(), 300)
  })
  const timer = window.setInterval(() => void refresh(), 3000)
  void refresh()
  return () => {
    off()
    clearTimeout(soon)
    clearInterval(timer)
  }
}

/**
 * One group's card.
 * @param {any} g a GET /groups entry
 * @param {any} figures the group's recent metrics (or undefined)
 */
function card(g, figures) {
  const s = g.status
  const badges = el(
    'span',
    { class: 'badges' },
    el('span', { class: 'badge', text: g.provider }),
    g.paused && el('span', { class: 'badge warn', text: 'paused' }),
    g.state === 'removing' && el('span', { class: 'badge warn', text: 'removing' }),
  )
  const rows = figureRows(s, figures)
  const conditions = (s?.conditions ?? []).filter((/** @type {any} */ c) => NORMAL[/** @type {keyof typeof NORMAL} */ (c.type)] !== c.status && c.reason !== 'TooFewReplicas')
  const risks = risksOf(g)
  return el(
    'article',
    { class: 'card', data: { group: g.group } },
    el('header', {}, el('a', { href: `#/groups/${encodeURIComponent(g.group)}`, class: 'group-link', text: g.group }), badges),
    el('dl', { class: 'figures' }, ...rows.filter((r) => r !== false).flat()),
    risks.length > 0 && el('ul', { class: 'risks' }, ...risks.map((r) => el('li', { class: 'risk', text: r }))),
    conditions.length > 0 && el('p', { class: 'conditions' }, ...conditions.map((/** @type {any} */ c) => el('span', { class: 'badge warn', title: c.message, text: `${c.type} ${c.status} (${c.reason})` }))),
    el('p', { class: 'decision' }, el('span', { class: 'muted', text: `last decision ${ago(s?.lastDecision?.atMs)}: ` }), s?.lastDecision?.explanation ?? 'none yet'),
  )
}

/**
 * A card's figures: instances, load against capacity, p95 against the SLO, the budget spent.
 * @param {any} s the group's status (null before its first tick)
 * @param {any} figures its recent metrics (or undefined)
 * @returns {(HTMLElement[]|false)[]}
 */
function figureRows(s, figures) {
  const rps = lastAvg(figures, 'rps')
  const capacity = lastAvg(figures, 'capacity_rps')
  const p95 = lastAvg(figures, 'p95')
  const spent = lastAvg(figures, 'slo_budget_spent_percent')
  const slo = s?.slo
  return [
    row('instances', s === null ? 'not observed yet' : `${phaseCounts(s.instances)} · desired ${s.desiredReplicas}`),
    row(
      'load / capacity',
      capacity === undefined ? `${num(rps)} req/s` : `${num(rps)} of ${num(capacity)} req/s`,
      capacity !== undefined && capacity > 0 && rps !== undefined ? el('meter', { min: 0, max: capacity, high: capacity * 0.8, value: Math.min(rps, capacity * 1.5) }) : undefined,
    ),
    row('p95 / SLO', `${num(p95, 0)} ms${slo === undefined ? '' : ` / ${slo.latencyP95Ms} ms`}`),
    slo !== undefined && row('SLO budget today', `${num(spent ?? (slo.budget.todayViolatedPercent / slo.budgetPercent) * 100, 0)} % spent (${num(slo.budget.todayViolatedPercent, 2)} % of the day violated, budget ${slo.budgetPercent} %)`),
  ]
}

/**
 * A term and its description for a <dl>.
 * @param {string} term
 * @param {string} text
 * @param {HTMLElement} [extra]
 */
function row(term, text, extra) {
  return [el('dt', { text: term }), el('dd', {}, text, extra)]
}
