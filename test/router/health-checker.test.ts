import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ejectedHealth, HealthChecker, initialHealth, nextHealth, type HealthRecord, type HealthTransition } from '../../src/router/health-checker.ts'
import { HealthSchema } from '../../src/spec/schema.ts'
import { startBackend } from './fixtures.ts'

const spec = HealthSchema.parse({ healthyThreshold: 2, unhealthyThreshold: 3, graceSeconds: 10 })

/** Applies checks (true = pass) at the given times (ms after launch at 0). */
function run(start: HealthRecord, checks: readonly (readonly [boolean, number])[]): HealthRecord {
  return checks.reduce((r, [ok, at]) => nextHealth(r, ok, spec, at), start)
}

const cases = [
  { name: 'unknown becomes healthy on the first pass', start: initialHealth(0), checks: [[true, 100]], want: 'healthy' },
  { name: 'failures inside the grace period leave it unknown', start: initialHealth(0), checks: [[false, 1000], [false, 2000], [false, 9000]], want: 'unknown' },
  { name: 'unhealthyThreshold failures after the grace period condemn', start: initialHealth(0), checks: [[false, 9000], [false, 10_000], [false, 11_000]], want: 'unhealthy' },
  { name: 'healthy survives unhealthyThreshold − 1 failures', start: initialHealth(0), checks: [[true, 0], [false, 1], [false, 2]], want: 'healthy' },
  { name: 'healthy falls after unhealthyThreshold failures even in grace', start: initialHealth(0), checks: [[true, 0], [false, 1], [false, 2], [false, 3]], want: 'unhealthy' },
  { name: 'a pass resets the failure count', start: initialHealth(0), checks: [[true, 0], [false, 1], [false, 2], [true, 3], [false, 4], [false, 5]], want: 'healthy' },
  { name: 'unhealthy needs healthyThreshold passes', start: ejectedHealth(initialHealth(0)), checks: [[true, 20_000]], want: 'unhealthy' },
  { name: 'unhealthy re-admitted after healthyThreshold passes', start: ejectedHealth(initialHealth(0)), checks: [[true, 20_000], [true, 21_000]], want: 'healthy' },
] as const

for (const c of cases) {
  test(c.name, () => {
    assert.equal(run(c.start, c.checks).health, c.want)
  })
}

test('HealthChecker probes a real server: healthy, then unhealthy when it fails, healthy again when it recovers', async () => {
  const backend = await startBackend('h')
  const transitions: HealthTransition[] = []
  let notify: (() => void) | undefined
  const checker = new HealthChecker(HealthSchema.parse({ intervalSeconds: 0.01, timeoutSeconds: 0.5, healthyThreshold: 2, unhealthyThreshold: 2, graceSeconds: 0 }), (t) => {
    transitions.push(t)
    notify?.()
  })
  const next = (): Promise<void> =>
    new Promise((resolve) => {
      notify = resolve
    })
  try {
    const first = next()
    checker.add('h', { host: '127.0.0.1', port: backend.port })
    await first
    assert.equal(checker.health('h'), 'healthy')
    const down = next()
    backend.healthStatus = 500
    await down
    assert.equal(checker.health('h'), 'unhealthy')
    const up = next()
    backend.healthStatus = 204
    await up
    assert.deepEqual(
      transitions.map((t) => `${t.from}→${t.to}`),
      ['unknown→healthy', 'healthy→unhealthy', 'unhealthy→healthy'],
    )
  } finally {
    checker.stop()
    await backend.close()
  }
})

test('a closed port fails the check (never throws)', async () => {
  const backend = await startBackend('gone')
  await backend.close()
  const transitions: HealthTransition[] = []
  await new Promise<void>((resolve) => {
    const checker = new HealthChecker(HealthSchema.parse({ intervalSeconds: 0.01, timeoutSeconds: 0.5, unhealthyThreshold: 1, graceSeconds: 0 }), (t) => {
      transitions.push(t)
      checker.stop()
      resolve()
    })
    checker.add('gone', { host: '127.0.0.1', port: backend.port })
  })
  assert.equal(transitions[0]?.to, 'unhealthy')
})
