import assert from 'node:assert/strict'
import { join } from 'node:path'
import { test } from 'node:test'
import { dataPlaneLines } from '../../src/cli/data-plane-lines.ts'
import { readProcStat } from '../../src/core/proc-stat.ts'
import { writeRecord } from '../../src/router/data-plane-record.ts'
import { tempDir } from '../store/temp-dir.ts'

test('dataPlaneLines lists each recorded data plane, alive or a stale record, and nothing when there is none', (t) => {
  const dir = tempDir(t)
  assert.deepEqual(dataPlaneLines(join(dir, 'nothing-here')), [])
  const self = readProcStat(process.pid)
  assert.ok(self)
  // This test's own process stands for a live data plane; a wrong start time makes a stale record (its pid reused).
  writeRecord(dir, { group: 'live', pid: process.pid, startTime: self.startTime, socket: join(dir, 'live.sock'), host: '127.0.0.1', port: 8080, proxy: 'tide', configHash: 'h', startedAtMs: Date.UTC(2026, 11, 6, 9, 0, 0) })
  writeRecord(dir, { group: 'stale', pid: process.pid, startTime: `${self.startTime}9`, socket: join(dir, 'stale.sock'), host: '127.0.0.1', port: 8081, proxy: 'haproxy', configHash: 'h', startedAtMs: 0 })
  assert.deepEqual(dataPlaneLines(dir), [
    `data planes in ${dir}:`,
    `  live: pid ${process.pid} alive, tide's proxy on 127.0.0.1:8080 since 2026-12-06T09:00:00.000Z; a running tide attaches to it, else it serves on its own (log: dataplane/live.log)`,
    `  stale: pid ${process.pid} gone (a stale record), HAProxy on 127.0.0.1:8081 (starting); a running tide attaches to it, else it serves on its own (log: dataplane/stale.log)`,
  ])
})
