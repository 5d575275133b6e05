import { test } from 'node:test'
import assert from 'node:assert/strict'
import { GroupSchema } from '../../src/spec/schema.ts'

test('a minimal sim group gets the HPA behavior defaults', () => {
  const g = GroupSchema.parse({ group: 'shop', provider: 'sim' })
  assert.equal(g.behavior.scaleDown.stabilizationWindowSeconds, 300)
  assert.deepEqual(g.behavior.scaleUp.policies, [
    { type: 'Percent', value: 100, periodSeconds: 15 },
    { type: 'Pods', value: 4, periodSeconds: 15 },
  ])
  assert.equal(g.syncPeriodSeconds, 15)
})

test('unknown fields are errors', () => {
  const r = GroupSchema.safeParse({ group: 'shop', provider: 'sim', replcas: { min: 1 } })
  assert.equal(r.success, false)
})
