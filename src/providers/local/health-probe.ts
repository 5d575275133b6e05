/**
 * One HTTP GET against an instance's health path: the local provider's test of
 * "ready". Uses a fresh connection (no keep-alive pool) so that a probe never holds a
 * socket to an instance that is about to stop.
 */
import { request } from 'node:http'

/**
 * Resolves true when `GET http://host:port{path}` answers 2xx within `timeoutMs`;
 * false on any other status, a refused connection, or the timeout. Never rejects.
 */
export function probeHealth(host: string, port: number, path: string, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    let settled = false
    const done = (ok: boolean): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      req.destroy()
      resolve(ok)
    }
    const req = request({ host, port, path, method: 'GET', agent: false, headers: { 'user-agent': 'tide-local-provider' } }, (res) => {
      const status = res.statusCode ?? 0
      res.resume()
      done(status >= 200 && status < 300)
    })
    const timer = setTimeout(() => {
      done(false)
    }, timeoutMs)
    req.on('error', () => {
      done(false)
    })
    req.end()
  })
}
