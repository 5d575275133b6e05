import assert from 'node:assert/strict'
import { test } from 'node:test'
import { isExitedState, isSameLiveProcess, parseProcIo, parseProcStat, parseVmRssKiB, ProcParseError, readProcIo, readProcStat } from '../../src/core/proc-stat.ts'
import { FakeProcRoot, statLine } from '../support/proc-fixture.ts'

// Captured from `cat /proc/self/stat` on Linux 6.x.
const realLine = '6066 (cat) R 6057 6057 3242 0 -1 4194304 98 0 0 0 7 3 1 2 20 0 1 0 113769 3133440 360 18446744073709551615 94364976218112 94364976237993 140726868194288 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0 94364976254000 94364976255616 94365070422016 140726868195862 140726868195882 140726868195882 140726868197355 0\n'

const statCases = [
  { name: 'a real line', text: realLine, want: { pid: 6066, comm: 'cat', state: 'R', ppid: 6057, pgrp: 6057, utimeTicks: 7, stimeTicks: 3, cutimeTicks: 1, cstimeTicks: 2, numThreads: 1, startTime: '113769' } },
  {
    name: 'comm with spaces and parentheses',
    text: statLine({ pid: 42, ppid: 1, comm: 'my (odd) ) name', utime: 5, stime: 6, startTime: 999, threads: 7 }),
    want: { pid: 42, comm: 'my (odd) ) name', state: 'S', ppid: 1, pgrp: 42, utimeTicks: 5, stimeTicks: 6, cutimeTicks: 0, cstimeTicks: 0, numThreads: 7, startTime: '999' },
  },
  {
    name: 'a zombie',
    text: statLine({ pid: 7, ppid: 3, state: 'Z', utime: 1, stime: 1, startTime: 5 }),
    want: { pid: 7, comm: 'node', state: 'Z', ppid: 3, pgrp: 7, utimeTicks: 1, stimeTicks: 1, cutimeTicks: 0, cstimeTicks: 0, numThreads: 1, startTime: '5' },
  },
] as const
for (const c of statCases) {
  test(`parseProcStat: ${c.name}`, () => {
    assert.deepEqual(parseProcStat(c.text), c.want)
  })
}

const badStat = [
  { name: 'empty text', text: '' },
  { name: 'no comm', text: '12 cat R 1 1' },
  { name: 'truncated after comm', text: '12 (cat) R 1 1 1' },
  { name: 'pid not a number', text: 'x (cat) ' + realLine.slice(realLine.indexOf(')') + 2) },
] as const
for (const c of badStat) {
  test(`parseProcStat refuses ${c.name}`, () => {
    assert.throws(() => parseProcStat(c.text), ProcParseError)
  })
}

const rssCases = [
  { name: 'a user process', text: 'Name:\tnode\nVmPeak:\t  900 kB\nVmRSS:\t   45312 kB\nRssAnon:\t 30000 kB\n', want: 45312 },
  { name: 'a kernel thread has none', text: 'Name:\tkthreadd\nState:\tS (sleeping)\nThreads:\t1\n', want: undefined },
  { name: 'VmRSSx is not VmRSS', text: 'VmRSSx:\t12 kB\n', want: undefined },
] as const
for (const c of rssCases) {
  test(`parseVmRssKiB: ${c.name}`, () => {
    assert.equal(parseVmRssKiB(c.text), c.want)
  })
}

const exitedCases = [
  { state: 'Z', want: true },
  { state: 'X', want: true },
  { state: 'R', want: false },
  { state: 'S', want: false },
  { state: 'D', want: false },
] as const
for (const c of exitedCases) {
  test(`isExitedState(${c.state}) is ${c.want}`, () => {
    assert.equal(isExitedState(c.state), c.want)
  })
}

test('isSameLiveProcess: the same pid with another start time is not the same process', () => {
  const proc = new FakeProcRoot()
  try {
    proc.write({ pid: 100, ppid: 1, utime: 0, stime: 0, startTime: 5000 })
    assert.equal(isSameLiveProcess(100, '5000', proc.root), true)
    assert.equal(isSameLiveProcess(100, '4999', proc.root), false, 'recycled pid')
    assert.equal(isSameLiveProcess(101, '5000', proc.root), false, 'no such pid')
    proc.write({ pid: 100, ppid: 1, state: 'Z', utime: 0, stime: 0, startTime: 5000 })
    assert.equal(isSameLiveProcess(100, '5000', proc.root), false, 'zombie')
  } finally {
    proc.cleanup()
  }
})

test('readProcStat reads this very process', () => {
  const s = readProcStat(process.pid)
  assert.equal(s?.pid, process.pid)
  assert.equal(s.ppid, process.ppid)
  assert.ok(s.numThreads >= 1)
})

// Captured from `cat /proc/self/io` after a node process wrote 8 MiB to a file on ext4.
const realIo = 'rchar: 249838\nwchar: 8388609\nsyscr: 85\nsyscw: 9\nread_bytes: 0\nwrite_bytes: 8404992\ncancelled_write_bytes: 0\n'

const ioCases = [
  { name: 'a real file', text: realIo, want: { readBytes: 0, writeBytes: 8404992 } },
  { name: 'counters beyond 2^32', text: 'read_bytes: 5000000000\nwrite_bytes: 12\n', want: { readBytes: 5_000_000_000, writeBytes: 12 } },
  { name: 'lines in another order, cancelled writes ignored', text: 'cancelled_write_bytes: 4096\nwrite_bytes: 8192\nrchar: 1\nread_bytes: 4096\n', want: { readBytes: 4096, writeBytes: 8192 } },
] as const
for (const c of ioCases) {
  test(`parseProcIo: ${c.name}`, () => {
    assert.deepEqual(parseProcIo(c.text), c.want)
  })
}

const badIo = [
  { name: 'empty text', text: '' },
  { name: 'no write_bytes line', text: 'rchar: 1\nread_bytes: 0\ncancelled_write_bytes: 0\n' },
  { name: 'cancelled_write_bytes is not write_bytes', text: 'read_bytes: 0\ncancelled_write_bytes: 0\n' },
  { name: 'a negative count', text: 'read_bytes: -1\nwrite_bytes: 0\n' },
  { name: 'not a number', text: 'read_bytes: lots\nwrite_bytes: 0\n' },
] as const
for (const c of badIo) {
  test(`parseProcIo refuses ${c.name}`, () => {
    assert.throws(() => parseProcIo(c.text), ProcParseError)
  })
}

test('readProcIo: counters when readable, undefined (never 0) when the file is missing, unreadable or garbled', () => {
  const proc = new FakeProcRoot()
  try {
    proc.write({ pid: 10, ppid: 1, utime: 0, stime: 0, startTime: 1, io: { readBytes: 4096, writeBytes: 1 << 20 } })
    assert.deepEqual(readProcIo(10, proc.root), { readBytes: 4096, writeBytes: 1 << 20 })
    proc.write({ pid: 11, ppid: 1, utime: 0, stime: 0, startTime: 1, io: 'unreadable' })
    assert.equal(readProcIo(11, proc.root), undefined, 'unreadable io file')
    proc.write({ pid: 12, ppid: 1, utime: 0, stime: 0, startTime: 1 })
    assert.equal(readProcIo(12, proc.root), undefined, 'no io file (a kernel without task I/O accounting)')
    assert.equal(readProcIo(13, proc.root), undefined, 'no such process')
  } finally {
    proc.cleanup()
  }
})

test('readProcIo reads this very process', () => {
  const io = readProcIo(process.pid)
  assert.ok(io !== undefined, 'this process may read its own /proc/<pid>/io')
  assert.ok(Number.isInteger(io.readBytes) && io.readBytes >= 0)
  assert.ok(Number.isInteger(io.writeBytes) && io.writeBytes >= 0)
})
