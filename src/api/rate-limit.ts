/**
 * The API's rate limits: a token bucket per remote address, one for reads (GET, HEAD) and one
 * for changes (PUT, POST, DELETE), so a client polling status cannot starve its own changes
 * and a flood of changes cannot hide behind cheap reads. A request takes one token from its
 * bucket; a request refused for a missing or wrong token takes FAILED_AUTH_COST more from the
 * change bucket, so guessing the token runs at under one guess a second. GET /events/stream is
 * one request, so a live stream counts once per connection however long it stays open.
 */

/** One budget: tokens refilled per second and the most a bucket holds (the burst). */
export interface RateBudget {
  /** Sustained requests per second. */
  readonly perSecond: number
  /** Requests allowed at once after an idle spell. */
  readonly burst: number
}

/** The budgets of reads and changes, per remote address. */
export interface RateLimits {
  readonly reads: RateBudget
  readonly changes: RateBudget
}

/** The defaults (docs/api.md, "Rate limits"): reads 50/s burst 100, changes 5/s burst 20. */
export const DEFAULT_RATE_LIMITS: RateLimits = { reads: { perSecond: 50, burst: 100 }, changes: { perSecond: 5, burst: 20 } }

/** Extra change tokens a request refused with 401 takes: 10 at 5/s is one guess per 2 s once the burst is spent. */
export const FAILED_AUTH_COST = 10

/** Addresses kept at most; past it, the buckets that have refilled (idle addresses) are dropped, then the oldest. */
export const MAX_TRACKED_ADDRESSES = 10_000

interface Bucket {
  tokens: number
  atMs: number
}

/** Per-address token buckets over a clock (ms). */
export class RateLimiter {
  readonly #limits: RateLimits
  readonly #now: () => number
  readonly #buckets = { reads: new Map<string, Bucket>(), changes: new Map<string, Bucket>() }

  constructor(limits: RateLimits = DEFAULT_RATE_LIMITS, now: () => number = Date.now) {
    this.#limits = limits
    this.#now = now
  }

  /**
   * Takes `cost` tokens from `address`'s `kind` bucket. Returns 0 when they were there (the
   * request may go on), else the seconds until they will be (nothing is taken: a refused
   * request does not push the wait further back), at least 1.
   */
  take(kind: keyof RateLimits, address: string, cost = 1): number {
    const budget = this.#limits[kind]
    const map = this.#buckets[kind]
    const now = this.#now()
    if (!map.has(address) && map.size >= MAX_TRACKED_ADDRESSES) this.#prune(kind, now)
    const b = map.get(address) ?? { tokens: budget.burst, atMs: now }
    b.tokens = Math.min(budget.burst, b.tokens + (Math.max(0, now - b.atMs) / 1000) * budget.perSecond)
    b.atMs = now
    map.delete(address) // re-inserted last: the Map's order is least recently used first
    map.set(address, b)
    if (b.tokens >= cost) {
      b.tokens -= cost
      return 0
    }
    return Math.max(1, Math.ceil((Math.min(cost, budget.burst) - b.tokens) / budget.perSecond))
  }

  /** Takes `cost` tokens even when that leaves the bucket below zero (a failed auth: the debt is paid in waiting). */
  charge(kind: keyof RateLimits, address: string, cost: number): void {
    const b = this.#buckets[kind].get(address)
    if (b !== undefined) b.tokens = Math.max(-this.#limits[kind].burst, b.tokens - cost)
  }

  /** Addresses with a bucket of `kind` now (at most MAX_TRACKED_ADDRESSES). */
  tracked(kind: keyof RateLimits): number {
    return this.#buckets[kind].size
  }

  /** Makes room for one more address: drops every idle (refilled) bucket, then the least recently used. */
  #prune(kind: keyof RateLimits, now: number): void {
    const budget = this.#limits[kind]
    const map = this.#buckets[kind]
    for (const [address, b] of map) {
      if (b.tokens + ((now - b.atMs) / 1000) * budget.perSecond >= budget.burst) map.delete(address)
    }
    for (const address of map.keys()) {
      if (map.size < MAX_TRACKED_ADDRESSES) break
      map.delete(address)
    }
  }
}
