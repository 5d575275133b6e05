import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createServer } from 'node:net'
import { findFreePort } from '../../src/core/free-port.ts'

/** Binds `port` on 127.0.0.1 and closes again; rejects when it is taken. */
function bindOnce(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.once('error', reject)
    srv.listen({ port, host: '127.0.0.1', exclusive: true }, () => {
      srv.close(() => { resolve() })
    })
  })
}

test('findFreePort returns a port that can be bound on 127.0.0.1 at once', async () => {
  const port = await findFreePort('127.0.0.1')
  assert.ok(Number.isInteger(port) && port > 0 && port < 65536, `port ${port}`)
  await bindOnce(port)
})

test('findFreePort never returns a port in `avoid`', async () => {
  const avoid = new Set<number>()
  for (let i = 0; i < 5; i++) {
    const port = await findFreePort('127.0.0.1', avoid)
    assert.equal(avoid.has(port), false, `port ${port} was to be avoided`)
    avoid.add(port)
  }
  assert.equal(avoid.size, 5)
})

test('findFreePort rejects for a host it cannot bind', async () => {
  await assert.rejects(findFreePort('192.0.2.1'), (err: unknown) => err instanceof Error && /EADDRNOTAVAIL|EINVAL/.test(String((err as NodeJS.ErrnoException).code)))
})
