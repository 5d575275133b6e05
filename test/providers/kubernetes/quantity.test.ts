/** Kubernetes quantities to cores and MiB, and back. */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { cpuCores, cpuQuantity, memoryMiB, memoryQuantity } from '../../../src/providers/kubernetes/quantity.ts'

const cpu = [
  { q: '500m', want: 0.5 },
  { q: '2', want: 2 },
  { q: '1.5', want: 1.5 },
  { q: '250000000n', want: 0.25 }, // metrics-server reports nanocores
  { q: '1500u', want: 0.0015 },
  { q: '1Ki', want: undefined }, // not a cpu quantity
  { q: '', want: undefined },
] as const
for (const c of cpu) {
  test(`cpu ${JSON.stringify(c.q)} → ${String(c.want)}`, () => {
    const got = cpuCores(c.q)
    if (c.want === undefined) assert.equal(got, undefined)
    else assert.ok(got !== undefined && Math.abs(got - c.want) < 1e-12, String(got))
  })
}

const memory = [
  { q: '256Mi', want: 256 },
  { q: '1Gi', want: 1024 },
  { q: '102400Ki', want: 100 },
  { q: '268435456', want: 256 }, // bytes
  { q: '1G', want: 1e9 / 2 ** 20 },
  { q: '12x', want: undefined },
] as const
for (const c of memory) {
  test(`memory ${JSON.stringify(c.q)} → ${String(c.want)}`, () => {
    assert.equal(memoryMiB(c.q), c.want)
  })
}

test('sizes written back: whole cores plain, fractions in millicores; MiB, fractions in KiB', () => {
  assert.equal(cpuQuantity(2), '2')
  assert.equal(cpuQuantity(0.25), '250m')
  assert.equal(memoryQuantity(512), '512Mi')
  assert.equal(memoryQuantity(0.5), '512Ki')
})
