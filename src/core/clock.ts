/** The only way the controller learns the time: injected, so that tests and the simulator control it. */
export interface Clock {
  /** Epoch milliseconds. */
  now(): number
}

/** The wall clock, for production. */
export const systemClock: Clock = { now: () => Date.now() }

/** A clock that moves only when told: tests and the simulator. */
export class ManualClock implements Clock {
  #nowMs: number
  constructor(startMs = 0) {
    this.#nowMs = startMs
  }
  now(): number {
    return this.#nowMs
  }
  advance(ms: number): void {
    this.#nowMs += ms
  }
  set(ms: number): void {
    this.#nowMs = ms
  }
}
