import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { GroupStatus, StatusInstance } from '../../src/controller/group-status.ts'
import { HISTORY_SERIES, historyReadings, perInstanceCapacityRps } from '../../src/controller/history-series.ts'
import { GroupSchema, type GroupSpec } from '../../src/spec/schema.ts'

const SIZE = { cpu: 1, memoryMiB: 512 }

function spec(extra: Record<string, unknown> = {}): GroupSpec {
  return GroupSchema.parse({ group: 'g', provider: 'sim', replicas: { min: 1, max: 10 }, size: SIZE, ...extra })
}

function instance(id: string, phase: StatusInstance['phase'], size: StatusInstance['size'] = SIZE): StatusInstance {
  return { id, phase, size, launchedAtMs: 0, protectedFromScaleIn: false }
}

function status(instances: StatusInstance[], extra: Partial<GroupStatus> = {}): GroupStatus {
  return { group: 'g', atMs: 1000, desiredReplicas: instances.length, size: SIZE, instances, conditions: [], ...extra }
}

const budget = { budgetPercent: 1, todayViolatedPercent: 0.25, weekViolatedPercent: 0.1, todayMeasuredSeconds: 3600, weekMeasuredSeconds: 7200 }

const cases = [
  {
    name: 'measured demand, counts, and instance-hours when no size has a price',
    spec: spec(),
    status: status([instance('a', 'in-service'), instance('b', 'warming'), instance('c', 'pending'), instance('d', 'draining')]),
    measured: { rps: 12.5, p95Ms: 80 },
    // instances: in-service + warming = 2; billed: all four phases are launched, not terminated.
    want: { rps: 12.5, p95: 80, instances: 2, desired: 4, instance_hours_per_hour: 4 },
  },
  {
    name: 'capacity from slo.instanceRps, scaled by each in-service instance\'s cpu',
    spec: spec({ slo: { latencyP95Ms: 200, instanceRps: 40 } }),
    status: status([instance('a', 'in-service'), instance('b', 'in-service', { cpu: 0.5, memoryMiB: 256 }), instance('c', 'warming')], {
      slo: { latencyP95Ms: 200, budgetPercent: 1, budget, headroom: { percent: 40, source: 'default', why: 'w', historyHours: 0 } },
    }),
    measured: {},
    // capacity: 40 × 1/1 + 40 × 0.5/1 = 60 (the warming one does not serve yet); budget: 0.25 % of 1 % = 25 % spent.
    want: { instances: 3, desired: 3, capacity_rps: 60, headroom_percent: 40, instance_hours_per_hour: 3, slo_budget_spent_percent: 25 },
  },
  {
    name: 'capacity from the rps target without slo.instanceRps',
    spec: spec({ metrics: [{ type: 'cpu', target: { averageUtilization: 60 } }, { type: 'rps', target: { averageValue: 30 } }] }),
    status: status([instance('a', 'in-service'), instance('b', 'in-service')]),
    measured: { rps: 45 },
    // 2 in service × 30 req/s = 60
    want: { rps: 45, instances: 2, desired: 2, capacity_rps: 60, instance_hours_per_hour: 2 },
  },
  {
    name: 'cost per hour when the size in force and every instance have a price',
    spec: spec({ size: { ...SIZE, pricePerHour: 0.1 } }),
    status: status([instance('a', 'in-service', { ...SIZE, pricePerHour: 0.1 }), instance('b', 'pending', { cpu: 2, memoryMiB: 1024, pricePerHour: 0.2 })], { size: { ...SIZE, pricePerHour: 0.1 } }),
    measured: {},
    // 0.1 + 0.2 = 0.3 per hour (floating point: 0.30000000000000004)
    want: { instances: 1, desired: 2, cost_per_hour: 0.1 + 0.2 },
  },
  {
    name: 'the forecast, its band and error; no budget figure before today has measured time',
    spec: spec(),
    status: status([], {
      forecast: { fullFits: 1, refits: 0, bucketsRecorded: 10, liveScored: 0, status: 'ok', expectedRps: 50, expectedLowerRps: 40, expectedUpperRps: 65, accuracyWapePercent: 12 },
      slo: { latencyP95Ms: 200, budgetPercent: 1, budget: { ...budget, todayMeasuredSeconds: 0 } },
    }),
    measured: { rps: Number.NaN },
    want: { instances: 0, desired: 0, forecast_rps: 50, forecast_lower_rps: 40, forecast_upper_rps: 65, forecast_wape: 12, instance_hours_per_hour: 0 },
  },
] as const

for (const c of cases) {
  test(`historyReadings: ${c.name}`, () => {
    const got = Object.fromEntries(historyReadings(c.spec, c.status, c.measured).map((r) => [r.series, r.value]))
    assert.deepEqual(got, c.want)
  })
}

test('every reading is a series HISTORY_SERIES lists, in its order', () => {
  const c = cases[1]
  const names = historyReadings(c.spec, c.status, { rps: 1, p95Ms: 2 }).map((r) => r.series)
  const order = names.map((n) => HISTORY_SERIES.indexOf(n))
  assert.ok(order.every((i) => i >= 0))
  assert.deepEqual(order, [...order].sort((a, b) => a - b))
})

test('perInstanceCapacityRps: slo.instanceRps first, then the rps target, else none', () => {
  assert.equal(perInstanceCapacityRps(spec({ slo: { latencyP95Ms: 200, instanceRps: 40 }, metrics: [{ type: 'rps', target: { averageValue: 30 } }] }), { cpu: 2, memoryMiB: 1024 }), 80)
  assert.equal(perInstanceCapacityRps(spec({ metrics: [{ type: 'rps', target: { averageValue: 30 } }] }), SIZE), 30)
  assert.equal(perInstanceCapacityRps(spec(), SIZE), undefined)
})
