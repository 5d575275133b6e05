/**
 * Instance sizes: equality, price and the text explanations print. Shared by the engine's
 * planner, the controller (which launches and replaces by size) and the simulator (which
 * bills by size).
 */

/**
 * The fields of an instance size these helpers read: structurally the config's `Size`
 * (spec/schema.ts), so that core/ imports nothing from spec/.
 */
export interface SizeLike {
  readonly name?: string | undefined
  /** Cores. */
  readonly cpu: number
  readonly memoryMiB: number
  readonly pricePerHour?: number | undefined
}

/**
 * The price per hour of one instance of `size`: its `pricePerHour` when every rung of the
 * ladder has one, else its cpu (price proportional to cores). A ladder with some prices
 * missing is priced by cpu throughout, so rungs are never compared in two currencies; an
 * empty ladder also prices by cpu.
 */
export function sizePrice(size: SizeLike, ladder: readonly SizeLike[]): number {
  const priced = ladder.length > 0 && ladder.every((s) => s.pricePerHour !== undefined)
  return priced ? (size.pricePerHour ?? size.cpu) : size.cpu
}

/** Whether two sizes are the same rung: equal cpu and memory (the name and price are labels). */
export function sameSize(a: SizeLike, b: SizeLike): boolean {
  return a.cpu === b.cpu && a.memoryMiB === b.memoryMiB
}

/** "large 2 cpu/1024 MiB" (or "2 cpu/1024 MiB" without a name), for explanations and events. */
export function sizeText(s: SizeLike): string {
  return `${s.name === undefined ? '' : `${s.name} `}${s.cpu} cpu/${s.memoryMiB} MiB`
}
