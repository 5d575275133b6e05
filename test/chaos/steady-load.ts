/**
 * Steady keep-alive GET traffic for the chaos scenarios: `workers` loops, each sending one request
 * at a time through a keep-alive agent to 127.0.0.1, paced to `rps` in all. Every request is
 * bounded (`timeoutMs`); a connection error, a timeout or a 5xx counts as failed, with what and
 * when, so that a scenario can say which fault a failure followed.
 */
import { Agent, request } from 'node:http'

/** One failed request: when (ms since the load began) and why. */
export interface LoadFailure {
  readonly atMs: number
  readonly why: string
}

/** What a run of steady load saw. */
export interface LoadResult {
  readonly sent: number
  readonly ok: number
  readonly failed: readonly LoadFailure[]
}

/** A running load: stop() ends it once the requests in flight are answered (or time out). */
export interface SteadyLoad {
  /** Requests answered so far (any outcome). */
  sentSoFar(): number
  stop(): Promise<LoadResult>
}

/** Starts the load on `url` (http://127.0.0.1:PORT/path only: loopback is all a chaos scenario may hit). */
export function steadyLoad(url: string, opts: { readonly rps: number; readonly workers?: number; readonly timeoutMs?: number }): SteadyLoad {
  const target = new URL(url)
  if (target.hostname !== '127.0.0.1') throw new Error(`steadyLoad sends to 127.0.0.1 only, not ${target.hostname}`)
  const workers = opts.workers ?? 4
  const timeoutMs = opts.timeoutMs ?? 15_000
  const gapMs = (1000 * workers) / opts.rps
  const agent = new Agent({ keepAlive: true, maxSockets: workers })
  const started = performance.now()
  let stopping = false
  let sent = 0
  let ok = 0
  const failed: LoadFailure[] = []
  const once = (): Promise<void> =>
    new Promise((resolve) => {
      const req = request({ host: '127.0.0.1', port: Number(target.port), path: target.pathname, method: 'GET', agent, timeout: timeoutMs }, (res) => {
        res.resume()
        res.on('end', () => {
          sent++
          if ((res.statusCode ?? 0) >= 500) failed.push({ atMs: performance.now() - started, why: `${res.statusCode} ${String(res.headers['x-tide-error'] ?? '')}` })
          else ok++
          resolve()
        })
        res.on('error', (err) => {
          sent++
          failed.push({ atMs: performance.now() - started, why: `response: ${err.message}` })
          resolve()
        })
      })
      req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)))
      req.on('error', (err) => {
        sent++
        failed.push({ atMs: performance.now() - started, why: err.message })
        resolve()
      })
      req.end()
    })
  const loop = async (i: number): Promise<void> => {
    await new Promise((r) => setTimeout(r, (gapMs * i) / workers))
    while (!stopping) {
      const t0 = performance.now()
      await once()
      const left = gapMs - (performance.now() - t0)
      if (left > 0) await new Promise((r) => setTimeout(r, left))
    }
  }
  const loops = Array.from({ length: workers }, (_, i) => loop(i))
  return {
    sentSoFar: () => sent,
    async stop() {
      stopping = true
      await Promise.all(loops)
      agent.destroy()
      return { sent, ok, failed }
    },
  }
}
