/**
 * One HTTP health probe: a GET of an instance's health path. The router's active checks
 * and the local provider's readiness test both use it; each passes the statuses it
 * accepts, so where they differ it is a parameter on view, not a drifted copy.
 *
 * A fresh connection per probe (no keep-alive pool): a wedged keep-alive socket cannot
 * hide a dead listener, and a probe never holds a socket to an instance about to stop.
 */
import { request } from 'node:http'

/** One probe: where, what counts as success, and how long to wait. */
export interface HttpProbe {
  /** Loopback address or host name of the instance. */
  readonly host: string
  readonly port: number
  /** The health path, starting with '/'. */
  readonly path: string
  /** From sending the request to the end of the response body, ms. */
  readonly timeoutMs: number
  /**
   * The statuses that count as healthy, inclusive: [200, 299] accepts 2xx only, [200, 399]
   * 2xx and 3xx (redirects are not followed; the status alone decides).
   */
  readonly acceptStatus: readonly [lowest: number, highest: number]
  /** Sent as User-Agent, so an instance's access log shows who probes it. */
  readonly userAgent: string
}

/**
 * Resolves true when `GET http://host:port{path}` answers a status within `acceptStatus`
 * and its body ends within `timeoutMs`; false on any other status, a refused or reset
 * connection, or the timeout. Never rejects. The request is destroyed once decided.
 */
export function probeHttp(p: HttpProbe): Promise<boolean> {
  const [lowest, highest] = p.acceptStatus
  return new Promise((resolve) => {
    let settled = false
    const done = (ok: boolean): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      req.destroy()
      resolve(ok)
    }
    const req = request({ host: p.host, port: p.port, path: p.path, method: 'GET', agent: false, headers: { 'user-agent': p.userAgent } }, (res) => {
      const status = res.statusCode ?? 0
      res.resume()
      res.on('end', () => {
        done(status >= lowest && status <= highest)
      })
      res.on('error', () => {
        done(false)
      })
    })
    const timer = setTimeout(() => {
      done(false)
    }, p.timeoutMs)
    req.on('error', () => {
      done(false)
    })
    req.end()
  })
}
