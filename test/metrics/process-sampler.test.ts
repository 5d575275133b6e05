import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { ManualClock } from '../../src/core/clock.ts'
import { readProcStat } from '../../src/core/proc-stat.ts'
import { ProcessSampler } from '../../src/metrics/process-sampler.ts'
import { FakeProcRoot } from '../support/proc-fixture.ts'
import { diskWritesCounted } from '../support/disk-writes.ts'

const proc = new FakeProcRoot()
after(() => {
  proc.cleanup()
})

test('samples a process tree from /proc: cpu ratio of the size over wall time, summed RSS', () => {
  const clock = new ManualClock(10_000)
  const sampler = new ProcessSampler({ clock, procRoot: proc.root, ticksPerSecond: 100 })
  proc.write({ pid: 1, ppid: 0, utime: 0, stime: 0, startTime: 1, rssKiB: 4096 })
  proc.write({ pid: 200, ppid: 1, utime: 100, stime: 0, startTime: 500, rssKiB: 51200 })
  proc.write({ pid: 201, ppid: 200, utime: 10, stime: 0, startTime: 510, rssKiB: 10240 })
  sampler.track('a', { pid: 200, startTime: '500', cpu: 2 })

  sampler.sampleOnce()
  assert.deepEqual(sampler.latest('a'), { atMs: 10_000, memoryMiB: 60, processes: 2 }) // (51200 + 10240) / 1024

  clock.advance(1000)
  proc.write({ pid: 200, ppid: 1, utime: 200, stime: 50, startTime: 500, rssKiB: 51200 }) // +150 ticks
  proc.write({ pid: 201, ppid: 200, utime: 60, stime: 0, startTime: 510, rssKiB: 10240 }) // +50 ticks
  sampler.sampleOnce()
  // 200 ticks = 2 cpu-s over 1 s = 2 cores; size 2 → ratio 1
  assert.equal(sampler.latest('a')?.cpuRatio, 1)

  clock.advance(1000)
  proc.remove(201) // the child exits; its parent reaps it: 60 ticks move to cutime
  proc.write({ pid: 200, ppid: 1, utime: 250, stime: 50, cutime: 60, startTime: 500, rssKiB: 51200 })
  sampler.sampleOnce()
  // before 250+60 = 310, now 300+60 = 360 → 50 ticks = 0.5 cores / 2 = 0.25
  assert.equal(sampler.latest('a')?.cpuRatio, 0.25)
  assert.equal(sampler.latest('a')?.processes, 1)
  assert.equal(sampler.latest('a')?.cpuSinceMs, 11_000) // the interval since the previous sample
  // (1 + 0.25)/2, (60 + 50)/2; the two cpu intervals span 10 000 → 12 000
  assert.deepEqual(sampler.window('a', 2000), { cpuRatio: 0.625, cpuAtMs: 12_000, cpuWindowMs: 2000, memoryMiB: 55, samples: 2 })
  assert.deepEqual(sampler.read('a', 2000), { cpuRatio: 0.625, cpuAtMs: 12_000, cpuWindowMs: 2000, memoryMiB: 55 })
  // A 1 s read window holds the last sample only: its interval 11 000 → 12 000.
  assert.deepEqual(sampler.read('a', 1000), { cpuRatio: 0.25, cpuAtMs: 12_000, cpuWindowMs: 1000, memoryMiB: 50 })
})

test('a recycled pid is never sampled as the instance: the track is gone, read() says unknown', () => {
  const clock = new ManualClock(0)
  const sampler = new ProcessSampler({ clock, procRoot: proc.root, ticksPerSecond: 100 })
  proc.write({ pid: 300, ppid: 1, utime: 0, stime: 0, startTime: 700, rssKiB: 1024 })
  sampler.track('b', { pid: 300, startTime: '700', cpu: 1 })
  sampler.sampleOnce()
  clock.advance(1000)
  proc.write({ pid: 300, ppid: 1, utime: 9999, stime: 0, startTime: 900, rssKiB: 999_999 }) // another process, same pid
  sampler.sampleOnce()
  assert.equal(sampler.isGone('b'), true)
  assert.equal(sampler.samples('b').length, 1)
  clock.advance(5000)
  assert.equal(sampler.read('b'), undefined)
})

test('read() of an unknown id asks the resolver and tracks what it answers', () => {
  const clock = new ManualClock(0)
  const sampler = new ProcessSampler({ clock, procRoot: proc.root, ticksPerSecond: 100 })
  proc.write({ pid: 400, ppid: 1, utime: 0, stime: 0, startTime: 800, rssKiB: 2048 })
  proc.write({ pid: 401, ppid: 1, utime: 0, stime: 0, startTime: 801, rssKiB: 2048 })
  const asked: string[] = []
  sampler.start((id) => {
    asked.push(id)
    if (id === 'c') return { pid: 400, startTime: '800', cpu: 0.5 }
    if (id === 'd') return 401 // a bare pid: start time from /proc, cpu size 1
    return undefined
  })
  sampler.stop() // drive the samples by hand
  assert.equal(sampler.read('c'), undefined)
  assert.equal(sampler.read('d'), undefined)
  assert.equal(sampler.read('nobody'), undefined)
  assert.deepEqual(asked, ['c', 'd', 'nobody'])
  assert.deepEqual(sampler.tracked().sort(), ['c', 'd'])
  sampler.sampleOnce()
  clock.advance(1000)
  proc.write({ pid: 400, ppid: 1, utime: 25, stime: 0, startTime: 800, rssKiB: 2048 })
  proc.write({ pid: 401, ppid: 1, utime: 25, stime: 0, startTime: 801, rssKiB: 2048 })
  sampler.sampleOnce()
  assert.equal(sampler.read('c', 1000)?.cpuRatio, 0.5) // 0.25 cores of 0.5
  assert.equal(sampler.read('d', 1000)?.cpuRatio, 0.25) // 0.25 cores of 1
})

test('a gone track that nobody reads is dropped after retainMs', () => {
  const clock = new ManualClock(0)
  const sampler = new ProcessSampler({ clock, procRoot: proc.root, ticksPerSecond: 100, retainMs: 10_000 })
  sampler.track('e', { pid: 555, startTime: '1', cpu: 1 }) // no such process
  sampler.sampleOnce()
  assert.equal(sampler.isGone('e'), true)
  clock.advance(10_001)
  sampler.sampleOnce()
  assert.deepEqual(sampler.tracked(), [])
})

test('on the real /proc: a busy child process shows cpu and memory, through its parent', async () => {
  // The parent only waits; its child spins for at most 3 s. The child's time is in the tree.
  const script = "const c = require('node:child_process').spawn(process.execPath, ['-e', 'const e = Date.now() + 3000; while (Date.now() < e);'], { stdio: 'inherit' }); c.on('exit', () => process.exit(0))"
  const parent = spawn(process.execPath, ['-e', script], { stdio: 'ignore', detached: true })
  await once(parent, 'spawn')
  try {
    const pid = parent.pid!
    const sampler = new ProcessSampler({ intervalMs: 200 })
    sampler.track('real', { pid, startTime: readProcStat(pid)!.startTime, cpu: 1 })
    sampler.start()
    let seen: { cpuRatio?: number; memoryMiB?: number } | undefined
    for (let i = 0; i < 400; i++) {
      await sleep(50)
      const l = sampler.latest('real')
      if (l?.cpuRatio !== undefined && l.cpuRatio > 0 && l.processes === 2) {
        seen = l
        break
      }
    }
    sampler.stop()
    assert.ok(seen !== undefined, 'a sample with cpu from the two-process tree')
    assert.ok((seen.memoryMiB ?? 0) > 1, `memory ${String(seen.memoryMiB)} MiB`)
  } finally {
    process.kill(-parent.pid!, 'SIGKILL') // the whole group: parent and spinning child
  }
})

test('disk bytes/s of a tree from /proc/<pid>/io: Δ over wall time, a reaped child folded into its parent', () => {
  const clock = new ManualClock(50_000)
  const sampler = new ProcessSampler({ clock, procRoot: proc.root, ticksPerSecond: 100 })
  proc.write({ pid: 400, ppid: 1, utime: 0, stime: 0, startTime: 800, rssKiB: 1024, io: { readBytes: 1000, writeBytes: 0 } })
  proc.write({ pid: 401, ppid: 400, utime: 0, stime: 0, startTime: 801, rssKiB: 1024, io: { readBytes: 0, writeBytes: 0 } })
  sampler.track('d', { pid: 400, startTime: '800', cpu: 1 })
  sampler.sampleOnce()
  assert.equal(sampler.latest('d')?.diskWriteBytesPerSecond, undefined, 'the first sample has no Δ yet')

  clock.advance(2000)
  proc.write({ pid: 400, ppid: 1, utime: 0, stime: 0, startTime: 800, rssKiB: 1024, io: { readBytes: 1000 + 2 * 4096, writeBytes: 0 } })
  proc.write({ pid: 401, ppid: 400, utime: 0, stime: 0, startTime: 801, rssKiB: 1024, io: { readBytes: 0, writeBytes: 8 << 20 } })
  sampler.sampleOnce()
  // 8 MiB written by the child and 8 KiB read by the parent, over 2 s
  assert.equal(sampler.latest('d')?.diskWriteBytesPerSecond, 4 << 20)
  assert.equal(sampler.latest('d')?.diskReadBytesPerSecond, 4096)

  clock.advance(1000)
  proc.remove(401) // reaped: the kernel adds its counters to the parent's
  proc.write({ pid: 400, ppid: 1, utime: 0, stime: 0, startTime: 800, rssKiB: 1024, io: { readBytes: 1000 + 2 * 4096, writeBytes: (8 << 20) + (1 << 20) } })
  sampler.sampleOnce()
  assert.equal(sampler.latest('d')?.diskWriteBytesPerSecond, 1 << 20, "only the new MiB, not the child's 8 again")
  // the last 2 s: (4 KiB/s + 0) / 2 read, (4 MiB/s + 1 MiB/s) / 2 written; memory (2 + 1 MiB) / 2
  assert.deepEqual(sampler.read('d', 2000), { cpuRatio: 0, cpuAtMs: 53_000, cpuWindowMs: 3000, memoryMiB: 1.5, diskReadBytesPerSecond: 2048, diskWriteBytesPerSecond: 2.5 * (1 << 20) })
})

test('an unreadable /proc/<pid>/io gives unknown disk rates, never 0; the next readable sample spans the gap', () => {
  const clock = new ManualClock(0)
  const sampler = new ProcessSampler({ clock, procRoot: proc.root, ticksPerSecond: 100 })
  proc.write({ pid: 500, ppid: 1, utime: 0, stime: 0, startTime: 900, rssKiB: 1024, io: { readBytes: 0, writeBytes: 0 } })
  sampler.track('u', { pid: 500, startTime: '900', cpu: 1 })
  sampler.sampleOnce()
  clock.advance(1000)
  proc.write({ pid: 500, ppid: 1, utime: 0, stime: 0, startTime: 900, rssKiB: 1024, io: 'unreadable' })
  sampler.sampleOnce()
  const blind = sampler.latest('u')
  assert.ok(blind !== undefined && !('diskWriteBytesPerSecond' in blind) && !('diskReadBytesPerSecond' in blind), 'no disk fields at all')
  assert.deepEqual(sampler.read('u', 1000), { cpuRatio: 0, cpuAtMs: 1000, cpuWindowMs: 1000, memoryMiB: 1 }, 'read() has no disk rate rather than 0')
  clock.advance(1000)
  proc.write({ pid: 500, ppid: 1, utime: 0, stime: 0, startTime: 900, rssKiB: 1024, io: { readBytes: 0, writeBytes: 6000 } })
  sampler.sampleOnce()
  assert.equal(sampler.latest('u')?.diskWriteBytesPerSecond, 3000, '6000 bytes over the 2 s since the last readable sample')
})


test('on the real /proc: a child that writes 16 MiB to a temp file in one clock second shows 16 MiB/s written', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tide-disk-'))
  try {
    if (!diskWritesCounted(dir)) {
      t.skip(`${tmpdir()} does not count write_bytes (tmpfs, or a kernel without task I/O accounting): set TMPDIR to a disk-backed folder`)
      return
    }
    const mib = 16
    // Waits for a line on stdin, writes `mib` MiB, says "done", then idles until killed.
    const script = `process.stdin.once('data', () => { const fs = require('node:fs'); const fd = fs.openSync(${JSON.stringify(join(dir, 'out.bin'))}, 'w'); const b = Buffer.alloc(1 << 20, 7); for (let i = 0; i < ${mib}; i++) fs.writeSync(fd, b); fs.closeSync(fd); process.stdout.write('done\\n'); setInterval(() => {}, 1000) }); process.stdout.write('ready\\n')`
    const child = spawn(process.execPath, ['-e', script], { stdio: ['pipe', 'pipe', 'ignore'] })
    try {
      let out = ''
      child.stdout.setEncoding('utf8')
      child.stdout.on('data', (c: string) => {
        out += c
      })
      const line = async (want: string): Promise<void> => {
        const deadline = Date.now() + 20_000
        while (!out.includes(want)) {
          if (Date.now() > deadline || child.exitCode !== null) throw new Error(`the child did not say ${want} within 20 s`)
          await sleep(10)
        }
      }
      await line('ready')
      const clock = new ManualClock(0)
      const sampler = new ProcessSampler({ clock })
      sampler.track('w', { pid: child.pid!, startTime: readProcStat(child.pid!)!.startTime, cpu: 1 })
      sampler.sampleOnce()
      child.stdin.write('go\n')
      await line('done')
      clock.advance(1000)
      sampler.sampleOnce()
      const rate = sampler.latest('w')?.diskWriteBytesPerSecond
      assert.ok(rate !== undefined, "the child's io is readable")
      // Pages are counted as they are dirtied: the 16 MiB, plus at most a little metadata.
      assert.ok(rate >= mib * (1 << 20) && rate <= (mib + 1) * (1 << 20), `wrote ${rate / (1 << 20)} MiB/s`)
    } finally {
      child.kill('SIGKILL')
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
