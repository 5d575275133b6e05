/**
 * The shop's cpu work: what rendering a page or pricing a cart costs in a real shop,
 * made explicit so that load turns into cpu that tide can measure and scale on.
 * A deterministic computation (xorshift32 rounds folded into a checksum: the same
 * seed and count always give the same result), sized in milliseconds by a one-off
 * calibration at start, so SHOP_WORK_MS means roughly the same on any machine.
 */
import { performance } from 'node:perf_hooks'

/**
 * Runs `iterations` rounds of xorshift32 from `seed` and returns a 32-bit checksum.
 * The checksum is returned (and shown in a response header) so that no compiler can
 * drop the loop as dead code.
 */
export function burn(iterations: number, seed: number): number {
  let x = seed | 0 || 0x9e3779b9
  let acc = 0
  for (let i = 0; i < iterations; i++) {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    acc = (acc + (x & 0xffff)) | 0
  }
  return acc >>> 0
}

/**
 * How many burn() iterations fit in one millisecond on this machine, measured by
 * running burn() for about `budgetMs` (after a warm-up so that the JIT has compiled it).
 * Never less than 1.
 */
export function calibrateIterationsPerMs(budgetMs = 40): number {
  burn(200_000, 1) // warm-up: let the optimising compiler take the loop
  let iterations = 0
  let chunk = 50_000
  const start = performance.now()
  let elapsed = 0
  while (elapsed < budgetMs) {
    burn(chunk, iterations + 1)
    iterations += chunk
    elapsed = performance.now() - start
    if (elapsed < budgetMs / 4) chunk *= 2
  }
  return Math.max(1, Math.round(iterations / elapsed))
}
