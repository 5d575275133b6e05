import { test } from 'node:test'
import assert from 'node:assert/strict'
import { byteRate, byteRateName, metricName, metricUnit, readMetric } from '../../src/engine/readings.ts'
import { classifyInstances } from '../../src/engine/instance-classes.ts'
import type { InstanceSample } from '../../src/engine/types.ts'
import { MetricRefSchema } from '../../src/spec/schema.ts'
import { instances, sameSample, signals } from './fixtures.ts'

const MiB = 1024 * 1024
const full: InstanceSample = { diskReadBytesPerSecond: 1 * MiB, diskWriteBytesPerSecond: 3 * MiB, networkInBytesPerSecond: 0.5 * MiB, networkOutBytesPerSecond: 8 * MiB }

const byteCases = [
  { ref: { type: 'disk', direction: 'read' }, sample: full, want: 1 * MiB, name: 'disk read' },
  { ref: { type: 'disk', direction: 'write' }, sample: full, want: 3 * MiB, name: 'disk write' },
  { ref: { type: 'disk' }, sample: full, want: 4 * MiB, name: 'disk read+write' },
  { ref: { type: 'network', direction: 'in' }, sample: full, want: 0.5 * MiB, name: 'network in' },
  { ref: { type: 'network', direction: 'out' }, sample: full, want: 8 * MiB, name: 'network out' },
  { ref: { type: 'network' }, sample: full, want: 8.5 * MiB, name: 'network in+out' },
  // half a total is not a total: unknown
  { ref: { type: 'disk' }, sample: { diskWriteBytesPerSecond: 3 * MiB }, want: undefined, name: 'disk read+write' },
  { ref: { type: 'network', direction: 'out' }, sample: { cpuRatio: 0.5 }, want: undefined, name: 'network out' },
] as const
for (const c of byteCases) {
  test(`byteRate ${JSON.stringify(c.ref)} of ${JSON.stringify(c.sample)} is ${String(c.want)}`, () => {
    const ref = MetricRefSchema.parse(c.ref)
    assert.ok(ref.type === 'disk' || ref.type === 'network')
    assert.equal(byteRate(ref, c.sample), c.want)
    assert.equal(byteRateName(ref), c.name)
    assert.equal(metricName(ref), c.name)
    assert.equal(metricUnit(ref), ' MiB/s per instance')
  })
}

test('readMetric gives disk and network in MiB/s per in-service instance, for step rules', () => {
  const list = instances(2)
  const samples = { ...sameSample(list.slice(0, 1), { diskWriteBytesPerSecond: 6 * MiB }), [list[1]!.id]: { diskWriteBytesPerSecond: 2 * MiB } }
  const classes = classifyInstances(list)
  // (6 + 2) / 2
  assert.equal(readMetric(MetricRefSchema.parse({ type: 'disk', direction: 'write' }), signals(samples), classes), 4)
  assert.equal(readMetric(MetricRefSchema.parse({ type: 'network' }), signals(samples), classes), undefined, 'no network samples: no value, the rule does not fire')
})
