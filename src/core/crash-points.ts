/**
 * Named crash points (issue 13's chaos suite, docs/chaos.md): places in a scaling action where
 * `crashPoint(name)` kills tide with SIGKILL, at once and without any clean-up, when the
 * environment variable TIDE_CRASH_AT names that point, so that a test can prove a restarted tide
 * adopts, completes or rolls back whatever the killed one left half-done. `TIDE_CRASH_AT=name#n`
 * kills on the n-th pass through the point (1 = the first, the default). Without the variable,
 * or when it names another point, a call does nothing but compare a string: TIDE_CRASH_AT is read
 * once, when this module loads. An unknown name is refused at that read, so a typo in a test
 * does not pass silently.
 */
import { writeSync } from 'node:fs'

/** Every crash point, with what tide has done when it is reached (docs/chaos.md lists the same). */
export const CRASH_POINTS = {
  'scale-out:decided': 'a scale-out was decided (its decision event written), nothing saved or launched yet',
  'scale-out:intent-written': 'the decided count and the launch intent (a pending operation) are saved; the provider not yet called',
  'scale-out:spawned': "the local provider started an instance's process but has not recorded it yet",
  'scale-out:launched': 'the provider launched the instances (recorded by the provider); the operation not yet marked done',
  'scale-out:registered': 'the operation is done and the new instances are in the routing table (warming, not yet healthy)',
  'scale-out:in-service': 'a new instance passed its health checks and serves',
  'scale-in:victim-chosen': 'a scale-in was decided and its victims saved as draining; no drain started',
  'scale-in:drain-started': 'the router stopped sending the victim new requests (drain begun)',
  'scale-in:backup-running': "the victim's backup command is running (its run recorded in the store)",
  'scale-in:backup-done': "the backup finished and its result is recorded; the victim not yet terminated",
  'scale-in:terminated': 'the provider terminated the victim; the terminate operation not yet removed',
  'scale-in:record-removed': 'the terminate operation is removed: the scale-in is complete',
  'resize:new-launched': 'a vertical replacement launched its instance of the new size (operation done)',
  'resize:new-in-service': 'an instance of the new size serves',
  'resize:old-draining': 'an instance of the old size is draining',
  'resize:old-stopped': 'an instance of the old size was terminated',
} as const

/** The name of a crash point. */
export type CrashPointName = keyof typeof CRASH_POINTS

/** What TIDE_CRASH_AT asks: a point and the pass to crash on. */
export interface CrashAt {
  readonly name: CrashPointName
  /** 1-based: crash on this pass through the point. */
  readonly pass: number
}

/**
 * Reads a TIDE_CRASH_AT value: undefined for none (unset or empty); `name` or `name#n` (n ≥ 1).
 * Throws an Error naming the variable for an unknown point or a bad count.
 */
export function parseCrashAt(value: string | undefined): CrashAt | undefined {
  if (value === undefined || value.trim() === '') return undefined
  const [name = '', count, ...rest] = value.trim().split('#')
  if (!(name in CRASH_POINTS)) throw new Error(`TIDE_CRASH_AT: unknown crash point ${JSON.stringify(name)}; known: ${Object.keys(CRASH_POINTS).join(', ')}`)
  const pass = count === undefined ? 1 : Number(count)
  if (rest.length > 0 || !Number.isInteger(pass) || pass < 1) throw new Error(`TIDE_CRASH_AT: ${JSON.stringify(value)}: the pass after # must be a whole number ≥ 1`)
  return { name: name as CrashPointName, pass }
}

const armed = parseCrashAt(process.env.TIDE_CRASH_AT)
let passes = 0

/**
 * Kills this process with SIGKILL when TIDE_CRASH_AT names `name` and this is the asked pass;
 * does nothing otherwise. A line on stderr says which point was reached, first (written
 * synchronously, so it is out before the kill).
 */
export function crashPoint(name: CrashPointName): void {
  if (armed?.name !== name) return
  passes++
  if (passes < armed.pass) return
  try {
    writeSync(2, `tide: crash point ${name}${armed.pass > 1 ? `#${armed.pass}` : ''} reached (TIDE_CRASH_AT): SIGKILL\n`)
  } finally {
    process.kill(process.pid, 'SIGKILL')
  }
}
