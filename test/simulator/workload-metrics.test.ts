import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { InstanceView } from '../../src/engine/types.ts'
import { GroupSchema } from '../../src/spec/schema.ts'
import { serviceRateRps, Workload } from '../../src/simulator/workload.ts'
import { WorkloadMetrics } from '../../src/simulator/workload-metrics.ts'

const spec = GroupSchema.parse({ group: 'app', provider: 'sim' })
const size = { cpu: 1, memoryMiB: 512 }
const view = (id: string, phase: InstanceView['phase']): InstanceView => ({ id, phase, size, launchedAtMs: 0, protectedFromScaleIn: false })
const mu = serviceRateRps(100, 200)

function setup() {
  const w = new Workload({ instanceRps: 100, sloP95Ms: 200, requestTimeoutSeconds: 10, tickSeconds: 1 })
  const m = new WorkloadMetrics(w, 1)
  return { w, m }
}

test('a window without time gives no signals', () => {
  const { m } = setup()
  assert.equal(m.read(spec, [], 0), undefined)
})

test('per-instance samples: cpu = λ/μ, rps = the routed share; pending instances get none', () => {
  const { w, m } = setup()
  w.setFleet(2 * mu, 2)
  for (let t = 0; t < 15; t++) {
    w.step(160) // 80 req/s per instance
    m.advance(1)
  }
  const s = m.read(spec, [view('a', 'in-service'), view('b', 'warming'), view('c', 'pending')], 15_000)
  assert.ok(s)
  assert.equal(s.instances.size, 2)
  const a = s.instances.get('a')
  assert.ok(Math.abs((a?.cpuRatio ?? 0) - 80 / mu) < 1e-9)
  assert.ok(Math.abs((a?.rps ?? 0) - 80) < 1e-9)
  assert.equal(s.instances.get('c'), undefined)
  assert.ok(Math.abs((s.group.rps ?? 0) - 160) < 1e-9)
  assert.ok((s.group.latencyMs?.p95 ?? 0) < 200)
})

test('while saturated, rps keeps showing demand (unlike completions) and cpu is 100 %', () => {
  const { w, m } = setup()
  w.setFleet(mu, 1)
  for (let t = 0; t < 15; t++) {
    w.step(300)
    m.advance(1)
  }
  const s = m.read(spec, [view('a', 'in-service')], 15_000)
  assert.ok(s)
  assert.equal(s.instances.get('a')?.rps, 300)
  assert.ok(Math.abs((s.instances.get('a')?.cpuRatio ?? 0) - 1) < 1e-9)
  assert.ok((s.group.latencyMs?.p95 ?? 0) > 200)
})

test('each read covers only the window since the previous one', () => {
  const { w, m } = setup()
  w.setFleet(mu, 1)
  w.step(50)
  m.advance(1)
  m.read(spec, [view('a', 'in-service')], 1_000)
  w.step(20)
  m.advance(1)
  assert.equal(m.read(spec, [view('a', 'in-service')], 2_000)?.instances.get('a')?.rps, 20)
})
