/**
 * Choosing the instance for one request. Pure: the random source and the
 * round-robin cursor are inputs, so tests decide every pick.
 */

/** What balancing needs to know of an instance: how many requests it has in flight right now. */
export interface Pickable {
  readonly inFlight: number
}

/** How the router spreads requests: power of two choices over in-flight requests, or round-robin. */
export type BalanceMode = 'p2c' | 'round-robin'

/** Inputs of one pick besides the candidates. */
export interface PickOptions {
  readonly balance: BalanceMode
  /** Uniform in [0, 1), as Math.random. */
  readonly random: () => number
  /** Round-robin position; the caller keeps it and passes the returned `nextCursor` back. */
  readonly cursor: number
  /** An instance at or above this many in-flight requests is full and never picked. */
  readonly maxInFlight: number
}

/** A pick: the chosen index into the candidates (undefined when every candidate is full or there are none). */
export interface Pick {
  readonly index: number | undefined
  readonly nextCursor: number
}

/**
 * Picks an instance for one request among `candidates` (all of them routable).
 *
 * p2c (Mitzenmacher's power of two choices, as Envoy's LEAST_REQUEST): two distinct
 * random candidates, the one with fewer in-flight requests wins (the first on a tie).
 * It spreads load almost as well as least-loaded without herding every request onto
 * the one instance that just became idle. round-robin: the next candidate in order.
 *
 * Either way, a full candidate (inFlight ≥ maxInFlight) is never returned: when the
 * first choice is full the pick falls back to the least-loaded candidate by a scan,
 * and returns undefined only when all are full — which is what the admission control
 * calls "capacity is short". One candidate is picked without consulting `random`.
 */
export function pickInstance(candidates: readonly Pickable[], options: PickOptions): Pick {
  const n = candidates.length
  if (n === 0) return { index: undefined, nextCursor: options.cursor }
  let index = 0
  let nextCursor = options.cursor
  if (n > 1 && options.balance === 'round-robin') {
    index = options.cursor % n
    nextCursor = (index + 1) % n
  } else if (n > 1) {
    index = p2cIndex(candidates, options.random)
  }
  if (inFlightAt(candidates, index) < options.maxInFlight) return { index, nextCursor }
  const least = leastLoadedIndex(candidates)
  if (least === undefined || inFlightAt(candidates, least) >= options.maxInFlight) return { index: undefined, nextCursor }
  return { index: least, nextCursor }
}

/** Power of two choices among n ≥ 2 candidates: the less loaded of two distinct random ones, the first on a tie. */
function p2cIndex(candidates: readonly Pickable[], random: () => number): number {
  const n = candidates.length
  const a = Math.min(n - 1, Math.floor(random() * n))
  // The second choice is drawn among the other n − 1 so that the two are distinct.
  let b = Math.min(n - 2, Math.floor(random() * (n - 1)))
  if (b >= a) b += 1
  return inFlightAt(candidates, b) < inFlightAt(candidates, a) ? b : a
}

function inFlightAt(candidates: readonly Pickable[], i: number): number {
  return candidates[i]?.inFlight ?? Infinity
}

/** The index of the candidate with the fewest in-flight requests (the first on a tie), undefined for none. */
export function leastLoadedIndex(candidates: readonly Pickable[]): number | undefined {
  let best: number | undefined
  let bestInFlight = Infinity
  for (let i = 0; i < candidates.length; i++) {
    const inFlight = inFlightAt(candidates, i)
    if (inFlight < bestInFlight) {
      best = i
      bestInFlight = inFlight
    }
  }
  return best
}
