/**
 * Small DOM and formatting helpers for the dashboard's modules. Text goes in with textContent,
 * never innerHTML, so a group name, an event message or an API error cannot inject markup.
 */

/**
 * An element: `attrs` sets `class`, `text` (textContent), `data` (dataset entries), `on`
 * (event listeners by name) and any other attribute by name (`href`, `type`…); children are
 * nodes or strings (text), undefined and false skipped.
 * @param {string} tag
 * @param {Record<string, unknown>} [attrs]
 * @param {...(Node|string|undefined|false|null)} children
 * @returns {HTMLElement}
 */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag)
  for (const [key, value] of Object.entries(attrs)) if (value !== undefined && value !== null && value !== false) setAttr(node, key, value)
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue
    node.append(typeof c === 'string' ? document.createTextNode(c) : c)
  }
  return node
}

/**
 * One entry of el's `attrs` on `node`.
 * @param {HTMLElement} node
 * @param {string} key
 * @param {unknown} value
 */
function setAttr(node, key, value) {
  if (key === 'class') node.className = String(value)
  else if (key === 'text') node.textContent = String(value)
  else if (key === 'data') for (const [k, v] of Object.entries(/** @type {Record<string, string>} */ (value))) node.dataset[k] = String(v)
  else if (key === 'on') for (const [k, v] of Object.entries(/** @type {Record<string, EventListener>} */ (value))) node.addEventListener(k, v)
  else node.setAttribute(key, value === true ? '' : String(value))
}

/**
 * A number for reading: up to `digits` decimals, trailing zeros dropped; '–' when absent.
 * @param {number|undefined|null} n
 * @param {number} [digits]
 */
export function num(n, digits = 1) {
  if (n === undefined || n === null || !Number.isFinite(n)) return '–'
  return String(Math.round(n * 10 ** digits) / 10 ** digits)
}

/**
 * A duration in words, coarse: "45 s", "12 min", "3.5 h", "2 d".
 * @param {number} ms
 */
export function duration(ms) {
  const s = Math.max(0, ms / 1000)
  if (s < 90) return `${Math.round(s)} s`
  if (s < 5400) return `${Math.round(s / 60)} min`
  if (s < 172800) return `${num(s / 3600)} h`
  return `${num(s / 86400)} d`
}

/**
 * How long ago `atMs` was, in words ("12 s ago").
 * @param {number|undefined} atMs
 */
export function ago(atMs) {
  return atMs === undefined ? '–' : `${duration(Date.now() - atMs)} ago`
}

/**
 * A wall-clock time, HH:MM:SS in the browser's time zone.
 * @param {number} atMs
 */
export function clock(atMs) {
  return new Date(atMs).toLocaleTimeString([], { hour12: false })
}

/**
 * Instances by phase as "2 in-service · 1 warming", in lifecycle order.
 * @param {ReadonlyArray<{ phase: string }>} instances
 */
export function phaseCounts(instances) {
  const order = ['pending', 'warming', 'in-service', 'draining', 'unhealthy', 'standby']
  /** @type {Map<string, number>} */
  const counts = new Map()
  for (const i of instances) counts.set(i.phase, (counts.get(i.phase) ?? 0) + 1)
  const phases = [...counts.keys()].sort((a, b) => order.indexOf(a) - order.indexOf(b))
  return phases.length === 0 ? 'no instances' : phases.map((p) => `${counts.get(p)} ${p}`).join(' · ')
}

/**
 * The last point's average of a series in a metrics answer, or undefined.
 * @param {{ series?: Record<string, { points: ReadonlyArray<{ avg: number }> }> } | undefined} answer
 * @param {string} name
 * @returns {number|undefined}
 */
export function lastAvg(answer, name) {
  const points = answer?.series?.[name]?.points
  return points === undefined || points.length === 0 ? undefined : points[points.length - 1]?.avg
}
