/**
 * Counts the requests an instance is working on and closes the gate for new work
 * when the instance drains (POST /drain) or shuts down (SIGTERM). tide's lifecycle
 * asks /drain and waits until in-flight reaches 0 — "drain until the app says it is
 * quiet, not until a timer fires" (DESIGN.md, beyond what others do, 3).
 */

/** In-flight accounting and the drain switch. */
export class TrafficGate {
  #inFlight = 0
  #served = 0
  #rejected = 0
  #draining = false
  #idleWaiters: (() => void)[] = []

  /** Requests being worked on now. */
  get inFlight(): number {
    return this.#inFlight
  }
  /** Work requests completed since start (any status except the drain refusals). */
  get served(): number {
    return this.#served
  }
  /** Work requests refused with 503 because the instance was draining. */
  get rejected(): number {
    return this.#rejected
  }
  /** Whether new work is refused. Never reopens: a drained instance is replaced, not reused. */
  get draining(): boolean {
    return this.#draining
  }

  /** Stops accepting new work. Idempotent. */
  drain(): void {
    this.#draining = true
  }

  /** Admits one request if not draining: returns a function to call exactly once when it completes, or undefined (refused, counted). */
  enter(): (() => void) | undefined {
    if (this.#draining) {
      this.#rejected++
      return undefined
    }
    this.#inFlight++
    let done = false
    return () => {
      if (done) return
      done = true
      this.#inFlight--
      this.#served++
      if (this.#inFlight === 0) for (const w of this.#idleWaiters.splice(0)) w()
    }
  }

  /** Resolves when nothing is in flight (at once if nothing is). */
  idle(): Promise<void> {
    if (this.#inFlight === 0) return Promise.resolve()
    return new Promise((resolve) => this.#idleWaiters.push(resolve))
  }
}
