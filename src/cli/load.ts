/** `tide load`: the load generator on its own, bounded in time, loopback only by default. */
import type { Command } from './args.ts'
import { UsageError } from './args.ts'
import { runLoad } from '../loadgen/load-generator.ts'
import { PatternNames, patternRate, traceRate, type PatternName, type RateFn } from '../loadgen/patterns.ts'
import { loadTrace, traceDurationSeconds } from '../core/trace.ts'

function rateFor(pattern: string, base: number, peak: number, duration: number, scale: number): { rate: RateFn; duration: number } {
  if (pattern.startsWith('trace:')) {
    const file = pattern.slice('trace:'.length)
    if (file === '') throw new UsageError('load', '--pattern trace: needs a file, e.g. trace:traffic.csv')
    const trace = loadTrace(file)
    return { rate: traceRate(trace, scale), duration: Math.min(duration, traceDurationSeconds(trace)) }
  }
  if (!(PatternNames as readonly string[]).includes(pattern)) {
    throw new UsageError('load', `--pattern must be one of ${PatternNames.join(', ')} or trace:FILE, not ${pattern}`)
  }
  return { rate: patternRate(pattern as PatternName, { baseRps: base, peakRps: peak, durationSeconds: duration }), duration }
}

export const command: Command = {
  summary: 'Send a pattern of HTTP load to a URL (bounded in time; loopback only by default)',
  usage: '--url URL [--pattern flash-sale|diurnal|step|trace:FILE] [--duration S] [--base-rps N] [--peak-rps N] [--json]',
  description: 'Open-loop load: requests arrive at the pattern\'s rate whether or not earlier ones answered. Prints one line per second and a summary; 503 answers with Retry-After count as shed, other 5xx and connection errors as failed.',
  examples: [
    { command: 'tide load --url http://127.0.0.1:8080/ --duration 120 --peak-rps 300', does: 'a flash sale at a local router: 30 req/s, then 300' },
    { command: 'tide load --url http://127.0.0.1:8080/ --pattern trace:traffic.csv --rate-scale 0.1', does: 'replay a recorded trace at a tenth of its rate' },
    { command: 'tide load --url http://127.0.0.1:8080/ --pattern step --duration 30 --json', does: 'a step of load; only the summary, as JSON' },
  ],
  flags: {
    url: { kind: 'string', description: 'target URL (http://127.0.0.1:PORT/path)', required: true },
    pattern: { kind: 'string', description: 'flash-sale, diurnal, step, or trace:FILE (a seconds,rps CSV)', defaultText: 'flash-sale' },
    duration: { kind: 'positive-number', max: 3_600, description: 'run length in seconds', defaultText: '60' },
    'base-rps': { kind: 'positive-number', max: 100_000, description: 'quiet rate, requests/s', defaultText: '20' },
    'peak-rps': { kind: 'positive-number', max: 100_000, description: 'busiest rate, requests/s', defaultText: '200' },
    'rate-scale': { kind: 'positive-number', max: 1_000, description: 'multiplier for trace rates', defaultText: '1' },
    'max-in-flight': { kind: 'positive-int', max: 100_000, description: 'requests in flight at most', defaultText: '512' },
    'max-requests': { kind: 'positive-int', max: 1_000_000_000, description: 'stop after this many arrivals (a cart-and-checkout flow counts once)', defaultText: '10000000' },
    'allow-remote': { kind: 'boolean', description: 'allow a target that is not a loopback address' },
    json: { kind: 'boolean', description: 'print only the summary as one JSON object' },
  },
  async run(args, io) {
    const duration = args.number('duration') ?? 60
    const base = args.number('base-rps') ?? 20
    const peak = args.number('peak-rps') ?? 200
    if (peak < base) throw new UsageError('load', `--peak-rps (${peak}) must not be below --base-rps (${base})`)
    const { rate, duration: runSeconds } = rateFor(args.string('pattern') ?? 'flash-sale', base, peak, duration, args.number('rate-scale') ?? 1)
    const json = args.boolean('json')
    const abort = new AbortController()
    // Ctrl-C or a SIGTERM ends the run at the next 10 ms slice; the summary of what was sent still prints.
    const onSignal = () => {
      abort.abort()
    }
    process.once('SIGINT', onSignal)
    process.once('SIGTERM', onSignal)
    try {
      const summary = await runLoad({
        url: args.requiredString('url'),
        rate,
        durationSeconds: runSeconds,
        maxInFlight: args.number('max-in-flight') ?? 512,
        maxRequests: args.number('max-requests') ?? 10_000_000,
        allowRemote: args.boolean('allow-remote'),
        signal: abort.signal,
        ...(json ? {} : { onSecond: (s) => io.stdout.write(`t=${String(s.t).padStart(4)}s offered ${s.offeredRps.toFixed(0).padStart(5)}/s sent ${String(s.sent).padStart(5)} ok ${String(s.ok).padStart(5)} failed ${s.failed} shed ${s.shed} p95 ${s.p95Ms.toFixed(1)} ms\n`) }),
      })
      if (json) io.stdout.write(JSON.stringify({ ...summary, seconds: undefined }) + '\n')
      else io.stdout.write(`\n${summary.totalRequests} requests: ${summary.okRequests} ok, ${summary.failedRequests} failed, ${summary.shedRequests} shed, ${summary.clientDropped} not sent (client limit); p50 ${summary.p50Ms.toFixed(1)} ms, p95 ${summary.p95Ms.toFixed(1)} ms, p99 ${summary.p99Ms.toFixed(1)} ms\n`)
      if (summary.failureSamples.length > 0 && !json) io.stdout.write(`failures, e.g.: ${summary.failureSamples.join('; ')}\n`)
      return summary.failedRequests > 0 ? 1 : 0
    } finally {
      process.off('SIGINT', onSignal)
      process.off('SIGTERM', onSignal)
    }
  },
}
