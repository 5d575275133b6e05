/**
 * Shared fixtures of the vertical tests: ratio-2 histogram layouts, so that bucket ends can be
 * worked out by hand, a four-rung size ladder, and usage histograms filled with given samples.
 */
import type { UsageHistograms } from '../../../src/engine/types.ts'
import { DecayingHistogram, type HistogramOptions } from '../../../src/engine/vertical/decaying-histogram.ts'
import type { Size } from '../../../src/spec/schema.ts'

/** cpu: first bucket 0.25 → bucket starts 0, 0.25, 0.75, 1.75, 3.75, 7.75, … */
export const cpuOpts: HistogramOptions = { maxValue: 100, firstBucketSize: 0.25, ratio: 2, epsilon: 1e-4 }
/** memory: first bucket 64 → bucket starts 0, 64, 192, 448, 960, 1984, … */
export const memOpts: HistogramOptions = { maxValue: 1e6, firstBucketSize: 64, ratio: 2, epsilon: 1e-4 }
export const hourMs = 3600_000

export const ladder: Size[] = [
  { name: 'small', cpu: 0.5, memoryMiB: 256 },
  { name: 'medium', cpu: 1, memoryMiB: 512 },
  { name: 'large', cpu: 2, memoryMiB: 1024 },
  { name: 'xlarge', cpu: 4, memoryMiB: 2048 },
]
export const medium = ladder[1]!

/** Snapshots of histograms (24 h half-life) holding the given cpu-core and memory-MiB samples, weight 1, all at `atMs`. */
export function usageOf(cpu: readonly number[], mem: readonly number[], atMs: number, oom?: UsageHistograms['oom']): UsageHistograms {
  const cpuCores = new DecayingHistogram(cpuOpts, 24 * hourMs)
  const memoryMiB = new DecayingHistogram(memOpts, 24 * hourMs)
  for (const v of cpu) cpuCores.addSample(v, 1, atMs)
  for (const v of mem) memoryMiB.addSample(v, 1, atMs)
  const snapshots = { cpuCores: cpuCores.snapshot(), memoryMiB: memoryMiB.snapshot() }
  return oom === undefined ? snapshots : { ...snapshots, oom }
}
