import { test } from 'node:test'
import assert from 'node:assert/strict'
import { decideFleet, tightestRoom } from '../../src/engine/decide-fleet.ts'
import type { DecideInput, FleetQuotas } from '../../src/engine/types.ts'
import type { GroupInput } from '../../src/spec/schema.ts'
import { decideInput, groupSpec, instances, sameSample, signals } from './fixtures.ts'

/** A group of `count` instances whose cpu asks for `wants` replicas: cpu = 60 % × wants / count. */
function group(name: string, count: number, wants: number, fields: Partial<GroupInput> = {}): DecideInput {
  const list = instances(count, 'in-service', `${name}-`)
  const spec = groupSpec({
    group: name,
    replicas: { min: 1, max: 50 },
    metrics: [{ type: 'cpu', target: { averageUtilization: 60 } }],
    behavior: { scaleUp: { policies: [{ type: 'Pods', value: 100, periodSeconds: 15 }] }, scaleDown: { stabilizationWindowSeconds: 0 } },
    ...fields,
  })
  return decideInput({ spec, instances: list, signals: signals(sameSample(list, { cpuRatio: (0.6 * wants) / count })) })
}

const cases: { name: string; inputs: DecideInput[]; quotas: FleetQuotas | undefined; want: number[]; reasons?: string[] }[] = [
  { name: 'no quotas: every group gets what it wants', inputs: [group('a', 4, 8), group('b', 3, 6)], quotas: undefined, want: [8, 6] },
  // Held 4 + 3 = 7 of 10: a may add 3 → 7; then the fleet is full, b stays at 3.
  { name: 'fleet max instances: earlier groups first', inputs: [group('a', 4, 8), group('b', 3, 6)], quotas: { maxInstances: 10 }, want: [7, 3], reasons: ['QuotaExhausted', 'QuotaExhausted'] },
  { name: 'order matters: the other group first', inputs: [group('b', 3, 6), group('a', 4, 8)], quotas: { maxInstances: 10 }, want: [6, 4] },
  // a shrinks 6 → 2 (frees 4), so b may grow from 4 by 4 (held 10 of 10, then 6 of 10).
  { name: 'a group that shrinks frees room for the groups after it', inputs: [group('a', 6, 2), group('b', 4, 9)], quotas: { maxInstances: 10 }, want: [2, 8] },
  // cpu: a's instances are 2 cpu each: held 2×2 + 2×1 = 6 of 9; a may add floor(3/2) = 1.
  { name: 'cpu quota counts replicas × size.cpu', inputs: [group('a', 2, 4, { size: { cpu: 2, memoryMiB: 512 } }), group('b', 2, 4)], quotas: { maxCpu: 9 }, want: [3, 3] },
  // memory: 512 MiB each, held 4 × 512 = 2048 of 3000: room 952 → 1 more.
  { name: 'memory quota', inputs: [group('a', 4, 8)], quotas: { maxMemoryMiB: 3000 }, want: [5] },
  // Already over quota (9 held, max 5): nobody loses capacity because of it, and nobody grows.
  { name: 'over quota: no group shrinks because of it', inputs: [group('a', 5, 5), group('b', 4, 6)], quotas: { maxInstances: 5 }, want: [5, 4] },
  // Per provider: local may hold 5, aws is unlimited.
  {
    name: 'per-provider quota limits only that provider',
    inputs: [group('l', 3, 8, { provider: 'local', launch: { command: ['node', 'app.js'] } }), group('w', 3, 8, { provider: 'aws', aws: { autoScalingGroupName: 'w', region: 'us-east-1' } })],
    quotas: { perProvider: { local: { maxInstances: 5 } } },
    want: [5, 8],
  },
  // Fleet 12 and local 5: local gets 5 (held 3 → +2), aws gets the fleet's rest: 12 − 5 − 3 = 4 more → 7.
  {
    name: 'fleet and per-provider quotas together',
    inputs: [group('l', 3, 8, { provider: 'local', launch: { command: ['node', 'app.js'] } }), group('w', 3, 8, { provider: 'aws', aws: { autoScalingGroupName: 'w', region: 'us-east-1' } })],
    quotas: { maxInstances: 12, perProvider: { local: { maxInstances: 5 } } },
    want: [5, 7],
  },
]

for (const c of cases) {
  test(c.name, () => {
    const decisions = decideFleet(c.inputs, c.quotas)
    assert.deepEqual(
      decisions.map((d) => d.to),
      c.want,
    )
    if (c.reasons !== undefined) {
      assert.deepEqual(
        decisions.map((d) => d.reason),
        c.reasons,
      )
    }
  })
}

test('a group room from the caller is combined with the fleet room (the tighter wins)', () => {
  const input = { ...group('a', 4, 8), quotaRoom: { instances: 1 } }
  assert.deepEqual(
    decideFleet([input], { maxInstances: 100 }).map((d) => d.to),
    [5],
  )
})

test('tightestRoom takes the field-wise minimum and ignores absent fields', () => {
  assert.deepEqual(tightestRoom({ instances: 3 }, { instances: 5, cpu: 2 }, undefined), { instances: 3, cpu: 2 })
  assert.equal(tightestRoom(undefined, {}), undefined)
})
