/**
 * Cpu, memory and disk I/O of local instances, read from /proc every second (DESIGN.md: "Cpu
 * and memory read from /proc"). An instance is a process tree: the launched process,
 * its threads, and whatever it starts (npx → node, a shell → the server). Per sample:
 *
 *   cpuRatio  = Δ(cpu ticks of the tree) / ticksPerSecond / Δwall seconds / cpu size
 *               (1.0 = the instance uses exactly the cores it is sized for; above 1 when
 *               it uses more, as nothing caps a local process)
 *   memoryMiB = Σ VmRSS of the tree / 1024 (shared pages are counted once per process,
 *               so a tree of forks over-reports — an upper bound, as `ps` gives)
 *   diskReadBytesPerSecond, diskWriteBytesPerSecond
 *             = Δ(Σ read_bytes, Σ write_bytes of /proc/<pid>/io over the tree) / Δwall
 *               seconds; unknown (absent) when any process of the tree has an unreadable
 *               io file, never 0
 *
 * Tree cpu ticks are Σ (utime + stime + cutime + cstime) over the tree's live processes:
 * a child that exits and is reaped by its parent moves its time into the parent's
 * cutime/cstime, so the sum stays continuous; the kernel folds a reaped child's I/O
 * counters into its parent's the same way. A process identity is pid + start time,
 * as in the local provider, so a recycled pid is never sampled as the instance.
 *
 * This file holds the pure arithmetic; ProcessSampler (process-sampler.ts) does the I/O.
 */
import type { ProcStat } from '../core/proc-stat.ts'

/** The process an instance runs as, and the cpu it is sized for. */
export interface TrackedProcess {
  readonly pid: number
  /** /proc/<pid>/stat field 22: with the pid, the process's identity. */
  readonly startTime: string
  /** Cores the instance is sized for (its Size.cpu); the denominator of cpuRatio. */
  readonly cpu: number
}

/** One measurement of one instance. */
export interface ProcessSample {
  /** Clock time of the measurement, epoch ms. */
  readonly atMs: number
  /** Cpu over the interval since the previous sample, as a fraction of the instance's cpu size; absent on the first sample. */
  readonly cpuRatio?: number
  /** When that interval began (the previous sample's atMs), epoch ms; present with cpuRatio. */
  readonly cpuSinceMs?: number
  /** Resident memory of the tree, MiB. */
  readonly memoryMiB: number
  /**
   * Bytes/s the tree read from and wrote toward storage over the interval since the previous
   * sample with readable I/O counters; absent on the first such sample and whenever a
   * process of the tree had unreadable counters (unknown, never 0).
   */
  readonly diskReadBytesPerSecond?: number
  readonly diskWriteBytesPerSecond?: number
  /** Live processes in the tree. */
  readonly processes: number
}

/**
 * An instance's resources over a window, shaped like the engine's InstanceSample fields; each
 * absent when unknown (ProcessSampler.read(), the runtime's ResourceSampler).
 */
export interface ResourceReading {
  readonly cpuRatio?: number
  /** When the last cpu interval averaged ended, epoch ms (InstanceSample.cpuAtMs); present with cpuRatio. */
  readonly cpuAtMs?: number
  /** From the start of the first cpu interval averaged to cpuAtMs, ms (InstanceSample.cpuWindowMs); present with cpuRatio. */
  readonly cpuWindowMs?: number
  readonly memoryMiB?: number
  /** Bytes/s, averaged over the samples that have them. */
  readonly diskReadBytesPerSecond?: number
  readonly diskWriteBytesPerSecond?: number
}

/** Averages over a window (absent = missing), with how many samples they are over. */
export interface ProcessWindow extends ResourceReading {
  readonly samples: number
}

/**
 * The pids of `rootPid` and all its descendants, found through the ppid of every
 * process in `stats`. Excludes the root when it is absent from `stats`. Pure.
 */
export function processTree(rootPid: number, stats: ReadonlyMap<number, ProcStat>): number[] {
  if (!stats.has(rootPid)) return []
  const children = new Map<number, number[]>()
  for (const s of stats.values()) {
    const list = children.get(s.ppid)
    if (list === undefined) children.set(s.ppid, [s.pid])
    else list.push(s.pid)
  }
  const tree: number[] = []
  const stack = [rootPid]
  const seen = new Set<number>()
  while (stack.length > 0) {
    const pid = stack.pop()
    if (pid === undefined || seen.has(pid)) continue
    seen.add(pid)
    tree.push(pid)
    for (const c of children.get(pid) ?? []) stack.push(c)
  }
  return tree
}

/** Σ (utime + stime + cutime + cstime) over `pids`, in clock ticks. Pids missing from `stats` count 0. Pure. */
export function treeCpuTicks(pids: readonly number[], stats: ReadonlyMap<number, ProcStat>): number {
  let ticks = 0
  for (const pid of pids) {
    const s = stats.get(pid)
    if (s !== undefined) ticks += s.utimeTicks + s.stimeTicks + s.cutimeTicks + s.cstimeTicks
  }
  return ticks
}

/**
 * Cpu used between two readings as a fraction of `cpuSize` cores:
 * (Δticks / ticksPerSecond) cpu-seconds ÷ (elapsedMs / 1000) wall seconds ÷ cpuSize.
 * Undefined when no time passed. A negative Δ (a child reparented away from the tree
 * took its time with it) is clamped to 0. Pure.
 */
export function cpuRatio(prevTicks: number, nowTicks: number, elapsedMs: number, ticksPerSecond: number, cpuSize: number): number | undefined {
  if (elapsedMs <= 0 || cpuSize <= 0) return undefined
  const cpuSeconds = Math.max(0, nowTicks - prevTicks) / ticksPerSecond
  return cpuSeconds / (elapsedMs / 1000) / cpuSize
}

/** Storage bytes a tree has read and written since its processes started (Σ /proc/<pid>/io). */
export interface IoTotals {
  readonly readBytes: number
  readonly writeBytes: number
}

/**
 * Σ read_bytes and Σ write_bytes over `pids`, through `readIo` (/proc/<pid>/io); undefined
 * when any of them cannot be read, because a sum missing one process would read as a
 * drop, then as a burst when the process reappears or is reaped into its parent.
 */
export function treeIoTotals(pids: readonly number[], readIo: (pid: number) => IoTotals | undefined): IoTotals | undefined {
  if (pids.length === 0) return undefined
  let readBytes = 0
  let writeBytes = 0
  for (const pid of pids) {
    const io = readIo(pid)
    if (io === undefined) return undefined
    readBytes += io.readBytes
    writeBytes += io.writeBytes
  }
  return { readBytes, writeBytes }
}

/**
 * Bytes/s read and written between two I/O totals `elapsedMs` apart; undefined when no
 * time passed. A negative Δ (a child reparented away from the tree took its counts with
 * it) is clamped to 0, as for cpu. Pure.
 */
export function ioRates(prev: IoTotals, now: IoTotals, elapsedMs: number): { readonly readBytesPerSecond: number; readonly writeBytesPerSecond: number } | undefined {
  if (elapsedMs <= 0) return undefined
  const seconds = elapsedMs / 1000
  return { readBytesPerSecond: Math.max(0, now.readBytes - prev.readBytes) / seconds, writeBytesPerSecond: Math.max(0, now.writeBytes - prev.writeBytes) / seconds }
}

/**
 * Averages the samples with atMs in (nowMs − windowMs, nowMs]. The cpu average comes with the
 * span its intervals cover: from the earliest interval's start (cpuSinceMs, or the sample's own
 * atMs when absent) to the latest sample's atMs, which is what the HPA's cpu rule compares with
 * readiness. Pure.
 */
export function windowOf(samples: readonly ProcessSample[], windowMs: number, nowMs: number): ProcessWindow {
  let cpuSum = 0
  let cpuCount = 0
  let cpuFromMs = Number.POSITIVE_INFINITY
  let cpuToMs = Number.NEGATIVE_INFINITY
  let memSum = 0
  let memCount = 0
  let readSum = 0
  let writeSum = 0
  let ioCount = 0
  for (const s of samples) {
    if (s.atMs <= nowMs - windowMs || s.atMs > nowMs) continue
    memSum += s.memoryMiB
    memCount++
    if (s.cpuRatio !== undefined) {
      cpuSum += s.cpuRatio
      cpuCount++
      cpuFromMs = Math.min(cpuFromMs, s.cpuSinceMs ?? s.atMs)
      cpuToMs = Math.max(cpuToMs, s.atMs)
    }
    if (s.diskReadBytesPerSecond !== undefined && s.diskWriteBytesPerSecond !== undefined) {
      readSum += s.diskReadBytesPerSecond
      writeSum += s.diskWriteBytesPerSecond
      ioCount++
    }
  }
  return {
    ...(cpuCount > 0 ? { cpuRatio: cpuSum / cpuCount, cpuAtMs: cpuToMs, cpuWindowMs: cpuToMs - cpuFromMs } : {}),
    ...(memCount > 0 ? { memoryMiB: memSum / memCount } : {}),
    ...(ioCount > 0 ? { diskReadBytesPerSecond: readSum / ioCount, diskWriteBytesPerSecond: writeSum / ioCount } : {}),
    samples: memCount,
  }
}

/**
 * The fields of an instance record (providers/provider.ts InstanceRecord) that
 * trackedProcessOf reads; structural, so that metrics/ does not import providers/.
 */
export interface ProcessOwner {
  readonly size: { readonly cpu: number }
  readonly meta?: Readonly<Record<string, string>> | undefined
}

/**
 * What the sampler needs to know to track an instance the local provider reports:
 * its pid and start time (from meta) and its cpu size. Undefined when the record has
 * no process (another provider, or a record without meta).
 */
export function trackedProcessOf(record: ProcessOwner): TrackedProcess | undefined {
  const pid = Number(record.meta?.pid)
  const startTime = record.meta?.startTime
  if (!Number.isInteger(pid) || pid <= 0 || startTime === undefined || startTime === '') return undefined
  return { pid, startTime, cpu: record.size.cpu }
}
