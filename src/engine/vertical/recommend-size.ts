/**
 * The vertical recommendation: from per-instance cpu and memory usage histograms to the
 * smallest size on the group's ladder that holds the target usage. This is the VPA's
 * recommender (recommender/logic/recommender.go: target = percentile × (1 + safety margin),
 * default p90 and 15 %) with a discrete ladder instead of arbitrary requests, and its
 * OOM rule (recommender/model/container.go: after an out-of-memory kill the memory need is
 * max(1.2 × usage, usage + 100 MiB)). Pure: time is an argument.
 */
import type { Size } from '../../spec/schema.ts'
import { snapshotIsEmpty, snapshotPercentile, type HistogramSnapshot } from './decaying-histogram.ts'

/** The VPA's OOMBumpUpRatio. */
export const oomBumpRatio = 1.2
/** The VPA's OOMMinBumpUp, in MiB. */
export const oomMinBumpMiB = 100
/** How long an OOM kill keeps its memory floor when the caller does not say (one day, the VPA's memory aggregation interval). */
export const defaultOomHoldMs = 24 * 3600 * 1000

/** Memory an instance needs after it was killed using `usageMiB`: max(1.2 × usage, usage + 100 MiB). */
export function oomBumpedMemoryMiB(usageMiB: number): number {
  return Math.max(usageMiB * oomBumpRatio, usageMiB + oomMinBumpMiB)
}

/** What recommendSize needs. Histograms hold per-instance usage: cpu in cores, memory in MiB (peaks). */
export interface RecommendSizeInput {
  readonly cpuCores: HistogramSnapshot
  readonly memoryMiB: HistogramSnapshot
  /** The group's size ladder, smallest first; when empty the current size is the only rung. */
  readonly ladder: readonly Size[]
  readonly current: Size
  /** Usage percentile to size for, 0–100 (tide.yaml vertical.percentile, default 90). */
  readonly percentile: number
  /** Headroom above the percentile, in percent (vertical.headroomPercent, default 15). */
  readonly headroomPercent: number
  /** The last out-of-memory kill: the memory it was using and when, epoch ms. */
  readonly oom?: { readonly usageMiB: number; readonly atMs: number }
  readonly nowMs: number
  /** How long an OOM kill raises the memory floor, ms; defaultOomHoldMs when absent. */
  readonly oomHoldMs?: number
}

/**
 * Why the size is what it is: `Fits` (smallest rung holding both targets), `CappedAtLargest`
 * (no rung holds them; the largest is the bound), `NoUsageData` (both histograms empty and no
 * OOM: keep the current size).
 */
export type SizeReason = 'Fits' | 'CappedAtLargest' | 'NoUsageData'

/** The recommendation and the numbers behind it. */
export interface SizeRecommendation {
  readonly size: Size
  readonly reason: SizeReason
  /** Percentile of cpu usage × (1 + headroom), cores. */
  readonly cpuTargetCores: number
  /** max(percentile of memory × (1 + headroom), OOM floor), MiB. */
  readonly memoryTargetMiB: number
  /** The OOM floor when a recent OOM kill raised the memory target. */
  readonly oomFloorMiB?: number
  /** Whether `size` differs from `current` in cpu or memory. */
  readonly changed: boolean
  /** A sentence fragment for the decision's explanation. */
  readonly detail: string
}

/**
 * The smallest ladder size whose cpu ≥ cpu target and memory ≥ memory target. "Smallest" is the
 * cheapest when every rung has a pricePerHour, otherwise the first in ladder order. Never goes
 * beyond the ladder: when nothing fits, the largest rung (last, or most expensive) with reason
 * `CappedAtLargest`.
 */
export function recommendSize(input: RecommendSizeInput): SizeRecommendation {
  const { cpuCores, memoryMiB, current } = input
  const ladder = input.ladder.length > 0 ? input.ladder : [current]
  const factor = 1 + input.headroomPercent / 100
  const p = input.percentile / 100
  const cpuTargetCores = snapshotIsEmpty(cpuCores) ? 0 : snapshotPercentile(cpuCores, p) * factor
  const memoryUsageTarget = snapshotIsEmpty(memoryMiB) ? 0 : snapshotPercentile(memoryMiB, p) * factor
  const oomFloorMiB = oomFloor(input)
  const memoryTargetMiB = Math.max(memoryUsageTarget, oomFloorMiB ?? 0)
  const floorPart = oomFloorMiB === undefined ? {} : { oomFloorMiB }

  if (cpuTargetCores === 0 && memoryTargetMiB === 0) {
    return { size: current, reason: 'NoUsageData', cpuTargetCores, memoryTargetMiB, changed: false, detail: 'no cpu or memory usage recorded yet', ...floorPart }
  }
  const ordered = byCost(ladder)
  const fit = ordered.find((s) => s.cpu >= cpuTargetCores && s.memoryMiB >= memoryTargetMiB)
  const size = fit ?? ordered[ordered.length - 1] ?? current
  const reason: SizeReason = fit === undefined ? 'CappedAtLargest' : 'Fits'
  const changed = size.cpu !== current.cpu || size.memoryMiB !== current.memoryMiB
  const oomBound = oomFloorMiB !== undefined && oomFloorMiB >= memoryUsageTarget
  const detail = detailText(input, { cpuTargetCores, memoryTargetMiB, oomBound, size, fits: fit !== undefined })
  return { size, reason, cpuTargetCores, memoryTargetMiB, changed, detail, ...floorPart }
}

/** The OOM memory floor while the last OOM kill is younger than the hold, else undefined. */
function oomFloor(input: RecommendSizeInput): number | undefined {
  const { oom, nowMs } = input
  if (oom === undefined || nowMs - oom.atMs >= (input.oomHoldMs ?? defaultOomHoldMs)) return undefined
  return oomBumpedMemoryMiB(oom.usageMiB)
}

/** Ladder order, or ascending price when every rung has one (stable, so ties keep ladder order). */
function byCost(ladder: readonly Size[]): readonly Size[] {
  const priced = ladder.every((s) => s.pricePerHour !== undefined)
  if (!priced) return ladder
  return [...ladder].sort((a, b) => (a.pricePerHour ?? 0) - (b.pricePerHour ?? 0))
}

function detailText(
  input: RecommendSizeInput,
  r: { cpuTargetCores: number; memoryTargetMiB: number; oomBound: boolean; size: Size; fits: boolean },
): string {
  const pct = `p${input.percentile} +${input.headroomPercent}%`
  const memText = r.oomBound ? `memory ${round(r.memoryTargetMiB)} MiB (OOM floor)` : `memory ${pct} ${round(r.memoryTargetMiB)} MiB`
  return `cpu ${pct} ${round(r.cpuTargetCores)} cores, ${memText} → ${sizeText(r.size)}${r.fits ? '' : ' (largest size; does not fit)'}`
}

function round(v: number): number {
  return Math.round(v * 100) / 100
}

function sizeText(s: Size): string {
  return `${s.name ?? 'size'} ${s.cpu} cpu/${s.memoryMiB} MiB`
}
