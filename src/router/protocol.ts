/**
 * Messages between the router's primary (health checks, routing table, stats) and
 * its proxy cores. With `workers: 1` the one core runs in-process and the same
 * messages are passed by function call; otherwise each core is a node:cluster
 * worker and they travel over IPC (so everything here is plain JSON).
 */
import type { SparseHistogram } from './latency-histogram.ts'

/**
 * One instance (or backup target) as a core sees it. `routable` is decided by the primary: healthy
 * and warming or in-service, not draining (a backup target: healthy).
 */
export interface TableEntry {
  readonly id: string
  readonly host: string
  readonly port: number
  readonly routable: boolean
  /** The core reports `drained` once this instance has no request in flight. */
  readonly draining: boolean
  /**
   * A backup target (routing.backup, backup-pool.ts): it gets requests only while no primary
   * entry is routable, as the core sees them (its own passive ejections included). Absent: a primary.
   */
  readonly backup?: boolean
  /** Prepended to the path of every request sent to this entry (a backup url's path); absent or empty: none. */
  readonly pathPrefix?: string
}

/** Counters of one window for one instance, one class or the total. */
export interface CounterSample {
  /** Requests answered by an instance (any status). */
  readonly requests: number
  /** 5xx answers from an instance plus the router's own 502/504. */
  readonly errors: number
  /** Requests refused by admission control (503 + Retry-After). */
  readonly shed: number
  /** Requests in flight to instances when the window was cut (a gauge). */
  readonly inFlight: number
  /** Requests waiting in the queue when the window was cut (a gauge). */
  readonly queued: number
  /** Latencies in ms: for an instance from dispatch to the end of its answer; for classes and the total from arrival. */
  readonly latency: SparseHistogram
  /**
   * Bytes sent to instances (requests) and received from them (responses) in the window, for
   * an instance and for the total (not counted per class). tide's proxy counts body bytes;
   * HAProxy whole HTTP messages, headers included (its `bin`/`bout`). Absent counts as 0.
   */
  readonly bytesIn?: number
  readonly bytesOut?: number
}

/** What one core counted in one window. */
export interface WindowSample {
  readonly startMs: number
  readonly endMs: number
  readonly total: CounterSample
  readonly instances: Readonly<Record<string, CounterSample>>
  readonly classes: Readonly<Record<string, CounterSample>>
}

/** Primary → core. */
export type ToCore =
  | { readonly t: 'table'; readonly entries: readonly TableEntry[] }
  /** Cut the current window and answer with `window` carrying the same seq. */
  | { readonly t: 'collect'; readonly seq: number }
  /** Stop accepting, let in-flight requests finish (up to graceMs), then answer `stopped`. */
  | { readonly t: 'stop'; readonly graceMs: number }

/** Core → primary. */
export type FromCore =
  | { readonly t: 'listening'; readonly port: number }
  /** The core could not listen (a worker then exits): the OS error code (EADDRINUSE…) and message. */
  | { readonly t: 'listen-failed'; readonly code: string; readonly message: string }
  | { readonly t: 'window'; readonly seq: number; readonly sample: WindowSample }
  /** Passive ejection: `failures` consecutive connect failures or 5xx answers. */
  | { readonly t: 'eject'; readonly id: string; readonly failures: number; readonly reason: string }
  | { readonly t: 'drained'; readonly id: string }
  | { readonly t: 'stopped' }
