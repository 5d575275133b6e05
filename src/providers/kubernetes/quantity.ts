/**
 * Kubernetes resource quantities (`500m`, `1.5`, `256Mi`, `1G`, `250000000n`) to the numbers tide
 * uses: cores and MiB. Only the suffixes the API server and metrics-server emit are read; anything
 * else is undefined (never a guess).
 */

const CPU_SUFFIX: Readonly<Record<string, number>> = { n: 1e-9, u: 1e-6, m: 1e-3, '': 1 }
const MEMORY_SUFFIX: Readonly<Record<string, number>> = {
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
}

/** Cores from a cpu quantity (`500m` → 0.5, `2` → 2, `250000000n` → 0.25); undefined when unreadable. */
export function cpuCores(q: string | number | undefined): number | undefined {
  if (typeof q === 'number') return Number.isFinite(q) && q >= 0 ? q : undefined
  const m = /^(\d+(?:\.\d+)?)(n|u|m)?$/.exec(q?.trim() ?? '')
  if (!m) return undefined
  return Number(m[1]) * (CPU_SUFFIX[m[2] ?? ''] ?? 1)
}

/** MiB from a memory quantity (`256Mi` → 256, `1Gi` → 1024, `102400Ki` → 100, `1G` → 953.67…); undefined when unreadable. */
export function memoryMiB(q: string | number | undefined): number | undefined {
  if (typeof q === 'number') return Number.isFinite(q) && q >= 0 ? q / 2 ** 20 : undefined
  const m = /^(\d+(?:\.\d+)?)(k|M|G|T|Ki|Mi|Gi|Ti)?$/.exec(q?.trim() ?? '')
  if (!m) return undefined
  return (Number(m[1]) * (MEMORY_SUFFIX[m[2] ?? ''] ?? 1)) / 2 ** 20
}

/** A cpu quantity for cores: whole cores plain (`2`), else millicores (`500m`). */
export function cpuQuantity(cores: number): string {
  return Number.isInteger(cores) ? String(cores) : `${String(Math.round(cores * 1000))}m`
}

/** A memory quantity for MiB (`256Mi`; fractions rounded to KiB). */
export function memoryQuantity(mib: number): string {
  return Number.isInteger(mib) ? `${String(mib)}Mi` : `${String(Math.round(mib * 1024))}Ki`
}
