/**
 * The dashboard's client of tide's REST API (docs/api.md), on the page's own origin. Reads go
 * without the token (open from loopback); changes, and the group spec with its launch.env
 * values, send the token the operator pasted, kept in this tab's sessionStorage only (gone when
 * the tab closes; never in localStorage, a cookie or the URL). Every request is bounded (10 s;
 * a replay 120 s). An error answer becomes an ApiFailure with the API's code, message and
 * field-level issues.
 */

const TOKEN_KEY = 'tide.apiToken'

/** @returns {string} the token in use, '' when none */
export function token() {
  return sessionStorage.getItem(TOKEN_KEY) ?? ''
}

/** @param {string} value the token to use from now on in this tab ('' forgets it) */
export function setToken(value) {
  if (value === '') sessionStorage.removeItem(TOKEN_KEY)
  else sessionStorage.setItem(TOKEN_KEY, value)
}

/** An error answer of the API (or no answer at all: status 0). */
export class ApiFailure extends Error {
  /**
   * @param {number} status HTTP status, 0 when the request got no answer
   * @param {string} code the API's error code (TIDE_ERR_…), or 'NETWORK'
   * @param {string} message
   * @param {ReadonlyArray<{ path: string, message: string }>} [issues] a rejected spec's problems by field
   */
  constructor(status, code, message, issues = []) {
    super(message)
    this.status = status
    this.code = code
    this.issues = issues
  }
}

/**
 * One request, its JSON answer.
 * @param {string} method
 * @param {string} path
 * @param {{ body?: unknown, auth?: boolean, timeoutMs?: number }} [opts]
 * @returns {Promise<any>}
 */
async function request(method, path, opts = {}) {
  let res
  try {
    res = await fetch(path, { method, headers: headersOf(opts), body: opts.body === undefined ? undefined : JSON.stringify(opts.body), signal: AbortSignal.timeout(opts.timeoutMs ?? 10_000) })
  } catch (err) {
    throw new ApiFailure(0, 'NETWORK', `no answer from tide (${err instanceof Error ? err.message : String(err)})`)
  }
  return answerOf(res)
}

/**
 * The headers of a request: JSON, and the token when it is asked for and set.
 * @param {{ body?: unknown, auth?: boolean }} opts
 * @returns {Record<string, string>}
 */
function headersOf(opts) {
  /** @type {Record<string, string>} */
  const headers = { accept: 'application/json' }
  if (opts.body !== undefined) headers['content-type'] = 'application/json'
  if (opts.auth === true && token() !== '') headers.authorization = `Bearer ${token()}`
  return headers
}

/**
 * The JSON of an answer, or its error as an ApiFailure.
 * @param {Response} res
 * @returns {Promise<any>}
 */
async function answerOf(res) {
  const text = await res.text()
  let body
  try {
    body = text === '' ? {} : JSON.parse(text)
  } catch {
    body = undefined
  }
  if (res.ok) return body
  const e = body?.error
  throw new ApiFailure(res.status, e?.code ?? `HTTP_${res.status}`, e?.message ?? `HTTP ${res.status}: ${text.slice(0, 200)}`, Array.isArray(e?.issues) ? e.issues : [])
}

/**
 * A query string from the defined entries of `params`.
 * @param {Record<string, string|number|undefined>} params
 */
function query(params) {
  const q = new URLSearchParams()
  for (const [k, v] of Object.entries(params)) if (v !== undefined) q.set(k, String(v))
  const s = q.toString()
  return s === '' ? '' : `?${s}`
}

const g = (/** @type {string} */ name) => `/groups/${encodeURIComponent(name)}`

/** The routes the dashboard uses. */
export const api = {
  groups: () => request('GET', '/groups'),
  /** @param {string} name @param {boolean} [reveal] send the token: launch.env values shown */
  group: (name, reveal = false) => request('GET', g(name), { auth: reveal }),
  /** @param {string} name @param {Record<string, string|number|undefined>} params */
  metrics: (name, params) => request('GET', `${g(name)}/metrics${query(params)}`),
  /** @param {Record<string, string|number|undefined>} params */
  events: (params) => request('GET', `/events${query(params)}`),
  /** @param {string} name @param {boolean} paused */
  setPaused: (name, paused) => request('POST', `${g(name)}/${paused ? 'pause' : 'resume'}`, { auth: true }),
  /** @param {string} name @param {string} id @param {boolean} on */
  setProtected: (name, id, on) => request('POST', `${g(name)}/instances/${encodeURIComponent(id)}/${on ? 'protect' : 'unprotect'}`, { auth: true }),
  /** @param {string} name @param {unknown} spec */
  validate: (name, spec) => request('POST', `${g(name)}/validate`, { auth: true, body: spec }),
  /** @param {string} name @param {unknown} spec */
  apply: (name, spec) => request('PUT', g(name), { auth: true, body: spec }),
  /** @param {string} name @param {unknown} spec @param {number} hours */
  replay: (name, spec, hours) => request('POST', `${g(name)}/replay`, { auth: true, body: { spec, hours }, timeoutMs: 120_000 }),
}
