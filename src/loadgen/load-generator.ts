/**
 * An open-loop HTTP load generator: requests arrive at the rate the pattern says,
 * whether or not earlier ones have answered (as real shoppers do), up to a bound on
 * requests in flight. Bounded in time and count; loopback only unless allowed.
 * Used by `tide load`, `tide demo` and the reaction benchmark.
 */
import { Pool } from 'undici'
import { seededRandom } from '../core/seeded-random.ts'
import { TideError } from '../errors.ts'
import type { RateFn } from './patterns.ts'

/** One kind of request in the mix, chosen with probability weight / Σ weights. */
export interface RequestKind {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE'
  readonly path: string
  readonly weight: number
  /** JSON body for POST/PUT. */
  readonly body?: unknown
  /**
   * Requests sent after this one answers, in order, carrying the cookies it set
   * (a shopper adding to the cart and then checking out). Each counts as a request.
   */
  readonly then?: readonly Omit<RequestKind, 'weight' | 'then'>[]
}

export interface LoadOptions {
  readonly url: string
  readonly rate: RateFn
  readonly durationSeconds: number
  readonly mix?: readonly RequestKind[]
  /** Requests in flight at most; arrivals beyond are counted as `clientDropped`. */
  readonly maxInFlight?: number
  /** Hard cap on arrivals in the whole run (a flow counts once; its steps always finish). */
  readonly maxRequests?: number
  /** Per-request timeout. */
  readonly timeoutMs?: number
  /** Allow a non-loopback target. */
  readonly allowRemote?: boolean
  readonly signal?: AbortSignal
  /** Called once per second with that second's figures. */
  readonly onSecond?: (s: SecondStats) => void
  /** Seed of the request-mix choice, for repeatable runs. */
  readonly seed?: number
}

/** What one second of the run saw. */
export interface SecondStats {
  readonly t: number
  readonly offeredRps: number
  readonly sent: number
  readonly ok: number
  readonly failed: number
  /** 503 answers with Retry-After: load shed on purpose by the router. */
  readonly shed: number
  readonly p95Ms: number
}

/** The whole run. */
export interface LoadSummary {
  readonly durationSeconds: number
  readonly totalRequests: number
  readonly okRequests: number
  readonly failedRequests: number
  readonly shedRequests: number
  readonly clientDropped: number
  readonly p50Ms: number
  readonly p95Ms: number
  readonly p99Ms: number
  readonly byStatus: Readonly<Record<string, number>>
  /** A few failure messages, to say why requests failed. */
  readonly failureSamples: readonly string[]
  readonly seconds: readonly SecondStats[]
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|localhost|\[::1\]|::1)$/

/** Throws a usage error unless the URL is http(s) on loopback (or remote is allowed). */
export function checkTarget(url: string, allowRemote: boolean): URL {
  let u: URL
  try {
    u = new URL(url)
  } catch {
    throw new TideError('TIDE_ERR_USAGE', `--url: not a URL: ${url}`)
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new TideError('TIDE_ERR_USAGE', `--url: only http and https are supported, not ${u.protocol}`)
  if (!allowRemote && !LOOPBACK.test(u.hostname)) {
    throw new TideError('TIDE_ERR_USAGE', `--url: ${u.hostname} is not a loopback address; pass --allow-remote to load another host`)
  }
  return u
}

/** The q-quantile (0–1) of a list of numbers; 0 for an empty list. Sorts in place. */
function quantile(values: number[], q: number): number {
  if (values.length === 0) return 0
  values.sort((a, b) => a - b)
  return values[Math.min(values.length - 1, Math.floor(q * values.length))] ?? 0
}

/**
 * Runs the load and resolves with its summary. Arrivals are scheduled every 10 ms
 * from the rate function (fractional arrivals carried over), so the offered load
 * follows the pattern closely at any rate from 1 to thousands per second.
 */
export async function runLoad(opts: LoadOptions): Promise<LoadSummary> {
  const target = checkTarget(opts.url, opts.allowRemote ?? false)
  const mix = opts.mix && opts.mix.length > 0 ? opts.mix : [{ method: 'GET' as const, path: target.pathname + target.search, weight: 1 }]
  const totalWeight = mix.reduce((s, k) => s + k.weight, 0)
  const maxInFlight = opts.maxInFlight ?? 512
  const maxRequests = opts.maxRequests ?? 10_000_000
  const timeoutMs = opts.timeoutMs ?? 10_000
  const random = seededRandom(opts.seed ?? 1)
  const pool = new Pool(target.origin, { connections: maxInFlight, pipelining: 1, headersTimeout: timeoutMs, bodyTimeout: timeoutMs })

  const byStatus: Record<string, number> = {}
  const failureSamples: string[] = []
  const allLatencies: number[] = []
  const seconds: SecondStats[] = []
  let inFlight = 0
  let total = 0
  let ok = 0
  let failed = 0
  let shed = 0
  let clientDropped = 0
  let arrivals = 0
  let sec = { sent: 0, ok: 0, failed: 0, shed: 0, lat: [] as number[] }
  const inflightPromises = new Set<Promise<void>>()

  const pick = (): RequestKind => {
    let r = random() * totalWeight
    for (const k of mix) {
      r -= k.weight
      if (r <= 0) return k
    }
    return mix[mix.length - 1] ?? { method: 'GET', path: '/', weight: 1 }
  }

  /** Sends one request and accounts its outcome; resolves with its set-cookie (for flows). */
  const send = async (kind: Omit<RequestKind, 'weight' | 'then'>, cookie: string | undefined): Promise<string | undefined> => {
    const started = performance.now()
    total++
    sec.sent++
    const secAtStart = sec
    const body = kind.body === undefined ? null : JSON.stringify(kind.body)
    const headers: Record<string, string> = {}
    if (body !== null) headers['content-type'] = 'application/json'
    if (cookie !== undefined) headers.cookie = cookie
    try {
      const res = await pool.request({ method: kind.method, path: kind.path, headers, body })
      await res.body.dump()
      const ms = performance.now() - started
      const key = String(res.statusCode)
      byStatus[key] = (byStatus[key] ?? 0) + 1
      if (res.statusCode === 503 && res.headers['retry-after'] !== undefined) {
        shed++
        secAtStart.shed++
        return undefined
      }
      if (res.statusCode >= 500) {
        failed++
        secAtStart.failed++
        if (failureSamples.length < 5) failureSamples.push(`${kind.method} ${kind.path}: HTTP ${res.statusCode}`)
        return undefined
      }
      ok++
      secAtStart.ok++
      secAtStart.lat.push(ms)
      allLatencies.push(ms)
      const setCookie = res.headers['set-cookie']
      const first = Array.isArray(setCookie) ? setCookie[0] : setCookie
      return first?.split(';')[0] ?? cookie
    } catch (err) {
      failed++
      secAtStart.failed++
      byStatus.error = (byStatus.error ?? 0) + 1
      if (failureSamples.length < 5) failureSamples.push(`${kind.method} ${kind.path}: ${err instanceof Error ? err.message : String(err)}`)
      return undefined
    }
  }

  const fire = (): void => {
    const kind = pick()
    arrivals++
    inFlight++
    const p = (async () => {
      let cookie = await send(kind, undefined)
      for (const step of kind.then ?? []) {
        if (cookie === undefined) break
        cookie = await send(step, cookie)
      }
    })().finally(() => {
      inFlight--
      inflightPromises.delete(p)
    })
    inflightPromises.add(p)
  }

  const startMs = performance.now()
  const sliceMs = 10
  let carry = 0
  let lastSecond = 0
  let offered = 0
  try {
    for (;;) {
      const elapsedS = (performance.now() - startMs) / 1000
      if (elapsedS >= opts.durationSeconds || opts.signal?.aborted || arrivals >= maxRequests) break
      const t = Math.floor(elapsedS)
      while (t > lastSecond) {
        const lat = sec.lat
        const s: SecondStats = { t: lastSecond, offeredRps: offered, sent: sec.sent, ok: sec.ok, failed: sec.failed, shed: sec.shed, p95Ms: quantile(lat, 0.95) }
        seconds.push(s)
        opts.onSecond?.(s)
        sec = { sent: 0, ok: 0, failed: 0, shed: 0, lat: [] }
        lastSecond++
      }
      const rate = opts.rate(elapsedS)
      offered = Number.isFinite(rate) ? Math.max(0, rate) : 0
      // Capped at the run's whole request budget: the carry stays a finite, exact number.
      carry = Math.min(carry + offered * (sliceMs / 1000), maxRequests)
      // Whole arrivals due in this slice, taken out of the carry at once: one by one, a huge rate
      // (1e308 req/s, where carry − 1 == carry) looped forever and never let Ctrl-C in. Only
      // the ones with a free slot are fired; the rest are counted as dropped in one step.
      const due = Math.min(Math.floor(carry), maxRequests - arrivals)
      carry -= Math.floor(carry)
      const fired = Math.max(0, Math.min(due, maxInFlight - inFlight))
      for (let i = 0; i < fired; i++) fire()
      clientDropped += due - fired
      await new Promise((resolve) => setTimeout(resolve, sliceMs))
    }
    await Promise.allSettled([...inflightPromises])
  } finally {
    await pool.close()
  }
  const s: SecondStats = { t: lastSecond, offeredRps: offered, sent: sec.sent, ok: sec.ok, failed: sec.failed, shed: sec.shed, p95Ms: quantile(sec.lat, 0.95) }
  if (s.sent > 0) {
    seconds.push(s)
    opts.onSecond?.(s)
  }
  return {
    durationSeconds: (performance.now() - startMs) / 1000,
    totalRequests: total,
    okRequests: ok,
    failedRequests: failed,
    shedRequests: shed,
    clientDropped,
    p50Ms: quantile(allLatencies, 0.5),
    p95Ms: quantile(allLatencies, 0.95),
    p99Ms: quantile(allLatencies, 0.99),
    byStatus,
    failureSamples,
    seconds,
  }
}
