/**
 * The chaos suite's figures (`npm run chaos`, scripts/chaos.mjs): each scenario records what it
 * injected and what it saw, and the runner prints one table at the end, so the figures issue 13
 * asks for (faults injected, requests sent and failed, failover times, crashes found) come from
 * the run itself rather than from a note written by hand.
 *
 * A record is one JSON line appended to the file TIDE_CHAOS_TALLY names (the runner sets it);
 * with no such variable (a scenario run alone with `node --test`) it goes to
 * test-artifacts/chaos/tally.jsonl. Appends of one short line are atomic, so scenarios may record
 * from parallel processes.
 */
import { appendFileSync, mkdirSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const DEFAULT_FILE = join(fileURLToPath(new URL('../../', import.meta.url)), 'test-artifacts/chaos/tally.jsonl')

/** What one scenario did and saw. Counts are whole numbers; durations in ms. */
export interface ChaosRecord {
  /** Short name of the scenario, e.g. "kill tide at scale-out:launched". */
  readonly scenario: string
  /** Faults injected (kills, freezes, failed calls, clock jumps…). */
  readonly faults: number
  /** Requests sent through the data plane during the scenario (0 when it sends none). */
  readonly requestsSent: number
  /** Of those, how many failed (connection error or 5xx). */
  readonly requestsFailed: number
  /** Failover or recovery times measured, ms (a leader's takeover, a router re-attach…). */
  readonly recoveryMs?: readonly number[]
  /** Bugs this scenario found, fixed in the same change (a phrase each), for the closing note. */
  readonly found?: readonly string[]
  /** Anything else worth a line in the table. */
  readonly note?: string
}

/** Appends `record` to the tally. Never throws on a bad path: a scenario's result does not depend on it. */
export function recordChaos(record: ChaosRecord): void {
  const file = process.env.TIDE_CHAOS_TALLY ?? DEFAULT_FILE
  try {
    mkdirSync(dirname(file), { recursive: true })
    appendFileSync(file, `${JSON.stringify(record)}\n`)
  } catch (err) {
    process.stderr.write(`chaos tally: cannot append to ${file}: ${(err as Error).message}\n`)
  }
}
