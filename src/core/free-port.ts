/**
 * Finds a free TCP port on a loopback host by binding port 0 and closing again. The
 * port is free when this returns, but another process could take it before the
 * instance binds it; the local provider then sees the instance fail and the
 * controller replaces it. `avoid` excludes ports already handed to instances that
 * may not have bound them yet (the kernel could return one of those again).
 */
import { createServer } from 'node:net'

/** A port that was free on `host` a moment ago and is not in `avoid`. Tries up to 20 times. */
export async function findFreePort(host: string, avoid: ReadonlySet<number> = new Set()): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = await bindEphemeral(host)
    if (!avoid.has(port)) return port
  }
  throw new Error(`no free port on ${host} outside the ${avoid.size} ports already in use after 20 attempts`)
}

function bindEphemeral(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.unref()
    srv.once('error', reject)
    srv.listen({ port: 0, host, exclusive: true }, () => {
      const addr = srv.address()
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0
      srv.close(() => {
        if (port > 0) resolve(port)
        else reject(new Error(`binding port 0 on ${host} returned no port`))
      })
    })
  })
}
