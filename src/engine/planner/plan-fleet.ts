/**
 * The mixed planner: one function picks both the number and the size of instances, so there is
 * never the HPA-against-VPA loop of two controllers moving the same signal (DESIGN.md "Beyond
 * what others do" 4 and 7).
 *
 * Model: an instance's capacity is proportional to its cpu, so the demand is expressed in cpu
 * cores of instances running at their target (the reactive policies' count × the current
 * size's cpu). A plan (size s, count n) is feasible when n × s.cpu ≥ demand, min ≤ n ≤ max, the
 * size has at least the memory the usage histogram asks for (when no size has, those with the most
 * memory stand in), and the quota room holds it. For each size only the smallest feasible count
 * matters, so the search is O(sizes).
 *
 * The order picks among feasible plans:
 * - `cheapest`: the least price per hour, n × price(s), plus the price of changing size: a
 *   replacement runs old and new side by side for the start-up time (launch before terminate),
 *   n × price(s) × startup / amortisationSeconds. Ties keep the current size, then fewer instances.
 * - `vertical-first`: the fewest instances (grow up the ladder first, then out), then cheapest.
 * - `horizontal-first`: the smallest size (grow out to max first, then up), then cheapest.
 * price(s) is s.pricePerHour when every rung has one, else s.cpu (price proportional to cpu).
 * When no plan is feasible, the plan with the most capacity within the limits (ties: cheaper).
 * Pure.
 */
import { sameSize, sizePrice, sizeText } from '../../core/size.ts'
import type { Size } from '../../spec/schema.ts'
import type { QuotaRoom } from '../types.ts'

/** Ways the mixed strategy orders its choices (tide.yaml mixedOrder). */
export type MixedOrder = 'vertical-first' | 'horizontal-first' | 'cheapest'

/** What the planner needs. */
export interface PlanFleetInput {
  /** Capacity needed, in cpu cores of instances running at their target. ≥ 0. */
  readonly demandCpu: number
  /** The sizes to choose from (the group's ladder); the current size is always a candidate. */
  readonly ladder: readonly Size[]
  readonly currentSize: Size
  readonly currentCount: number
  readonly min: number
  readonly max: number
  readonly order: MixedOrder
  /** Seconds a replacement instance takes to become ready (the start-up time of a size change). */
  readonly startupSeconds: number
  /** Memory an instance needs (usage percentile + headroom, OOM floor), MiB; sizes below it are out. */
  readonly minMemoryMiB?: number
  /** Room left under global quotas beyond what the group holds now. */
  readonly quotaRoom?: QuotaRoom
  /** Over how long a size change's extra cost is spread, seconds; 3600 (an hour) when absent. */
  readonly amortisationSeconds?: number
}

/** The chosen plan. */
export interface FleetPlan {
  readonly size: Size
  readonly count: number
  /** n × price(size), per hour, in the unit of pricePerHour (cpu-hours when sizes have no price). */
  readonly pricePerHour: number
  /** False when no plan met the demand within the limits (the plan is then the largest possible). */
  readonly meetsDemand: boolean
  readonly detail: string
}

/** A candidate plan with the keys the orders compare. */
export interface PlanCandidate {
  readonly size: Size
  readonly count: number
  readonly price: number
  /** Price plus the amortised cost of changing size. */
  readonly cost: number
  readonly changes: boolean
}

/** The largest count of `size` the quota room allows, given what the group holds now. */
export function quotaCount(input: Pick<PlanFleetInput, 'quotaRoom' | 'currentSize' | 'currentCount'>, size: Size): number {
  const room = input.quotaRoom
  if (room === undefined) return Number.POSITIVE_INFINITY
  let n = Number.POSITIVE_INFINITY
  if (room.instances !== undefined) n = Math.min(n, input.currentCount + Math.floor(room.instances))
  // The group's own instances are freed when it changes size, so its cpu and memory count as room.
  if (room.cpu !== undefined) n = Math.min(n, Math.floor((input.currentCount * input.currentSize.cpu + room.cpu) / size.cpu + 1e-9))
  if (room.memoryMiB !== undefined) n = Math.min(n, Math.floor((input.currentCount * input.currentSize.memoryMiB + room.memoryMiB) / size.memoryMiB + 1e-9))
  return Math.max(0, n)
}

/** The candidate sizes: the ladder plus the current size when it is off the ladder, deduplicated. */
export function candidateSizes(ladder: readonly Size[], current: Size): readonly Size[] {
  const out: Size[] = []
  for (const s of [...ladder, current]) if (!out.some((o) => sameSize(o, s))) out.push(s)
  return out
}

function candidate(input: PlanFleetInput, size: Size, count: number): PlanCandidate {
  const price = count * sizePrice(size, input.ladder)
  const changes = !sameSize(size, input.currentSize)
  const switching = changes ? (price * input.startupSeconds) / (input.amortisationSeconds ?? 3600) : 0
  return { size, count, price, cost: price + switching, changes }
}

/** Negative when `a` is the better plan under `order`. */
export function comparePlans(order: MixedOrder, a: PlanCandidate, b: PlanCandidate): number {
  const byCost = a.cost - b.cost || Number(a.changes) - Number(b.changes) || a.count - b.count
  switch (order) {
    case 'cheapest':
      return byCost
    case 'vertical-first':
      return a.count - b.count || byCost
    case 'horizontal-first':
      return a.size.cpu - b.size.cpu || a.size.memoryMiB - b.size.memoryMiB || byCost
  }
}

/** Picks the (size, count) plan for the demand (see the module comment). */
export function planFleet(input: PlanFleetInput): FleetPlan {
  const candidates = candidateSizes(input.ladder, input.currentSize)
  // When no size has the memory asked for, the sizes with the most memory (as recommendSize caps at the largest).
  const mostMemory = Math.max(...candidates.map((s) => s.memoryMiB))
  const pool = candidates.filter((s) => s.memoryMiB >= Math.min(input.minMemoryMiB ?? 0, mostMemory))
  let best: PlanCandidate | undefined
  let largest: PlanCandidate | undefined
  for (const size of pool) {
    const limit = Math.min(input.max, quotaCount(input, size))
    const needed = Math.max(input.min, Math.ceil(Math.max(0, input.demandCpu) / size.cpu - 1e-9))
    if (needed <= limit) {
      const c = candidate(input, size, needed)
      if (best === undefined || comparePlans(input.order, c, best) < 0) best = c
    } else if (limit >= 0) {
      const c = candidate(input, size, Math.max(0, limit))
      if (largest === undefined || c.count * c.size.cpu > largest.count * largest.size.cpu || (c.count * c.size.cpu === largest.count * largest.size.cpu && c.cost < largest.cost)) largest = c
    }
  }
  const chosen = best ?? largest ?? candidate(input, input.currentSize, input.currentCount)
  const memoryShort = (input.minMemoryMiB ?? 0) > mostMemory
  const meetsDemand = best !== undefined && !memoryShort
  const why = shortfall(input, memoryShort, best !== undefined)
  return {
    size: chosen.size,
    count: chosen.count,
    pricePerHour: chosen.price,
    meetsDemand,
    detail: `mixed (${input.order}): ${round2(input.demandCpu)} cores needed → ${chosen.count} × ${sizeText(chosen.size)} at ${round2(chosen.price)}/h${why}`,
  }
}

/** Why a plan falls short, as a parenthesised clause, or '' when it meets the demand. */
function shortfall(input: PlanFleetInput, memoryShort: boolean, cpuMet: boolean): string {
  if (memoryShort) return ` (no size has the ${Math.ceil(input.minMemoryMiB ?? 0)} MiB an instance needs; the most memory there is)`
  return cpuMet ? '' : ' (largest plan within limits; does not meet demand)'
}

function round2(v: number): number {
  return Math.round(v * 100) / 100
}
