/**
 * A decision input as text, and back: what lets a decision be recorded and replayed byte for
 * byte (the simulator, a bug report, an API that shows why a group scaled). Everything in a
 * DecideInput is plain data (the usage histograms are snapshots) except two shapes of Signals
 * that JSON cannot hold: the per-instance samples are a Map, and the demand steps may be a typed
 * array. The text keeps them as an array of [id, sample] pairs and an array of numbers. Pure.
 */
import type { DecideInput, InstanceSample, Signals } from './types.ts'

/** Signals as JSON holds them (see the module comment). */
export interface SignalsJSON {
  readonly atMs: number
  /** The per-instance samples in the Map's order. */
  readonly instances: readonly (readonly [string, InstanceSample])[]
  readonly group: Omit<Signals['group'], 'demandSteps'> & { readonly demandSteps?: { readonly stepMs: number; readonly values: readonly number[] } }
}

/** A DecideInput as JSON holds it: the same fields, Signals as SignalsJSON. */
export type DecideInputJSON = Omit<DecideInput, 'signals'> & { readonly signals?: SignalsJSON }

/** The JSON form of a decision input (a new object; the input is not changed). */
export function decideInputToJSON(input: DecideInput): DecideInputJSON {
  const { signals, ...rest } = input
  if (signals === undefined) return rest
  const { demandSteps, ...group } = signals.group
  return {
    ...rest,
    signals: {
      atMs: signals.atMs,
      instances: [...signals.instances],
      group: demandSteps === undefined ? group : { ...group, demandSteps: { stepMs: demandSteps.stepMs, values: Array.from(demandSteps.values) } },
    },
  }
}

/** The decision input a JSON form stands for (decideInputToJSON's inverse). Does not validate: it reads what decideInputToJSON wrote. */
export function decideInputFromJSON(json: DecideInputJSON): DecideInput {
  const { signals, ...rest } = json
  if (signals === undefined) return { ...rest, signals: undefined }
  return { ...rest, signals: { atMs: signals.atMs, instances: new Map(signals.instances), group: signals.group } }
}

/**
 * A decision input as JSON text. Throws a RangeError naming the field when a number is not
 * finite (NaN, ±Infinity): JSON would write null there, and the replayed decision could differ.
 */
export function decideInputText(input: DecideInput): string {
  return JSON.stringify(decideInputToJSON(input), (key: string, value: unknown) => {
    if (typeof value === 'number' && !Number.isFinite(value)) throw new RangeError(`decision input: field "${key}" is ${value}, which JSON cannot hold`)
    return value
  })
}

/** The decision input written by decideInputText. */
export function parseDecideInput(text: string): DecideInput {
  return decideInputFromJSON(JSON.parse(text) as DecideInputJSON)
}
