/**
 * Which instances the controller launches and retires to carry out a decision: the count
 * (scale-out and scale-in) and the size (a resize replaces instances, launch before
 * terminate). decide() says how many of what size; this says which ones. Pure.
 */
import { sameSize } from '../core/size.ts'
import type { Size } from '../spec/schema.ts'
import { receivesTraffic } from './lifecycle.ts'
import type { InstanceView } from './types.ts'

/** What a decision asks of the live instances. */
export interface RetireInput {
  /** The instance count decided (Decision.to). */
  readonly target: number
  /** The size in force after the decision (Decision.resize?.to, else the current size). */
  readonly size: Size
  /** The instances that count toward capacity (pending, warming, in-service), as observed this tick. */
  readonly instances: readonly InstanceView[]
  /** The engine's scale-in order (Decision.scaleInCandidates): ids, cheapest to lose first. */
  readonly scaleInCandidates: readonly string[]
}

/** How many instances of `size` to launch: what the target lacks in instances of that size (0 when none). */
export function instancesToLaunch(input: Pick<RetireInput, 'target' | 'size' | 'instances'>): number {
  let upToDate = 0
  for (const v of input.instances) if (sameSize(v.size, input.size)) upToDate++
  return Math.max(0, input.target - upToDate)
}

/**
 * The ids of the live instances to take out now, in order.
 * - Scale-in: instances of the decided size beyond the target go, in the engine's candidate
 *   order (pending first, then least useful); an id not among the candidates (protected,
 *   draining) never goes, so fewer may go than the excess.
 * - Resize: instances of another size go, those that serve no traffic (pending) at once, the
 *   serving ones (non-serving first, then in candidate order) only while the instances of the
 *   decided size that already serve, plus the outdated ones left serving, still cover the target
 *   (launch before terminate). Protected instances of another size stay.
 */
export function instancesToRemove(input: RetireInput): string[] {
  const { target, size } = input
  const upToDate = input.instances.filter((v) => sameSize(v.size, size))
  const outdated = input.instances.filter((v) => !sameSize(v.size, size))
  const removals: string[] = []
  const rank = new Map(input.scaleInCandidates.map((id, i) => [id, i]))
  const byRank = (a: InstanceView, b: InstanceView) => (rank.get(a.id) ?? Infinity) - (rank.get(b.id) ?? Infinity)
  const removable = (v: InstanceView) => !v.protectedFromScaleIn

  const excess = upToDate.length - target
  if (excess > 0) {
    const candidates = upToDate.filter((v) => removable(v) && rank.has(v.id)).sort(byRank)
    removals.push(...candidates.slice(0, excess).map((v) => v.id))
  }
  const serving = upToDate.filter((v) => receivesTraffic(v.phase) && !removals.includes(v.id)).length
  const remaining = outdated.filter(removable).sort((a, b) => Number(receivesTraffic(a.phase)) - Number(receivesTraffic(b.phase)) || byRank(a, b))
  let outdatedServing = outdated.filter((v) => receivesTraffic(v.phase)).length
  for (const v of remaining) {
    if (!receivesTraffic(v.phase)) {
      removals.push(v.id)
      continue
    }
    if (serving + outdatedServing - 1 >= target) {
      removals.push(v.id)
      outdatedServing--
    }
  }
  return removals
}
