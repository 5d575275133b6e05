/**
 * `tide trace …`: tools for traffic traces. `tide trace from-access-log FILE` counts an
 * nginx/Apache access log into a `seconds,rps` trace for `tide simulate --trace`.
 */
import { writeFileSync } from 'node:fs'
import { FileError } from '../errors.ts'
import { accessLogTraceCsv, readAccessLog } from '../simulator/access-log.ts'
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
  flags: {
    step: { kind: 'positive-int', description: 'seconds per trace row', valueName: 'SECONDS', defaultText: '1' },
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

/** The `trace` command group. */
export const command: CommandGroup = {
  summary: 'traffic trace tools (from-access-log)',
  subcommands: {
    'from-access-log': fromAccessLog,
  },
}
