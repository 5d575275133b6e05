import assert from 'node:assert/strict'
import { availableParallelism } from 'node:os'
import { test } from 'node:test'
import { CoreSet, coreCount } from '../../src/router/core-set.ts'
import { RoutingSchema } from '../../src/spec/schema.ts'
import type { FromCore } from '../../src/router/protocol.ts'

const cases = [
  { name: 'workers 1 is one core', routing: { workers: 1 }, want: 1 },
  { name: 'workers 3 is three cores', routing: { workers: 3 }, want: 3 },
  { name: 'workers 0 is one per cpu', routing: { workers: 0 }, want: availableParallelism() },
  { name: 'haproxy is one core whatever its threads', routing: { proxy: 'haproxy', workers: 4 }, want: 1 },
] as const
for (const c of cases) {
  test(`coreCount: ${c.name}`, () => {
    assert.equal(coreCount(RoutingSchema.parse(c.routing)), c.want)
  })
}

test('an in-process core set listens, answers a collect with a window, and stops', async () => {
  const seen: FromCore[] = []
  const set = new CoreSet({ routing: RoutingSchema.parse({ listen: 0, workers: 1 }) }, { onMessage: (_i, msg) => seen.push(msg) })
  const port = await set.start()
  assert.ok(port > 0)
  set.send(0, { t: 'collect', seq: 7 })
  assert.ok(seen.some((m) => m.t === 'window' && m.seq === 7))
  await set.stop(0)
  assert.ok(seen.some((m) => m.t === 'stopped'))
})
