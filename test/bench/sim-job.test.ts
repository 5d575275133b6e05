import { test } from 'node:test'
import assert from 'node:assert/strict'
import { jobGroupSpec } from '../../bench/sim-job.ts'
import { defaultGroupSpec } from '../../src/simulator/default-group.ts'
import { defaultSimulationParams } from '../../src/simulator/params.ts'

const params = { ...defaultSimulationParams, instanceRps: 50, startupSeconds: 60 }

test("a choice variant is tide's default group with only the fast path or the learning undone", () => {
  const base = defaultGroupSpec(params)
  const slo = base.slo
  assert.ok(slo)
  assert.equal(slo.fastScaleOut, true)
  assert.equal(slo.headroom, undefined, 'learned headroom with the defaults')
  const slow = jobGroupSpec({ kind: 'choice', fastScaleOut: false }, params)
  assert.ok(slow?.slo)
  assert.equal(slow.slo.fastScaleOut, false)
  assert.deepEqual({ ...slow, slo: { ...slow.slo, fastScaleOut: true } }, base)
  const fixed = jobGroupSpec({ kind: 'choice', fastScaleOut: true, fixedHeadroomPercent: 40 }, params)
  assert.ok(fixed?.slo?.headroom)
  assert.equal(fixed.slo.headroom.mode, 'fixed')
  assert.equal(fixed.slo.headroom.percent, 40)
  assert.deepEqual({ ...fixed.slo, headroom: undefined }, { ...base.slo, headroom: undefined })
})

test("the default job group is tide's default group itself (simulate builds it)", () => {
  assert.equal(jobGroupSpec({ kind: 'default' }, params), undefined)
})
