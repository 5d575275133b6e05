/**
 * `tide trace …`: tools for traffic traces. `tide trace from-access-log FILE` counts an
 * nginx/Apache access log into a `seconds,rps` trace for `tide simulate --trace`.
 */
import { writeFileSync } from 'node:fs'
import { FileError } from '../errors.ts'
import { accessLogTraceCsv, readAccessLog } from '../simulator/access-log.ts'
import { loadTrace, traceStats } from '../core/trace.ts'
import type { Command, CommandGroup } from './args.ts'

/** `tide trace from-access-log FILE [--step S] [--out FILE] [--skip-bad]`. */
export const fromAccessLog: Command = {
  summary: 'turn an nginx/Apache access log (common or combined) into a trace CSV',
  usage: 'FILE [--step SECONDS] [--out FILE] [--skip-bad]',
  description: [
    'Counts one request per log line into steps of --step seconds and writes "seconds,rps" rows,',
    'one per step from the first request to the last; quiet steps are 0-rate rows. A FILE ending',
    'in .gz is decompressed. The CSV goes to --out, or to stdout; the summary goes to stderr.',
  ].join('\n'),
  examples: [
    { command: 'tide trace from-access-log /var/log/nginx/access.log --out traffic.csv', does: 'requests per second of a day of nginx logs, for tide simulate --trace' },
    { command: 'tide trace from-access-log access.log --step 60 --skip-bad -o traffic.csv', does: 'per minute, skipping malformed lines (counted in the summary)' },
  ],
  flags: {
    step: { kind: 'positive-int', max: 86_400, description: 'seconds per trace row', valueName: 'SECONDS', defaultText: '1' },
    out: { kind: 'output', short: 'o', description: 'write the trace here instead of stdout' },
    'skip-bad': { kind: 'boolean', description: 'skip malformed lines (counted in the summary) instead of failing on the first' },
  },
  positionals: { names: ['FILE'], min: 1, kind: 'file' },
  async run(args, io) {
    const file = args.positionals[0] ?? ''
    const counts = await readAccessLog(file, { stepSeconds: args.number('step') ?? 1, skipBad: args.boolean('skip-bad') })
    const csv = accessLogTraceCsv(counts)
    const out = args.string('out')
    if (out === undefined) io.stdout.write(csv)
    else {
      try {
        writeFileSync(out, csv)
      } catch (err) {
        throw new FileError(out, 'write', err)
      }
    }
    const rows = counts.counts.length
    const start = new Date(counts.startMs).toISOString()
    const skipped = counts.skipped === 0 ? '' : `; skipped ${counts.skipped} malformed line${counts.skipped === 1 ? '' : 's'} (first at line ${counts.firstSkippedLine ?? 0})`
    io.stderr.write(`${file}: ${counts.requests} requests from ${start}, ${rows} rows of ${counts.stepSeconds} s${out === undefined ? '' : ` → ${out}`}${skipped}\n`)
    return 0
  },
}

/** `tide trace info FILE`: checks a trace the way `tide simulate` reads it and summarises it. */
export const info: Command = {
  summary: 'check a trace CSV and print its length, step, rates and total requests',
  usage: 'FILE [--json]',
  description: 'Reads the trace exactly as tide simulate does, so a bad row is reported here with its line number.',
  examples: [
    { command: 'tide trace info traffic.csv', does: 'its length, step, peak and total requests' },
    { command: 'tide trace info traffic.csv --json', does: 'the same as one JSON object' },
  ],
  flags: {
    json: { kind: 'boolean', description: 'print the summary as one JSON object' },
  },
  positionals: { names: ['FILE'], min: 1, kind: 'file' },
  run(args, io) {
    const file = args.positionals[0] ?? ''
    const trace = loadTrace(file)
    const s = traceStats(trace)
    const start = trace.startMs === 0 ? undefined : new Date(trace.startMs).toISOString()
    if (args.boolean('json')) {
      io.stdout.write(`${JSON.stringify({ file, ...(start === undefined ? {} : { start }), ...s })}\n`)
      return 0
    }
    const lines = [
      `${file}: ${s.rows} rows${start === undefined ? '' : ` from ${start}`}, ${formatDuration(s.durationSeconds)} (step ${round(s.stepSeconds)} s)`,
      `  rate: min ${round(s.minRps)}, mean ${round(s.meanRps)}, max ${round(s.maxRps)} requests/s (peak at ${formatDuration(s.peakSecond)})`,
      `  requests: ${Math.round(s.totalRequests)}`,
    ]
    io.stdout.write(`${lines.join('\n')}\n`)
    return 0
  },
}

/** `3h 05m 07s`-style, leaving out leading zero units; fractions of a second rounded. */
function formatDuration(seconds: number): string {
  const total = Math.round(seconds)
  const d = Math.floor(total / 86400)
  const h = Math.floor((total % 86400) / 3600)
  const m = Math.floor((total % 3600) / 60)
  const sec = total % 60
  const parts = d > 0 ? [`${d}d`, `${h}h`, `${m}m`] : h > 0 ? [`${h}h`, `${String(m).padStart(2, '0')}m`, `${String(sec).padStart(2, '0')}s`] : m > 0 ? [`${m}m`, `${String(sec).padStart(2, '0')}s`] : [`${sec}s`]
  return parts.join(' ')
}

function round(x: number): number {
  return Math.round(x * 100) / 100
}

/** The `trace` command group. */
export const command: CommandGroup = {
  summary: 'traffic trace tools (info, from-access-log)',
  subcommands: {
    info,
    'from-access-log': fromAccessLog,
  },
}
