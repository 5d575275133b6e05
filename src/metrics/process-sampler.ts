/**
 * Samples cpu, memory and disk I/O of local instances from /proc every second (the arithmetic
 * and its units are in process-stats.ts). One scan of /proc per sample serves every
 * instance, because finding an instance's descendants needs every process's ppid.
 *
 * Two ways to tell it what to sample:
 * - track(id, proc) / untrack(id) explicitly, or
 * - start(resolve): read(id) of an id not yet tracked asks `resolve(id)` and tracks
 *   the answer from then on — so a caller that only reads never has to keep the
 *   tracked set in step with the fleet. Tracks of instances that are gone and no
 *   longer read are dropped after retainMs.
 */
import { systemClock } from '../core/clock.ts'
import type { Clock } from '../core/clock.ts'
import { clockTicksPerSecond, isExitedState, listPids, readProcIo, readProcStat, readRssKiB } from '../core/proc-stat.ts'
import type { ProcStat } from '../core/proc-stat.ts'
import { cpuRatio, ioRates, processTree, treeCpuTicks, treeIoTotals, windowOf } from './process-stats.ts'
import type { IoTotals, ProcessSample, ProcessWindow, ResourceReading, TrackedProcess } from './process-stats.ts'

/**
 * Finds the process of an instance id: a TrackedProcess (use trackedProcessOf(record)),
 * or a bare pid — then the start time is taken from /proc when first seen and the cpu
 * size is taken as 1, so cpuRatio is in cores used — or undefined when unknown.
 */
export type InstanceResolver = (instanceId: string) => TrackedProcess | number | undefined

/** How a ProcessSampler is set up. All optional. */
export interface ProcessSamplerOptions {
  /** Sampling period in ms. Default 1000. */
  readonly intervalMs?: number
  /** The window read(id) averages over when not given one, ms. Default 3000: three samples, fresh within seconds. */
  readonly readWindowMs?: number
  /** How much history each instance keeps, ms. Default 300 000 (5 min). */
  readonly retainMs?: number
  /** Time source for sample timestamps and Δwall. Default the system clock. */
  readonly clock?: Clock
  /** Where /proc is (tests use a fixture directory). Default /proc. */
  readonly procRoot?: string
  /** USER_HZ; default from getconf CLK_TCK. */
  readonly ticksPerSecond?: number
}

interface Track {
  readonly proc: TrackedProcess
  samples: ProcessSample[]
  last?: { readonly atMs: number; readonly ticks: number }
  /** The last readable I/O totals of the tree; an unreadable sample leaves it, so the next rate spans the gap. */
  lastIo?: { readonly atMs: number; readonly totals: IoTotals }
  /** When the process was found gone or replaced; no more samples are taken. */
  goneAtMs?: number
  lastReadMs: number
}

/**
 * The per-second /proc sampler for the local provider's instances. An instance whose
 * process is gone (or whose pid now belongs to another process) stops getting samples:
 * its window empties and read() says undefined, which the engine treats as missing —
 * never as idle.
 */
export class ProcessSampler {
  readonly #intervalMs: number
  readonly #readWindowMs: number
  readonly #retainMs: number
  readonly #clock: Clock
  readonly #procRoot: string
  readonly #ticksPerSecond: number
  readonly #tracks = new Map<string, Track>()
  #resolve: InstanceResolver | undefined
  #timer: NodeJS.Timeout | undefined

  constructor(options: ProcessSamplerOptions = {}) {
    this.#intervalMs = options.intervalMs ?? 1000
    this.#readWindowMs = options.readWindowMs ?? 3000
    this.#retainMs = options.retainMs ?? 300_000
    this.#clock = options.clock ?? systemClock
    this.#procRoot = options.procRoot ?? '/proc'
    this.#ticksPerSecond = options.ticksPerSecond ?? clockTicksPerSecond()
  }

  /** Starts tracking an instance; a different process under the same id starts a fresh track. */
  track(id: string, proc: TrackedProcess): void {
    const prior = this.#tracks.get(id)
    if (prior?.proc.pid === proc.pid && prior.proc.startTime === proc.startTime && prior.proc.cpu === proc.cpu) return
    this.#tracks.set(id, { proc, samples: [], lastReadMs: this.#clock.now() })
  }

  /** Stops tracking and forgets the samples. Unknown ids are ignored. */
  untrack(id: string): void {
    this.#tracks.delete(id)
  }

  /** The ids being tracked. */
  tracked(): string[] {
    return [...this.#tracks.keys()]
  }

  /** Whether the instance's process was found gone, or replaced by another with the same pid. */
  isGone(id: string): boolean {
    return this.#tracks.get(id)?.goneAtMs !== undefined
  }

  /** Takes one sample of every tracked instance now. start() calls this every intervalMs. */
  sampleOnce(): void {
    const nowMs = this.#clock.now()
    this.#prune(nowMs)
    const live = [...this.#tracks.values()].filter((t) => t.goneAtMs === undefined)
    if (live.length === 0) return
    const stats = this.#scan()
    for (const t of live) this.#sample(t, stats, nowMs)
  }

  /**
   * Samples every intervalMs until stop(); idempotent. With `resolve`, read() tracks
   * ids it does not know yet (see the module comment). The timer does not keep the
   * process alive.
   */
  start(resolve?: InstanceResolver): void {
    if (resolve !== undefined) this.#resolve = resolve
    if (this.#timer !== undefined) return
    this.#timer = setInterval(() => {
      this.sampleOnce()
    }, this.#intervalMs)
    this.#timer.unref()
  }

  /** Stops sampling; samples taken so far stay readable. */
  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer)
    this.#timer = undefined
  }

  /**
   * Cpu ratio, memory and disk bytes/s of an instance averaged over `windowMs` (default
   * readWindowMs) up to now, the cpu with the end and length of the span it covers (cpuAtMs,
   * cpuWindowMs); undefined when there is no sample in the window (unknown, just tracked, or
   * gone), and each field absent when no sample in the window has it (disk: the io files were
   * unreadable, or only one sample yet). Fits the runtime's ResourceSampler.
   */
  read(instanceId: string, windowMs = this.#readWindowMs): ResourceReading | undefined {
    const nowMs = this.#clock.now()
    const t = this.#tracks.get(instanceId)
    if (t === undefined) {
      this.#adopt(instanceId)
      return undefined
    }
    t.lastReadMs = nowMs
    const w = windowOf(t.samples, windowMs, nowMs)
    if (w.samples === 0) return undefined
    const cpu = w.cpuRatio !== undefined && w.cpuAtMs !== undefined && w.cpuWindowMs !== undefined ? { cpuRatio: w.cpuRatio, cpuAtMs: w.cpuAtMs, cpuWindowMs: w.cpuWindowMs } : {}
    return {
      ...cpu,
      ...(w.memoryMiB !== undefined ? { memoryMiB: w.memoryMiB } : {}),
      ...(w.diskReadBytesPerSecond !== undefined ? { diskReadBytesPerSecond: w.diskReadBytesPerSecond } : {}),
      ...(w.diskWriteBytesPerSecond !== undefined ? { diskWriteBytesPerSecond: w.diskWriteBytesPerSecond } : {}),
    }
  }

  /** Averages over the last `windowMs`, with the sample count. */
  window(id: string, windowMs: number): ProcessWindow {
    return windowOf(this.samples(id), windowMs, this.#clock.now())
  }

  /** The newest sample of an instance, or undefined. */
  latest(id: string): ProcessSample | undefined {
    const s = this.#tracks.get(id)?.samples
    return s?.[s.length - 1]
  }

  /** Every retained sample of an instance, oldest first. */
  samples(id: string): readonly ProcessSample[] {
    return this.#tracks.get(id)?.samples ?? []
  }

  #adopt(id: string): void {
    const found = this.#resolve?.(id)
    if (found === undefined) return
    if (typeof found !== 'number') {
      this.track(id, found)
      return
    }
    const stat = readProcStat(found, this.#procRoot)
    if (stat === undefined || isExitedState(stat.state)) return
    this.track(id, { pid: found, startTime: stat.startTime, cpu: 1 })
  }

  #sample(t: Track, stats: ReadonlyMap<number, ProcStat>, nowMs: number): void {
    const root = stats.get(t.proc.pid)
    if (root === undefined || root.startTime !== t.proc.startTime || isExitedState(root.state)) {
      t.goneAtMs = nowMs
      return
    }
    const pids = processTree(t.proc.pid, stats)
    const ticks = treeCpuTicks(pids, stats)
    let rssKiB = 0
    for (const pid of pids) rssKiB += readRssKiB(pid, this.#procRoot) ?? 0
    const ratio = t.last === undefined ? undefined : cpuRatio(t.last.ticks, ticks, nowMs - t.last.atMs, this.#ticksPerSecond, t.proc.cpu)
    const since = t.last?.atMs
    t.last = { atMs: nowMs, ticks }
    const io = treeIoTotals(pids, (pid) => readProcIo(pid, this.#procRoot))
    const rates = io === undefined || t.lastIo === undefined ? undefined : ioRates(t.lastIo.totals, io, nowMs - t.lastIo.atMs)
    if (io !== undefined) t.lastIo = { atMs: nowMs, totals: io }
    t.samples.push({
      atMs: nowMs,
      ...(ratio !== undefined && since !== undefined ? { cpuRatio: ratio, cpuSinceMs: since } : {}),
      memoryMiB: rssKiB / 1024,
      ...(rates !== undefined ? { diskReadBytesPerSecond: rates.readBytesPerSecond, diskWriteBytesPerSecond: rates.writeBytesPerSecond } : {}),
      processes: pids.length,
    })
    const oldest = nowMs - this.#retainMs
    if ((t.samples[0]?.atMs ?? nowMs) <= oldest) t.samples = t.samples.filter((s) => s.atMs > oldest)
  }

  /** Drops tracks whose process is gone and that nobody has read for retainMs. */
  #prune(nowMs: number): void {
    for (const [id, t] of this.#tracks) {
      if (t.goneAtMs !== undefined && nowMs - Math.max(t.goneAtMs, t.lastReadMs) > this.#retainMs) this.#tracks.delete(id)
    }
  }

  /** One read of /proc/<pid>/stat for every process. */
  #scan(): Map<number, ProcStat> {
    const stats = new Map<number, ProcStat>()
    for (const pid of listPids(this.#procRoot)) {
      const s = readProcStat(pid, this.#procRoot)
      if (s !== undefined) stats.set(pid, s)
    }
    return stats
  }
}
