/**
 * The policy editor of a group's page: the group's spec as YAML or JSON text, checked as the
 * operator types (debounced 400 ms): first parsed here (a YAML or JSON syntax error names its
 * line and column), then sent to `POST /groups/{name}/validate`, which answers with the same
 * field-level issues `PUT /groups/{name}` would and applies nothing. "Replay" runs the text's
 * spec and the one in force over the group's recorded demand (`POST /groups/{name}/replay`)
 * and shows the two results side by side; "Apply" puts it in force (`PUT /groups/{name}`).
 * Everything here needs the API token: without it the editor says so and shows nothing secret.
 */
import { api, ApiFailure, token } from './api.js'
import { el, num } from './dom.js'
import { parse as parseYaml, stringify as stringifyYaml } from './vendor/yaml/index.js'

/**
 * Builds the editor in `box`.
 * @param {HTMLElement} box
 * @param {string} name the group
 * @param {{ onApplied: () => void }} hooks
 * @returns {{ destroy: () => void }}
 */
export function policyEditor(box, name, hooks) {
  const formatSelect = el('select', { id: 'editor-format', 'aria-label': 'format' }, el('option', { value: 'yaml', text: 'YAML' }), el('option', { value: 'json', text: 'JSON' }))
  const text = /** @type {HTMLTextAreaElement} */ (el('textarea', { id: 'editor-text', spellcheck: 'false', rows: 24, 'aria-label': 'group spec' }))
  const state = el('p', { class: 'validation', id: 'editor-state', role: 'status' })
  const issues = el('ul', { class: 'issues', id: 'editor-issues' })
  const hours = /** @type {HTMLInputElement} */ (el('input', { id: 'replay-hours', type: 'number', min: 1, max: 720, value: 24, 'aria-label': 'hours of recorded demand' }))
  const replayButton = el('button', { type: 'button', id: 'replay-button', text: 'Replay' })
  const applyButton = el('button', { type: 'button', id: 'apply-button', class: 'primary', text: 'Apply' })
  const reloadButton = el('button', { type: 'button', id: 'editor-reload', text: 'Reload from tide' })
  const outcome = el('div', { class: 'outcome', id: 'editor-outcome' })
  box.replaceChildren(
    el('header', { class: 'panel-head' }, el('h2', { text: 'Policy' }), el('span', { class: 'grow' }), formatSelect, reloadButton),
    text,
    state,
    issues,
    el('p', { class: 'buttons' }, replayButton, el('label', {}, ' over the last ', hours, ' hours '), applyButton),
    outcome,
  )

  /** The spec the text holds, or a syntax error in words. @returns {{ spec?: unknown, error?: string }} */
  function parsed() {
    const source = text.value
    if (formatSelect.value === 'json') {
      try {
        return { spec: JSON.parse(source) }
      } catch (err) {
        return { error: `JSON: ${err instanceof Error ? err.message : String(err)}` }
      }
    }
    try {
      return { spec: parseYaml(source, { prettyErrors: true }) }
    } catch (err) {
      const e = /** @type {any} */ (err)
      const where = Array.isArray(e?.linePos) && e.linePos[0] !== undefined ? `line ${e.linePos[0].line}, column ${e.linePos[0].col}: ` : ''
      return { error: `YAML: ${where}${String(e?.message ?? err).split('\n')[0]}` }
    }
  }

  /** Shows the state line and the issues by field. @param {string} line @param {'ok'|'bad'|'busy'|'idle'} kind @param {ReadonlyArray<{ path: string, message: string }>} [list] */
  function show(line, kind, list = []) {
    state.textContent = line
    state.dataset.state = kind
    issues.replaceChildren(...list.map((i) => el('li', { data: { path: i.path } }, el('code', { text: i.path === '' ? '(spec)' : i.path }), ` ${i.message}`)))
  }

  let generation = 0
  /** Validates the text: syntax here, then the server's checks. Resolves with the spec when valid. */
  async function validate() {
    const mine = ++generation
    const p = parsed()
    if (p.error !== undefined) {
      show(p.error, 'bad', [])
      return undefined
    }
    if (token() === '') {
      show('paste the API token (top right) to check and apply changes', 'idle')
      return undefined
    }
    show('checking…', 'busy')
    try {
      await api.validate(name, p.spec)
      if (mine === generation) show('valid: Apply would put this in force', 'ok')
      return p.spec
    } catch (err) {
      if (mine !== generation) return undefined
      if (err instanceof ApiFailure) show(`${err.code}: ${err.issues.length > 0 ? 'the spec is not valid' : err.message}`, 'bad', err.issues)
      else show(String(err), 'bad')
      return undefined
    }
  }

  let timer = 0
  text.addEventListener('input', () => {
    clearTimeout(timer)
    timer = window.setTimeout(() => void validate(), 400)
  })
  formatSelect.addEventListener('change', () => {
    // Convert the text to the other format when it parses in the one it was in.
    const from = formatSelect.value === 'json' ? 'yaml' : 'json'
    let spec
    try {
      spec = from === 'json' ? JSON.parse(text.value) : parseYaml(text.value)
    } catch {
      return
    }
    text.value = format(spec)
  })

  /** @param {unknown} spec */
  function format(spec) {
    return formatSelect.value === 'json' ? `${JSON.stringify(spec, null, 2)}\n` : stringifyYaml(spec)
  }

  async function load() {
    if (token() === '') {
      text.value = ''
      text.placeholder = 'Paste the API token (top right) to edit this group: the spec holds launch.env values, shown only with the token.'
      text.disabled = true
      show('editing needs the API token', 'idle')
      return
    }
    text.disabled = false
    try {
      const g = await api.group(name, true)
      text.value = format(g.spec)
      show('the spec in force', 'idle')
    } catch (err) {
      show(err instanceof ApiFailure ? `${err.code}: ${err.message}` : String(err), 'bad')
    }
  }

  replayButton.addEventListener('click', () => {
    void (async () => {
      const spec = await validate()
      if (spec === undefined) return
      outcome.replaceChildren(el('p', { class: 'muted', text: `replaying ${hours.value} h of recorded demand…` }))
      try {
        const r = await api.replay(name, spec, Number(hours.value))
        outcome.replaceChildren(replayTable(r))
      } catch (err) {
        outcome.replaceChildren(el('p', { class: 'error', id: 'replay-error', text: `Replay: ${err instanceof ApiFailure ? `${err.code}: ${err.message}` : String(err)}` }))
      }
    })()
  })
  applyButton.addEventListener('click', () => {
    void (async () => {
      const spec = await validate()
      if (spec === undefined) return
      try {
        const r = await api.apply(name, spec)
        outcome.replaceChildren(el('p', { class: 'ok', id: 'apply-result', text: `${r.outcome === 'unchanged' ? 'unchanged: the same spec is in force' : `${r.outcome}: in force from the next tick`} (the change lives in the running tide; edit tide.yaml to keep it)` }))
        hooks.onApplied()
      } catch (err) {
        if (err instanceof ApiFailure) show(`${err.code}: ${err.message}`, 'bad', err.issues)
        outcome.replaceChildren(el('p', { class: 'error', text: `Apply refused: ${err instanceof Error ? err.message : String(err)}` }))
      }
    })()
  })
  reloadButton.addEventListener('click', () => void load())
  const onToken = () => void load()
  window.addEventListener('tide-token', onToken)
  void load()
  return {
    destroy() {
      clearTimeout(timer)
      window.removeEventListener('tide-token', onToken)
    },
  }
}

/** The figures a replay answers for each config, in the order shown; other numeric fields follow. */
const FIGURES = [
  { key: 'costInstanceHours', label: 'cost (instance-hours)' },
  { key: 'sloViolatedPercent', label: 'SLO violated (% of time)' },
  { key: 'failedRequestsPercent', label: 'failed requests (%)' },
]

/**
 * The replay's two results side by side: the figures, the decisions, any other number both have.
 * @param {any} r `{ current, proposed, … }`
 */
function replayTable(r) {
  const cur = r?.current ?? {}
  const pro = r?.proposed ?? {}
  const rows = FIGURES.map((f) => [f.label, cur[f.key], pro[f.key]])
  for (const k of ['up', 'down', 'hold']) rows.push([`decisions: ${k}`, cur.decisions?.[k], pro.decisions?.[k]])
  const known = new Set([...FIGURES.map((f) => f.key), 'decisions'])
  for (const k of Object.keys(cur)) if (!known.has(k) && typeof cur[k] === 'number') rows.push([k, cur[k], pro[k]])
  return el(
    'table',
    { class: 'replay', id: 'replay-result' },
    el('thead', {}, el('tr', {}, el('th', { text: '' }), el('th', { text: 'in force' }), el('th', { text: 'proposed' }))),
    el(
      'tbody',
      {},
      ...rows.map(([label, a, b]) => {
        const better = typeof a === 'number' && typeof b === 'number' && b !== a ? (b < a ? 'lower' : 'higher') : ''
        return el('tr', {}, el('th', { text: String(label) }), el('td', { text: cell(a) }), el('td', { class: better, text: cell(b) }))
      }),
    ),
  )
}

/** @param {unknown} v */
function cell(v) {
  return typeof v === 'number' ? num(v, 2) : v === undefined ? '–' : String(v)
}
