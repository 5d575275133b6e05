/**
 * What `tide simulate --out DIR` writes: `ticks.csv`, one row per simulation step,
 * streamed to disk while the simulation runs (a month of 1 s steps is 2.6 million
 * rows, too many to hold as strings), and `chart.svg` (see chart.ts: load, capacity,
 * instances and the share of time in SLO violation, collected into at most a few
 * thousand buckets as the run goes).
 */
import { closeSync, mkdirSync, openSync, writeFileSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import { FileError } from '../errors.ts'
import { ChartBuilder } from './chart.ts'
import type { SimulationResult, TickRow, TickSink } from './simulate.ts'

/** The header of ticks.csv; a contract other tools read. */
export const TICKS_CSV_HEADER = 't,offered_rps,served_rps,failed_rps,instances_billed,instances_in_service,capacity_rps,p95_ms,desired'

/** Passes every step to several sinks. */
export function teeSinks(...sinks: TickSink[]): TickSink {
  return {
    begin: (steps, tickSeconds) => {
      for (const s of sinks) s.begin?.(steps, tickSeconds)
    },
    tick: (row) => {
      for (const s of sinks) s.tick(row)
    },
  }
}

/** Rounds to 3 decimals for the CSV: plenty for rates and milliseconds, and far shorter. */
function r3(x: number): string {
  return String(Math.round(x * 1000) / 1000)
}

/**
 * Streams ticks.csv to `path`, buffering about 64 KB per write. Call `close()` when
 * the simulation is done. Throws FileError naming the path when it cannot write.
 */
export class TicksCsvWriter implements TickSink {
  readonly #path: string
  readonly #fd: number
  #buffer = TICKS_CSV_HEADER + '\n'

  constructor(path: string) {
    this.#path = path
    try {
      this.#fd = openSync(path, 'w')
    } catch (err) {
      throw new FileError(path, 'write', err)
    }
  }

  tick(row: Readonly<TickRow>): void {
    this.#buffer += `${r3(row.t)},${r3(row.offeredRps)},${r3(row.servedRps)},${r3(row.failedRps)},${row.instancesBilled},${row.instancesInService},${r3(row.capacityRps)},${r3(row.p95Ms)},${row.desired}\n`
    if (this.#buffer.length >= 65_536) this.#flush()
  }

  close(): void {
    this.#flush()
    closeSync(this.#fd)
  }

  #flush(): void {
    try {
      writeSync(this.#fd, this.#buffer)
    } catch (err) {
      throw new FileError(this.#path, 'write', err)
    }
    this.#buffer = ''
  }
}

/**
 * Sinks for `--out DIR`: the CSV writer and the chart builder. `finish()` closes
 * the CSV and writes chart.svg; returns the paths written. Creates DIR if needed.
 */
export function reportSinks(outDir: string): { sink: TickSink; finish(result: SimulationResult): Promise<string[]> } {
  try {
    mkdirSync(outDir, { recursive: true })
  } catch (err) {
    throw new FileError(outDir, 'write', err)
  }
  const csvPath = join(outDir, 'ticks.csv')
  const chartPath = join(outDir, 'chart.svg')
  const csv = new TicksCsvWriter(csvPath)
  const chart = new ChartBuilder()
  return {
    sink: teeSinks(csv, chart),
    async finish(result) {
      csv.close()
      const svg = await chart.toSvg(result)
      try {
        writeFileSync(chartPath, svg)
      } catch (err) {
        throw new FileError(chartPath, 'write', err)
      }
      return [csvPath, chartPath]
    },
  }
}
