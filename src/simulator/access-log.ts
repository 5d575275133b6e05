/**
 * Turns an nginx/Apache access log into a trace: requests counted per step of wall time,
 * written as a `seconds,rps` CSV that parseTrace reads.
 *
 * Accepted lines are the Common Log Format and the Combined Log Format (nginx's default
 * `combined`, Apache's `common`/`combined`), with anything after the combined fields
 * allowed (nginx configs often append `$request_time`):
 *
 *     127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /a.gif HTTP/1.0" 200 2326 "http://x/" "Mozilla/4.08"
 *
 * Only the timestamp is used: one line is one request arriving in that second. Servers
 * log at completion, so lines can be slightly out of order; counting into buckets keyed
 * by absolute time does not care. Every step between the first and the last request is
 * a row, so quiet gaps become 0-rate rows. The last step may be only partly covered by
 * the log; its rate counts the requests seen in it.
 */
import { createReadStream } from 'node:fs'
import { StringDecoder } from 'node:string_decoder'
import { createGunzip } from 'node:zlib'
import { FileError, TideError } from '../errors.ts'
import { openRegularFile } from '../core/input-file.ts'
import { MAX_TRACE_ROWS } from '../core/trace.ts'

/**
 * Longest access log line read, in characters: 64 KiB. nginx's and Apache's default request
 * line limits are 8 KiB, so a longer line is not a log line; it is refused (or skipped with
 * skipBad) without being held whole, however long it is.
 */
export const MAX_ACCESS_LOG_LINE = 64 * 1024

/** An access log line cannot be read (code TIDE_ERR_ACCESS_LOG). */
export class AccessLogError extends TideError {
  readonly file: string
  /** 1-based; 0 when the error is about the whole file. */
  readonly line: number

  constructor(file: string, line: number, message: string) {
    super('TIDE_ERR_ACCESS_LOG', line > 0 ? `${file}:${line}: ${message}` : `${file}: ${message}`)
    this.file = file
    this.line = line
  }
}

/** How to count. */
export interface AccessLogOptions {
  /** Width of one trace row in seconds; a whole number ≥ 1, as log times have 1 s resolution. */
  readonly stepSeconds: number
  /** Count and skip malformed lines instead of failing on the first. */
  readonly skipBad: boolean
  /** Most rows (steps) the trace may have, first to last request; MAX_TRACE_ROWS by default (tests lower it). */
  readonly maxRows?: number
}

/** Requests per step, ready to be written as a trace. */
export interface AccessLogCounts {
  /** Epoch ms of the first step's start (aligned to the step). */
  readonly startMs: number
  readonly stepSeconds: number
  /** Requests in each step, from startMs on, gaps included as 0. */
  readonly counts: Float64Array
  /** Lines that were requests. */
  readonly requests: number
  /** Malformed lines skipped (only with skipBad). */
  readonly skipped: number
  /** Line number of the first skipped line, for the report. */
  readonly firstSkippedLine: number | undefined
}

const MONTHS: Readonly<Record<string, number>> = { Jan: 0, Feb: 1, Mar: 2, Apr: 3, May: 4, Jun: 5, Jul: 6, Aug: 7, Sep: 8, Oct: 9, Nov: 10, Dec: 11 }

/**
 * host ident user [dd/Mon/yyyy:HH:MM:SS ±hhmm] "request" status bytes, then optionally
 * "referer" "user-agent" and anything else. Quoted fields may contain escaped quotes.
 */
const LOG_LINE = /^\S+ \S+ \S+ \[(\d{2})\/([A-Z][a-z]{2})\/(\d{4}):(\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2})\] "(?:[^"\\]|\\.)*" (?:\d{3}|-) (?:\d+|-)(?:$|\s)/

/**
 * The epoch seconds of a log line's timestamp, or undefined when the line is not a
 * common/combined log line or its date is impossible (31 Feb, hour 25).
 */
export function accessLogSeconds(line: string): number | undefined {
  const m = LOG_LINE.exec(line)
  if (m === null) return undefined
  const [, dd, mon, yyyy, hh, mm, ss, sign, oh, om] = m
  const month = MONTHS[mon ?? '']
  if (month === undefined) return undefined
  const day = Number(dd)
  const hour = Number(hh)
  const minute = Number(mm)
  const second = Number(ss)
  if (hour > 23 || minute > 59 || second > 60) return undefined
  const utcMs = Date.UTC(Number(yyyy), month, day, hour, minute, second)
  if (new Date(utcMs).getUTCDate() !== day) return undefined
  const offsetMinutes = (sign === '-' ? -1 : 1) * (Number(oh) * 60 + Number(om))
  // The log shows local time at that offset: UTC = local − offset.
  return utcMs / 1000 - offsetMinutes * 60
}

/**
 * Counts requests line by line, so that a log of any size streams through in constant
 * memory per step. Feed lines with `add`, then call `result`.
 */
export class AccessLogCounter {
  readonly #file: string
  readonly #options: AccessLogOptions
  readonly #buckets = new Map<number, number>()
  #line = 0
  #requests = 0
  #skipped = 0
  #firstSkipped: number | undefined
  #minBucket = Number.POSITIVE_INFINITY
  #maxBucket = Number.NEGATIVE_INFINITY

  constructor(file: string, options: AccessLogOptions) {
    if (!Number.isInteger(options.stepSeconds) || options.stepSeconds < 1) {
      throw new RangeError(`stepSeconds must be a whole number ≥ 1, got ${options.stepSeconds}`)
    }
    this.#file = file
    this.#options = options
  }

  /**
   * One line of the log (without its newline). Blank lines are ignored. Throws AccessLogError
   * on a malformed line, or one longer than MAX_ACCESS_LOG_LINE, unless skipBad.
   */
  add(line: string): void {
    this.#line++
    if (line.length > MAX_ACCESS_LOG_LINE) {
      this.#bad(`the line is longer than ${MAX_ACCESS_LOG_LINE} characters: not an access log line (--skip-bad skips such lines)`)
      return
    }
    if (line.trim() === '') return
    const seconds = accessLogSeconds(line)
    if (seconds === undefined) {
      const shown = line.length > 80 ? `${line.slice(0, 77)}...` : line
      this.#bad(`not a common or combined log line: "${shown}" (--skip-bad skips such lines)`)
      return
    }
    const bucket = Math.floor(seconds / this.#options.stepSeconds)
    this.#buckets.set(bucket, (this.#buckets.get(bucket) ?? 0) + 1)
    if (bucket < this.#minBucket) this.#minBucket = bucket
    if (bucket > this.#maxBucket) this.#maxBucket = bucket
    this.#requests++
  }

  /**
   * A line longer than MAX_ACCESS_LOG_LINE that the reader did not keep whole: counted as a
   * line, and refused or skipped as add() does with one it was given.
   */
  addOverlong(): void {
    this.#line++
    this.#bad(`the line is longer than ${MAX_ACCESS_LOG_LINE} characters: not an access log line (--skip-bad skips such lines)`)
  }

  #bad(message: string): void {
    if (!this.#options.skipBad) throw new AccessLogError(this.#file, this.#line, message)
    this.#skipped++
    this.#firstSkipped ??= this.#line
  }

  /**
   * The counts so far. Throws AccessLogError when no line was a request, or when the requests
   * span more steps than maxRows (two lines years apart would otherwise allocate a row per
   * second between them): the message names the span and the --step that would fit.
   */
  result(): AccessLogCounts {
    if (this.#requests === 0) {
      const why = this.#skipped > 0 ? `all ${this.#skipped} non-blank lines were malformed` : 'the log is empty'
      throw new AccessLogError(this.#file, 0, `no requests found: ${why}`)
    }
    const rows = this.#maxBucket - this.#minBucket + 1
    const maxRows = this.#options.maxRows ?? MAX_TRACE_ROWS
    if (rows > maxRows) {
      const step = this.#options.stepSeconds
      const from = new Date(this.#minBucket * step * 1000).toISOString()
      const to = new Date(this.#maxBucket * step * 1000).toISOString()
      const fitting = Math.ceil((rows * step) / maxRows)
      throw new AccessLogError(
        this.#file,
        0,
        `the requests span ${from} to ${to}: ${rows} rows of ${step} s, more than the ${maxRows} a trace may have; use --step ${fitting} or more, or split the log`,
      )
    }
    const counts = new Float64Array(this.#maxBucket - this.#minBucket + 1)
    for (const [bucket, n] of this.#buckets) counts[bucket - this.#minBucket] = n
    return {
      startMs: this.#minBucket * this.#options.stepSeconds * 1000,
      stepSeconds: this.#options.stepSeconds,
      counts,
      requests: this.#requests,
      skipped: this.#skipped,
      firstSkippedLine: this.#firstSkipped,
    }
  }
}

/** Counts the requests in a whole log held in memory (tests, small logs). */
export function countAccessLog(text: string, file: string, options: AccessLogOptions): AccessLogCounts {
  const counter = new AccessLogCounter(file, options)
  const lines = text.split('\n')
  if (lines.at(-1) === '') lines.pop()
  for (const line of lines) counter.add(line.endsWith('\r') ? line.slice(0, -1) : line)
  return counter.result()
}

/**
 * Streams a log file (gzip-compressed when its name ends in `.gz`) through a counter, line by
 * line, in memory bounded by MAX_ACCESS_LOG_LINE whatever the file holds: a longer line is
 * never kept whole (it is refused, or skipped with skipBad). Only a regular file is read
 * (FileError for a FIFO or a device, which would block or never end).
 */
export async function readAccessLog(path: string, options: AccessLogOptions): Promise<AccessLogCounts> {
  const counter = new AccessLogCounter(path, options)
  const { fd } = openRegularFile(path)
  const file = createReadStream(path, { fd })
  const input = path.endsWith('.gz') ? file.pipe(createGunzip()) : file
  // pipe() does not forward a read error of the file to the gunzip stream the loop iterates.
  if (input !== file) file.on('error', (err: Error) => input.destroy(err))
  const decoder = new StringDecoder('utf8')
  // The line read so far (empty once it is known to be overlong, which is all that is kept of it).
  const line = { partial: '', overlong: false }
  const take = (text: string): void => {
    let start = 0
    for (;;) {
      const nl = text.indexOf('\n', start)
      if (nl < 0) break
      if (line.overlong) counter.addOverlong()
      else {
        const whole = line.partial + text.slice(start, nl)
        counter.add(whole.endsWith('\r') ? whole.slice(0, -1) : whole)
      }
      line.partial = ''
      line.overlong = false
      start = nl + 1
    }
    if (!line.overlong) {
      line.partial += text.slice(start)
      // One more than the limit: a line of exactly the limit may still end with "\r".
      if (line.partial.length > MAX_ACCESS_LOG_LINE + 1) {
        line.partial = ''
        line.overlong = true
      }
    }
  }
  try {
    for await (const chunk of input as AsyncIterable<Buffer>) {
      take(decoder.write(chunk))
    }
    take(decoder.end())
    if (line.overlong) counter.addOverlong()
    else if (line.partial !== '') counter.add(line.partial.endsWith('\r') ? line.partial.slice(0, -1) : line.partial)
    return counter.result()
  } catch (err) {
    if (err instanceof TideError) throw err
    throw new FileError(path, 'read', err)
  } finally {
    file.destroy()
    if (input !== file) input.destroy()
  }
}

/** The counts as a trace CSV: `seconds,rps`, one row per step from 0, rates in requests per second. */
export function accessLogTraceCsv(counts: AccessLogCounts): string {
  const rows = ['seconds,rps']
  const step = counts.stepSeconds
  for (const [i, n] of counts.counts.entries()) rows.push(`${i * step},${formatRate(n / step)}`)
  return `${rows.join('\n')}\n`
}

/** Up to 6 decimals, no trailing zeros: 1/3 → 0.333333, 2 → 2. */
function formatRate(rps: number): string {
  return String(Number(rps.toFixed(6)))
}
