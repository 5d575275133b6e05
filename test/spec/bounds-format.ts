// How docs/config.md writes a number field's upper bound in its type cell ("number ≤ 3600"), shared
// by the test that checks the table against the schema.

/** `3600`, `1e12`, `2^40`: plain digits up to 10^9, powers of two and ten beyond. */
export function fmtBound(n: number): string {
  if (n <= 1e9) return String(n)
  const log2 = Math.log2(n)
  if (Number.isInteger(log2)) return `2^${log2}`
  return n.toExponential().replace('e+', 'e')
}
