/**
 * The controller's side of vertical scaling, as the Kubernetes VPA recommender's
 * ClusterState: per group, decaying histograms of per-instance cpu (cores) and memory (MiB)
 * usage, fed from the same per-instance samples that drive target tracking, plus the last
 * out-of-memory kill. The engine's vertical policy and mixed planner read them
 * (DecideInput.usage); they never feed them.
 *
 * - cpu: cpuRatio × the instance's cpu size, in cores, weighted by the instance's cpu (the
 *   VPA weights a cpu sample by the container's request, so big instances count more).
 * - memory: the sample in MiB, weight 1 (the VPA keeps a per-interval peak; our samples are
 *   already per-window means of a one-second sampler).
 * - Only in-service instances: warming instances (start-up spikes) and draining ones (winding
 *   down) would skew what a serving instance needs. For cpu, also the rule target tracking
 *   uses (the HPA's, engine/instance-classes.ts cpuSampleIgnored): within the group's cpu
 *   initialization period, a reading whose window began before the instance was ready (its
 *   start-up burst) is not recorded.
 * - The half-life is vertical.halfLifeHours (default 24 h, the VPA's).
 * - The last memory sample of every instance that serves (warming too) is kept until the
 *   instance is gone: it is the usage recorded at an out-of-memory kill.
 *
 * No I/O and no clock: the controller passes `nowMs`.
 */
import type { InstanceView, Signals, UsageHistograms } from '../engine/types.ts'
import { cpuReadinessOf, cpuReadinessPeriods, cpuSampleIgnored, type CpuReadinessPeriods } from '../engine/instance-classes.ts'
import { cpuHistogramOptions, DecayingHistogram, memoryHistogramOptions } from '../engine/vertical/decaying-histogram.ts'
import type { GroupSpec } from '../spec/schema.ts'
import type { StoredUsage } from '../store/state-store.ts'

/** Keeps one group's usage histograms (see the module comment). */
export class UsageRecorder {
  cpuCores: DecayingHistogram
  memoryMiB: DecayingHistogram
  #oom: { usageMiB: number; atMs: number } | undefined
  #samples = 0
  /** The last view(), until the next observe() or noteOom() changes what it shows. */
  #view: UsageHistograms | undefined
  readonly #lastMemoryMiB = new Map<string, number>()
  readonly #cpuPeriods: CpuReadinessPeriods

  constructor(spec: GroupSpec) {
    const halfLifeMs = spec.vertical.halfLifeHours * 3_600_000
    this.#cpuPeriods = cpuReadinessPeriods(spec)
    this.cpuCores = new DecayingHistogram(cpuHistogramOptions, halfLifeMs)
    this.memoryMiB = new DecayingHistogram(memoryHistogramOptions, halfLifeMs)
  }

  /** Adds this tick's samples of the group's in-service instances; `instances` are all the group has now. */
  observe(instances: readonly InstanceView[], signals: Signals | undefined, nowMs: number): void {
    this.#view = undefined
    const present = new Set(instances.map((v) => v.id))
    for (const id of this.#lastMemoryMiB.keys()) if (!present.has(id)) this.#lastMemoryMiB.delete(id)
    if (signals === undefined) return
    for (const v of instances) {
      const s = signals.instances.get(v.id)
      if (s === undefined) continue
      if (s.memoryMiB !== undefined) this.#lastMemoryMiB.set(v.id, s.memoryMiB)
      if (v.phase !== 'in-service') continue
      if (s.cpuRatio !== undefined && Number.isFinite(s.cpuRatio) && !cpuSampleIgnored(cpuReadinessOf(v), { atMs: s.cpuAtMs, windowMs: s.cpuWindowMs }, nowMs, this.#cpuPeriods)) {
        this.cpuCores.addSample(Math.max(0, s.cpuRatio) * v.size.cpu, Math.max(0.01, v.size.cpu), nowMs)
        this.#samples++
      }
      if (s.memoryMiB !== undefined && Number.isFinite(s.memoryMiB)) this.memoryMiB.addSample(Math.max(0, s.memoryMiB), 1, nowMs)
    }
  }

  /** The last memory sample of an instance, MiB, while it is still among the group's. */
  lastMemoryMiB(instanceId: string): number | undefined {
    return this.#lastMemoryMiB.get(instanceId)
  }

  /** An instance was killed for running out of memory while using `usageMiB`. */
  noteOom(usageMiB: number, atMs: number): void {
    if (this.#oom === undefined || atMs >= this.#oom.atMs) this.#oom = { usageMiB, atMs }
    this.#view = undefined
  }

  /** What this recorder has learned, as plain JSON for the store (the controller's checkpoint). */
  toJSON(): StoredUsage {
    return { cpuCores: this.cpuCores.toJSON(), memoryMiB: this.memoryMiB.toJSON(), samples: this.#samples, ...(this.#oom === undefined ? {} : { oom: { ...this.#oom } }) }
  }

  /**
   * Puts back a checkpoint (toJSON's) taken by an earlier tide. Throws HistogramStateError
   * naming the field when it is malformed, or when its half-life is not this group's
   * (vertical.halfLifeHours changed): then nothing is changed.
   */
  restore(j: StoredUsage): void {
    const cpu = DecayingHistogram.fromJSON(j.cpuCores)
    const memory = DecayingHistogram.fromJSON(j.memoryMiB)
    if (cpu.halfLifeMs !== this.cpuCores.halfLifeMs || memory.halfLifeMs !== this.memoryMiB.halfLifeMs) throw new RangeError(`usage histograms: kept with a half-life of ${cpu.halfLifeMs / 3_600_000} h, the group now has ${this.cpuCores.halfLifeMs / 3_600_000} h`)
    this.cpuCores = cpu
    this.memoryMiB = memory
    this.#samples = Number.isInteger(j.samples) && j.samples >= 0 ? j.samples : 0
    this.#oom = j.oom === undefined ? undefined : { ...j.oom }
    this.#view = undefined
  }

  /** Cpu samples recorded so far. */
  get samples(): number {
    return this.#samples
  }

  /**
   * The engine's view: snapshots of the histograms (plain data, HistogramSnapshot) and the last
   * OOM kill. Made once per change: calls between two observe() calls return the same object.
   */
  view(): UsageHistograms {
    this.#view ??= { cpuCores: this.cpuCores.snapshot(), memoryMiB: this.memoryMiB.snapshot(), ...(this.#oom === undefined ? {} : { oom: { ...this.#oom } }) }
    return this.#view
  }
}
