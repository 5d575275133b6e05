/**
 * One seeded pseudo-random generator for everything in tide that must repeat run to run:
 * the load generator's request mix, the engine's property tests, the forecasting tests'
 * synthetic traffic. Not for anything secret (ids and tokens use node:crypto).
 */

/**
 * A uniform generator on [0, 1) from a 32-bit seed: Tommy Ettinger's mulberry32, a 32-bit
 * state stepped by a Weyl sequence and mixed by two multiply-xorshift rounds (period 2^32).
 * The same seed gives the same sequence on every platform (integer arithmetic only, via
 * Math.imul). The seed is taken modulo 2^32; fractions are truncated by the conversion.
 */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
