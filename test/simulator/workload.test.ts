import { test } from 'node:test'
import assert from 'node:assert/strict'
import { serviceRateRps, sizedServiceRateRps, sloCapacityRps, Workload, type WorkloadParams } from '../../src/simulator/workload.ts'

const params: WorkloadParams = { instanceRps: 100, sloP95Ms: 200, requestTimeoutSeconds: 10, tickSeconds: 1 }
const mu = serviceRateRps(100, 200) // 100 + ln(20)/0.2 ≈ 114.98

function near(actual: number, expected: number, what: string): void {
  assert.ok(Math.abs(actual - expected) < 1e-6 * Math.max(1, Math.abs(expected)), `${what}: ${actual} ≠ ${expected}`)
}

test('μ is calibrated so that p95 equals the SLO at instanceRps', () => {
  near(mu, 100 + Math.log(20) / 0.2, 'μ')
  const w = new Workload(params)
  w.setFleet(mu * 3, 3)
  w.step(300) // 100 req/s per instance
  near(w.p95Ms, 200, 'p95 at N per instance')
  near(sloCapacityRps(mu, 200), 100, 'SLO capacity of a default instance')
})

const cases = [
  { name: 'half load: p95 well under the SLO', perInstance: 50, under: true }, // ln20/(115−50) ≈ 46 ms
  { name: 'just under N: under the SLO', perInstance: 99, under: true },
  { name: 'just over N: over the SLO', perInstance: 101, under: false },
  { name: 'near μ: far over the SLO, no failures yet', perInstance: 114, under: false }, // ln20/0.98 ≈ 3 s
] as const
for (const c of cases) {
  test(c.name, () => {
    const w = new Workload(params)
    w.setFleet(mu * 2, 2)
    w.step(c.perInstance * 2)
    near(w.p95Ms, Math.min(10_000, (Math.log(20) / (mu - c.perInstance)) * 1000), 'p95 is the M/M/1 p95')
    assert.equal(w.p95Ms <= 200, c.under)
    assert.equal(w.failedRequests, 0)
    assert.equal(w.backlogRequests, 0)
    near(w.utilization, c.perInstance / mu, 'cpu is λ/μ')
  })
}

test('percentiles are ordered and follow the M/M/1 quantiles', () => {
  const w = new Workload(params)
  w.setFleet(mu, 1)
  w.step(80)
  const slack = mu - 80
  near(w.p50Ms, (Math.log(2) / slack) * 1000, 'p50')
  near(w.p99Ms, (Math.log(100) / slack) * 1000, 'p99')
  assert.ok(w.p50Ms < w.p90Ms && w.p90Ms < w.p95Ms && w.p95Ms < w.p99Ms)
})

test('overload queues the excess, serves it oldest first, and counts every request once', () => {
  const w = new Workload(params)
  w.setFleet(100, 1) // μ = 100 req/s for round numbers
  w.step(150) // 50 wait
  assert.equal(w.servedRequests, 100)
  assert.equal(w.backlogRequests, 50)
  w.step(80) // 50 old + 50 of the new 80 served; 30 wait
  assert.equal(w.servedRequests, 100)
  near(w.backlogRequests, 30, 'backlog')
  // Half the served requests waited one step (1 s): the p95 includes that wait.
  assert.ok(w.p95Ms >= 1000, `p95 ${w.p95Ms} includes the 1 s wait`)
  w.step(0)
  near(w.backlogRequests, 0, 'drained')
  near(w.totalServed + w.totalFailed + w.backlogRequests, w.totalOffered, 'conservation')
})

test('requests that wait longer than the timeout fail', () => {
  const w = new Workload({ ...params, requestTimeoutSeconds: 3 })
  w.setFleet(0, 0)
  w.step(10) // second 0: 10 arrive, none can be served
  for (let t = 1; t <= 3; t++) {
    w.step(0)
    assert.equal(w.failedRequests, 0, `still waiting after ${t} s`)
    assert.equal(w.p95Ms, 3000, 'a step with only waiting requests reports the timeout')
  }
  w.step(0) // at 4 s they would have waited 4 s > 3 s
  assert.equal(w.failedRequests, 10)
  assert.equal(w.backlogRequests, 0)
  assert.equal(w.totalFailed + w.totalServed, w.totalOffered)
})

test('a request served just within the timeout does not fail', () => {
  const w = new Workload({ ...params, requestTimeoutSeconds: 2 })
  w.setFleet(0, 0)
  w.step(5)
  w.step(0)
  w.setFleet(mu, 1)
  w.step(0) // waited 2 s = the timeout: served
  assert.equal(w.servedRequests, 5)
  assert.equal(w.totalFailed, 0)
  assert.equal(w.p95Ms, 2000, 'capped at the timeout')
})

test('μ scales with cpu; SLO capacity is μ − ln(20)/SLO', () => {
  const double = sizedServiceRateRps(params, 2, 1)
  near(double, 2 * mu, 'μ of a 2-cpu instance')
  near(sloCapacityRps(double, 200), 2 * mu - Math.log(20) / 0.2, 'SLO capacity of a 2-cpu instance')
})

test('ticks longer than a second scale arrivals and service by the tick', () => {
  const w = new Workload({ ...params, tickSeconds: 5 })
  w.setFleet(mu, 1)
  w.step(50)
  assert.equal(w.offeredRequests, 250)
  assert.equal(w.servedRequests, 250)
  near(w.utilization, 50 / mu, 'utilisation')
})

test('the model is deterministic', () => {
  const run = () => {
    const w = new Workload(params)
    const out: number[] = []
    for (let t = 0; t < 200; t++) {
      w.setFleet(mu * (1 + (t % 7)), 1 + (t % 7))
      w.step(50 + ((t * 37) % 400))
      out.push(w.p95Ms, w.servedRequests, w.failedRequests)
    }
    return out
  }
  assert.deepEqual(run(), run())
})

test('bad parameters are rejected', () => {
  assert.throws(() => new Workload({ ...params, instanceRps: 0 }), RangeError)
  assert.throws(() => new Workload({ ...params, tickSeconds: Number.NaN }), RangeError)
})
