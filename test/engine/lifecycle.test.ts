import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { InstanceHealth, InstanceStatus } from '../../src/core/health.ts'
import { countsTowardCapacity, initialReplicas, phaseOf, receivesTraffic, viewOf, type InstanceMarks, type ObservedInstance } from '../../src/engine/lifecycle.ts'
import { InstancePhases, type InstancePhase } from '../../src/engine/types.ts'
import { groupSpec } from './fixtures.ts'

// Grace 10 s after launch, warm-up 15 s after ready; launched at 0, ready at 5 s unless a case says otherwise.
const spec = groupSpec({ health: { graceSeconds: 10 }, warmupSeconds: 15 })
const s = 1000
const none: InstanceMarks = { draining: false, protectedFromScaleIn: false }
const draining: InstanceMarks = { draining: true, protectedFromScaleIn: false }
const standby: InstanceMarks = { draining: false, protectedFromScaleIn: false, standby: true }

const phaseCases: readonly { name: string; status: InstanceStatus; health?: InstanceHealth; marks?: InstanceMarks; readyAtMs?: number | null; nowMs: number; want: InstancePhase }[] = [
  { name: 'starting', status: 'starting', readyAtMs: null, nowMs: 1 * s, want: 'pending' },
  { name: 'starting, marked draining (an earlier process began it)', status: 'starting', marks: draining, readyAtMs: null, nowMs: 1 * s, want: 'draining' },
  { name: 'stopping', status: 'stopping', nowMs: 60 * s, want: 'draining' },
  { name: 'stopped', status: 'stopped', nowMs: 60 * s, want: 'terminated' },
  { name: 'failed (died), whatever the health', status: 'failed', health: 'healthy', nowMs: 60 * s, want: 'unhealthy' },
  { name: 'standby (AWS Standby), whatever the health', status: 'standby', health: 'healthy', nowMs: 60 * s, want: 'standby' },
  { name: 'running, marked draining, before any other rule', status: 'running', health: 'unhealthy', marks: draining, nowMs: 60 * s, want: 'draining' },
  { name: 'running, in standby: standby even when its checks fail', status: 'running', health: 'unhealthy', marks: standby, nowMs: 60 * s, want: 'standby' },
  { name: 'running, in standby and draining: draining (leaving wins)', status: 'running', marks: { ...standby, draining: true }, nowMs: 60 * s, want: 'draining' },
  { name: 'failed while in standby: unhealthy (a dead process is replaced)', status: 'failed', marks: standby, nowMs: 60 * s, want: 'unhealthy' },
  { name: 'running, unhealthy within the grace period: warming', status: 'running', health: 'unhealthy', nowMs: 9.999 * s, want: 'warming' },
  { name: 'running, unhealthy at the end of the grace period', status: 'running', health: 'unhealthy', nowMs: 10 * s, want: 'unhealthy' },
  { name: 'running, unknown health long after: never unhealthy', status: 'running', health: 'unknown', nowMs: 600 * s, want: 'in-service' },
  { name: 'running, ready 5 s, warm-up not over at 19.999 s', status: 'running', nowMs: 19.999 * s, want: 'warming' },
  { name: 'running, ready 5 s, warm-up over at 20 s', status: 'running', nowMs: 20 * s, want: 'in-service' },
  { name: 'running, no ready time: warm-up counts from launch', status: 'running', readyAtMs: null, nowMs: 15 * s, want: 'in-service' },
  { name: 'running, no ready time, 14.999 s after launch', status: 'running', readyAtMs: null, nowMs: 14.999 * s, want: 'warming' },
]

for (const c of phaseCases) {
  test(`phaseOf: ${c.name} → ${c.want}`, () => {
    const readyAtMs = c.readyAtMs === undefined ? 5 * s : c.readyAtMs
    const record: ObservedInstance = { id: 'i0', status: c.status, size: spec.size, launchedAtMs: 0, ...(readyAtMs === null ? {} : { readyAtMs }) }
    assert.equal(phaseOf(record, c.health ?? 'healthy', c.marks ?? none, spec, c.nowMs), c.want)
  })
}

test('phaseOf: warm-up 0 and grace 0 make a running instance in service, or unhealthy when its checks fail, at once', () => {
  const quick = groupSpec({ health: { graceSeconds: 0 }, warmupSeconds: 0 })
  const record: ObservedInstance = { id: 'i0', status: 'running', size: quick.size, launchedAtMs: 0, readyAtMs: 0 }
  assert.equal(phaseOf(record, 'healthy', none, quick, 0), 'in-service')
  assert.equal(phaseOf(record, 'unhealthy', none, quick, 0), 'unhealthy')
})

test('countsTowardCapacity and receivesTraffic, phase by phase', () => {
  const counts: Record<InstancePhase, [boolean, boolean]> = {
    pending: [true, false],
    warming: [true, true],
    'in-service': [true, true],
    draining: [false, false],
    terminated: [false, false],
    unhealthy: [false, false],
    standby: [false, false],
  }
  for (const phase of InstancePhases) assert.deepEqual([countsTowardCapacity(phase), receivesTraffic(phase)], counts[phase], phase)
})

test('viewOf: the record\'s id, size and times, the phase and protection; no readyAtMs key without one', () => {
  const size = { cpu: 2, memoryMiB: 1024 }
  assert.deepEqual(viewOf({ id: 'a', status: 'running', size, launchedAtMs: 1, readyAtMs: 2 }, 'warming', { draining: false, protectedFromScaleIn: true }), {
    id: 'a',
    phase: 'warming',
    size,
    launchedAtMs: 1,
    readyAtMs: 2,
    protectedFromScaleIn: true,
  })
  const pending = viewOf({ id: 'b', status: 'starting', size, launchedAtMs: 1 }, 'pending', none)
  assert.equal('readyAtMs' in pending, false)
})

const unreadyCases: readonly { name: string; status: InstanceStatus; health?: InstanceHealth; unready: boolean }[] = [
  { name: 'running, failing its checks: unready (the HPA\'s Ready condition False)', status: 'running', health: 'unhealthy', unready: true },
  { name: 'running, healthy', status: 'running', health: 'healthy', unready: false },
  { name: 'running, not yet checked', status: 'running', health: 'unknown', unready: false },
  { name: 'running, no health given', status: 'running', unready: false },
  { name: 'starting and failing: pending, not unready', status: 'starting', health: 'unhealthy', unready: false },
]
for (const c of unreadyCases) {
  test(`viewOf unready: ${c.name}`, () => {
    const record: ObservedInstance = { id: 'a', status: c.status, size: { cpu: 1, memoryMiB: 512 }, launchedAtMs: 0, readyAtMs: 5 * s }
    const v = c.health === undefined ? viewOf(record, 'warming', none) : viewOf(record, 'warming', none, c.health)
    assert.equal(v.unready === true, c.unready)
    assert.equal('unready' in v, c.unready)
  })
}

const initialCases: readonly { name: string; replicas: { min: number; max: number; initial?: number }; statuses: readonly InstanceStatus[]; want: number }[] = [
  { name: 'nothing runs, no initial: min', replicas: { min: 2, max: 10 }, statuses: [], want: 2 },
  { name: 'nothing runs: initial', replicas: { min: 2, max: 10, initial: 4 }, statuses: [], want: 4 },
  { name: 'nothing runs: initial 0 under min 0', replicas: { min: 0, max: 10, initial: 0 }, statuses: [], want: 0 },
  { name: 'adopts what runs and starts, over initial', replicas: { min: 1, max: 10, initial: 2 }, statuses: ['running', 'running', 'starting', 'running', 'running'], want: 5 },
  { name: 'stopping, stopped, failed and standby are not adopted', replicas: { min: 1, max: 10, initial: 3 }, statuses: ['stopping', 'stopped', 'failed', 'standby'], want: 3 },
  { name: 'adopted above max: clamped to max', replicas: { min: 1, max: 4 }, statuses: Array<InstanceStatus>(7).fill('running'), want: 4 },
  { name: 'adopted below min: raised to min', replicas: { min: 3, max: 10 }, statuses: ['running'], want: 3 },
]

for (const c of initialCases) {
  test(`initialReplicas: ${c.name} → ${c.want}`, () => {
    const statuses = c.statuses.map((status) => ({ status }))
    assert.equal(initialReplicas(groupSpec({ replicas: c.replicas }), statuses), c.want)
  })
}
