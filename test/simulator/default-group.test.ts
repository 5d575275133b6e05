import { test } from 'node:test'
import assert from 'node:assert/strict'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { loadConfig } from '../../src/spec/load.ts'
import { hpaSpec } from '../../src/simulator/baselines.ts'
import { defaultGroupSpec } from '../../src/simulator/default-group.ts'
import { defaultSimulationParams, resolveSimulationParams } from '../../src/simulator/params.ts'

const benchTraces = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bench', 'traces')

test('the default group is SLO-first: its objective and capacity, no utilisation target, fast scale-out', () => {
  const g = defaultGroupSpec({ ...defaultSimulationParams, instanceRps: 40, sloP95Ms: 300 })
  assert.deepEqual(g.metrics, [])
  assert.deepEqual(g.slo, { latencyP95Ms: 300, budgetPercent: 0.5, instanceRps: 40, fastScaleOut: true })
  assert.equal(g.provider, 'sim')
  assert.equal(g.behavior.scaleDown.stabilizationWindowSeconds, 60)
})

test("the flash-sale bench config is tide's default group plus the campaign", () => {
  const config = loadConfig(join(benchTraces, 'flash-sale.tide.yaml'))
  const group = config.groups[0]
  assert.ok(group)
  const params = resolveSimulationParams({}, group)
  const { schedules, simulation, ...rest } = group
  const { schedules: defaultSchedules, simulation: defaultSimulation, ...defaults } = defaultGroupSpec(params)
  assert.deepEqual(rest, defaults)
  assert.deepEqual(defaultSchedules, [])
  assert.deepEqual(defaultSimulation, {})
  assert.equal(simulation.instanceRps, 100)
  assert.equal(schedules.length, 1)
  assert.ok(schedules[0]?.campaign, 'the sale is a campaign')
})

test('the hpa baseline keeps size and replicas but uses only the HPA defaults', () => {
  const base = defaultGroupSpec(defaultSimulationParams, { replicas: { min: 3, max: 40 }, schedules: [{ name: 'x', cron: '0 9 * * *', durationMinutes: 60, replicas: { min: 5 } }] })
  const h = hpaSpec(base)
  assert.deepEqual(h.replicas, base.replicas)
  assert.deepEqual(h.metrics, [{ type: 'cpu', target: { averageUtilization: 60 } }])
  assert.equal(h.schedules.length, 0)
  assert.equal(h.behavior.scaleDown.stabilizationWindowSeconds, 300)
  assert.equal(h.behavior.scaleUp.tolerance, 0.1)
  assert.equal(h.syncPeriodSeconds, 15)
})
