import assert from 'node:assert/strict'
import { test } from 'node:test'
import { parseProcStat } from '../../src/core/proc-stat.ts'
import type { ProcStat } from '../../src/core/proc-stat.ts'
import { cpuRatio, ioRates, processTree, trackedProcessOf, treeCpuTicks, treeIoTotals, windowOf } from '../../src/metrics/process-stats.ts'
import type { FakeProc } from '../support/proc-fixture.ts'
import { statLine } from '../support/proc-fixture.ts'

function statsOf(procs: FakeProc[]): Map<number, ProcStat> {
  return new Map(procs.map((p) => [p.pid, parseProcStat(statLine(p))]))
}

// 10 → 11 → 13, 10 → 12; 20 is unrelated; 14 is 13's child.
const fleet = statsOf([
  { pid: 1, ppid: 0, utime: 1000, stime: 1000, startTime: 1 },
  { pid: 10, ppid: 1, utime: 100, stime: 20, cutime: 5, cstime: 5, startTime: 50 },
  { pid: 11, ppid: 10, utime: 30, stime: 10, startTime: 60 },
  { pid: 12, ppid: 10, utime: 7, stime: 3, startTime: 61 },
  { pid: 13, ppid: 11, utime: 1, stime: 1, startTime: 70 },
  { pid: 14, ppid: 13, utime: 0, stime: 2, startTime: 71 },
  { pid: 20, ppid: 1, utime: 500, stime: 500, startTime: 80 },
])

const treeCases = [
  { name: 'root with children and grandchildren', root: 10, want: [10, 11, 12, 13, 14] },
  { name: 'a leaf', root: 12, want: [12] },
  { name: 'a middle node', root: 13, want: [13, 14] },
  { name: 'an absent root', root: 99, want: [] },
] as const
for (const c of treeCases) {
  test(`processTree: ${c.name}`, () => {
    assert.deepEqual(processTree(c.root, fleet).sort((a, b) => a - b), c.want)
  })
}

test('treeCpuTicks sums utime+stime+cutime+cstime over the tree only', () => {
  // 10: 100+20+5+5 = 130; 11: 40; 12: 10; 13: 2; 14: 2 → 184 (20 and 1 excluded)
  assert.equal(treeCpuTicks(processTree(10, fleet), fleet), 184)
})

const ratioCases = [
  { name: 'one core busy on a 1-cpu instance', prev: 0, now: 100, ms: 1000, hz: 100, cpu: 1, want: 1 }, // 1 cpu-s / 1 s / 1
  { name: 'half a core of a 2-cpu instance', prev: 500, now: 550, ms: 1000, hz: 100, cpu: 2, want: 0.25 }, // 0.5 / 1 / 2
  { name: 'two cores of a 0.5-cpu instance over 2 s', prev: 0, now: 400, ms: 2000, hz: 100, cpu: 0.5, want: 4 }, // 4 cpu-s / 2 s / 0.5
  { name: 'idle', prev: 10, now: 10, ms: 1000, hz: 100, cpu: 1, want: 0 },
  { name: 'ticks went down (child left the tree): clamped', prev: 300, now: 200, ms: 1000, hz: 100, cpu: 1, want: 0 },
  { name: 'USER_HZ 250', prev: 0, now: 250, ms: 1000, hz: 250, cpu: 1, want: 1 },
  { name: 'no time passed', prev: 0, now: 10, ms: 0, hz: 100, cpu: 1, want: undefined },
] as const
for (const c of ratioCases) {
  test(`cpuRatio: ${c.name}`, () => {
    assert.equal(cpuRatio(c.prev, c.now, c.ms, c.hz, c.cpu), c.want)
  })
}

test('windowOf averages the samples inside (now − window, now], cpu only where present, with the span the cpu covers', () => {
  const samples = [
    { atMs: 1000, memoryMiB: 100, processes: 1 }, // first sample: no cpu
    { atMs: 2000, cpuRatio: 0.2, cpuSinceMs: 1000, memoryMiB: 110, processes: 1 },
    { atMs: 3000, cpuRatio: 0.4, cpuSinceMs: 2000, memoryMiB: 120, processes: 1 },
    { atMs: 4000, cpuRatio: 0.9, cpuSinceMs: 3000, memoryMiB: 130, processes: 1 },
  ]
  // 3000, 4000: their cpu intervals run from 2000 to 4000
  assert.deepEqual(windowOf(samples, 2000, 4000), { cpuRatio: 0.65, cpuAtMs: 4000, cpuWindowMs: 2000, memoryMiB: 125, samples: 2 })
  // 1000..3000: cpu from 2000 and 3000, whose intervals run from 1000 to 3000
  assert.deepEqual(windowOf(samples, 10_000, 3000), { cpuRatio: 0.30000000000000004, cpuAtMs: 3000, cpuWindowMs: 2000, memoryMiB: 110, samples: 3 })
  // A sample without its interval's start spans from its own time: a window of 0.
  assert.deepEqual(windowOf([{ atMs: 5000, cpuRatio: 0.5, memoryMiB: 1, processes: 1 }], 1000, 5000), { cpuRatio: 0.5, cpuAtMs: 5000, cpuWindowMs: 0, memoryMiB: 1, samples: 1 })
  assert.deepEqual(windowOf(samples, 1000, 1000), { memoryMiB: 100, samples: 1 })
  assert.deepEqual(windowOf(samples, 500, 9000), { samples: 0 })
})

test('trackedProcessOf reads pid and start time from a local record, the cpu from its size', () => {
  const base = { id: 'a', group: 'g', status: 'running' as const, size: { cpu: 2, memoryMiB: 512 }, launchedAtMs: 0 }
  assert.deepEqual(trackedProcessOf({ ...base, meta: { pid: '123', startTime: '456' } }), { pid: 123, startTime: '456', cpu: 2 })
  assert.equal(trackedProcessOf(base), undefined)
  assert.equal(trackedProcessOf({ ...base, meta: { pid: 'x', startTime: '456' } }), undefined)
  assert.equal(trackedProcessOf({ ...base, meta: { pid: '123', startTime: '' } }), undefined)
})

test('treeIoTotals sums read and write bytes over the tree; one unreadable process makes it unknown', () => {
  const io = new Map([
    [10, { readBytes: 4096, writeBytes: 1000 }],
    [11, { readBytes: 0, writeBytes: 24 }],
  ])
  assert.deepEqual(treeIoTotals([10, 11], (pid) => io.get(pid)), { readBytes: 4096, writeBytes: 1024 })
  assert.equal(treeIoTotals([10, 11, 12], (pid) => io.get(pid)), undefined, '12 is unreadable: a partial sum would read as a drop')
  assert.equal(treeIoTotals([], (pid) => io.get(pid)), undefined, 'no process, no value')
})

const ioRateCases = [
  // (8 MiB − 0) / 2 s = 4 MiB/s written; 1 MiB read in 2 s = 0.5 MiB/s
  { name: 'bytes over wall seconds', prev: { readBytes: 0, writeBytes: 0 }, now: { readBytes: 1 << 20, writeBytes: 8 << 20 }, ms: 2000, want: { readBytesPerSecond: 524288, writeBytesPerSecond: 4194304 } },
  { name: 'idle is a real 0', prev: { readBytes: 5, writeBytes: 7 }, now: { readBytes: 5, writeBytes: 7 }, ms: 1000, want: { readBytesPerSecond: 0, writeBytesPerSecond: 0 } },
  { name: 'a child that left the tree took its counts: clamped at 0', prev: { readBytes: 900, writeBytes: 900 }, now: { readBytes: 100, writeBytes: 1900 }, ms: 1000, want: { readBytesPerSecond: 0, writeBytesPerSecond: 1000 } },
  { name: 'no time passed', prev: { readBytes: 0, writeBytes: 0 }, now: { readBytes: 1, writeBytes: 1 }, ms: 0, want: undefined },
] as const
for (const c of ioRateCases) {
  test(`ioRates: ${c.name}`, () => {
    assert.deepEqual(ioRates(c.prev, c.now, c.ms), c.want)
  })
}

test('windowOf averages disk rates over the samples that have them, and leaves them out when none has', () => {
  const samples = [
    { atMs: 1000, memoryMiB: 10, processes: 1 },
    { atMs: 2000, memoryMiB: 10, processes: 1, diskReadBytesPerSecond: 100, diskWriteBytesPerSecond: 3000 },
    { atMs: 3000, memoryMiB: 10, processes: 1 }, // unreadable that second: unknown, not 0
    { atMs: 4000, memoryMiB: 10, processes: 1, diskReadBytesPerSecond: 300, diskWriteBytesPerSecond: 1000 },
  ]
  assert.deepEqual(windowOf(samples, 4000, 4000), { memoryMiB: 10, diskReadBytesPerSecond: 200, diskWriteBytesPerSecond: 2000, samples: 4 })
  assert.deepEqual(windowOf(samples, 1500, 3000), { memoryMiB: 10, diskReadBytesPerSecond: 100, diskWriteBytesPerSecond: 3000, samples: 2 })
  assert.deepEqual(windowOf(samples, 500, 3000), { memoryMiB: 10, samples: 1 }, 'no readable io in the window: absent')
})
