/**
 * Traffic traces, for the simulator, the load generator and `tide trace`: a CSV of (time, requests per second) rows read as a
 * step function — each row's rate holds until the next row.
 *
 * Format: a header line (any names; exactly the columns the rows have, at least two),
 * then one row per step. The first column is the time, in one of three forms, told
 * apart by the first data row and then required of every row:
 * - seconds from the trace start (a plain number below 1e9: `0`, `300`, `12.5`);
 * - unix seconds (a plain number ≥ 1e9, i.e. after 2001-09-09);
 * - an ISO-8601 timestamp with a time zone (`2026-11-11T12:00:00+08:00`, `…Z`).
 * Whatever the form, times are converted to seconds from the first row, so the first
 * row is always at second 0; `startMs` keeps the epoch time of the first row for the
 * absolute forms (0 for relative traces). The second column is requests per second.
 * Further columns are allowed when the header names them, and are ignored.
 *
 * Blank lines and lines starting with `#` are skipped. A UTF-8 BOM and CRLF line ends
 * are accepted. Every error names the file and the 1-based line. In core/ because the
 * simulator and the load generator both replay traces and neither may import the other.
 */
import { TideError } from '../errors.ts'
import { readRegularFile } from './input-file.ts'

/** A parsed trace: parallel arrays, `seconds` strictly increasing and starting at 0. */
export interface Trace {
  /** The file name (or another label) the trace came from; used in reports. */
  readonly name: string
  /** Epoch milliseconds of the first row for timestamped traces; 0 for traces in seconds from start. */
  readonly startMs: number
  /** Seconds from the first row, strictly increasing; `seconds[0]` is 0. */
  readonly seconds: Float64Array
  /** Requests per second from `seconds[i]` until `seconds[i + 1]`; never negative. */
  readonly rps: Float64Array
}

/** A trace file is malformed. `line` is 1-based; the message starts with `file:line:`. */
export class TraceError extends TideError {
  readonly file: string
  readonly line: number

  constructor(file: string, line: number, message: string) {
    super('TIDE_ERR_TRACE', line > 0 ? `${file}:${line}: ${message}` : `${file}: ${message}`)
    this.file = file
    this.line = line
  }
}

/**
 * Most rows a trace may have: 5 million (58 days at one row a second). The simulator and the
 * load generator hold a trace whole, two 8-byte numbers a row; beyond this a trace is refused
 * with its line rather than filling memory (resample it to a longer step).
 */
export const MAX_TRACE_ROWS = 5_000_000
/** Largest trace file loadTrace reads: 256 MiB (5 million rows of about 50 bytes). */
export const MAX_TRACE_BYTES = 256 * 1024 * 1024

/** Options of parseTrace. */
export interface ParseTraceOptions {
  /** Rows allowed; MAX_TRACE_ROWS by default (tests lower it). */
  readonly maxRows?: number
}

/** A plain decimal number: no hex, no `Infinity`, no empty string (which Number() would read as 0). */
const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/
/** ISO-8601 date-time with a mandatory zone: without one, the time would depend on the machine's zone. */
const ISO_WITH_ZONE = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})$/i
const ISO_WITHOUT_ZONE = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$/
/** Plain numbers at or above this are unix seconds (2001-09-09); below, seconds from start (31 years). */
const UNIX_SECONDS_FROM = 1e9

type TimeForm = 'relative' | 'unix' | 'iso'

/**
 * Parses a trace CSV. Throws TraceError (code TIDE_ERR_TRACE) naming `fileName` and the
 * line for: a missing header, a row with a different column count than the header, an
 * empty or non-numeric field, NaN or infinite values, a timestamp without a time zone,
 * mixed time forms, time not strictly increasing (unsorted or duplicate), a negative
 * rate, a trace without rows, and more rows than `maxRows` (MAX_TRACE_ROWS). Linear in the
 * input; a million rows parse in about a second (bench, not test).
 */
export function parseTrace(text: string, fileName: string, options: ParseTraceOptions = {}): Trace {
  const maxRows = options.maxRows ?? MAX_TRACE_ROWS
  let pos = text.charCodeAt(0) === 0xfeff ? 1 : 0
  let lineNo = 0
  let columns = 0
  let form: TimeForm | undefined
  let count = 0
  let capacity = 1024
  let times = new Float64Array(capacity)
  let rates = new Float64Array(capacity)
  let first = 0
  let previous = Number.NEGATIVE_INFINITY
  while (pos <= text.length) {
    let end = text.indexOf('\n', pos)
    if (end < 0) end = text.length
    let line = text.slice(pos, end)
    pos = end + 1
    lineNo++
    if (line.endsWith('\r')) line = line.slice(0, -1)
    if (line.trim() === '' || line.startsWith('#')) continue
    const fields = line.split(',')
    if (columns === 0) {
      columns = headerColumns(fields, fileName, lineNo)
      continue
    }
    if (fields.length !== columns) {
      throw new TraceError(fileName, lineNo, `expected ${columns} columns as in the header, found ${fields.length}: "${clip(line)}"`)
    }
    const timeField = (fields[0] ?? '').trim()
    form ??= timeFormOf(timeField, fileName, lineNo)
    const t = parseTime(timeField, form, fileName, lineNo)
    const rps = parseRate((fields[1] ?? '').trim(), fileName, lineNo)
    if (count === 0) first = t
    else if (t <= previous) throw unsorted(t === previous, timeField, fileName, lineNo)
    previous = t
    if (count === maxRows) {
      throw new TraceError(fileName, lineNo, `more than ${maxRows} rows: a trace this long is refused (resample it to a longer step, e.g. per minute)`)
    }
    if (count === capacity) {
      capacity = Math.min(capacity * 2, maxRows)
      times = grow(times, capacity)
      rates = grow(rates, capacity)
    }
    times[count] = t - first
    rates[count] = rps
    count++
  }
  if (columns === 0) throw new TraceError(fileName, 0, 'empty trace: no header and no rows')
  if (count === 0) throw new TraceError(fileName, 0, 'empty trace: a header but no rows')
  return {
    name: fileName,
    startMs: form === 'relative' ? 0 : first * 1000,
    seconds: times.slice(0, count),
    rps: rates.slice(0, count),
  }
}

/**
 * Reads and parses a trace file; FileError when it cannot be read, is not a regular file (a
 * FIFO, a device) or is larger than MAX_TRACE_BYTES; TraceError when malformed.
 */
export function loadTrace(path: string): Trace {
  return parseTrace(readRegularFile(path, MAX_TRACE_BYTES), path)
}

/**
 * The request rate at `second` (seconds from the trace start): the rate of the last row
 * at or before it. 0 before the start and from `traceDurationSeconds(trace)` on.
 * O(log n) by binary search; callers that walk forward in time may keep an index
 * themselves with `rowAt`.
 */
export function rateAt(trace: Trace, second: number): number {
  if (!(second >= 0) || second >= traceDurationSeconds(trace)) return 0
  return trace.rps[rowAt(trace, second)] ?? 0
}

/**
 * The index of the last row whose time is ≤ `second`, or -1 before the first row.
 * Does not look at the trace's end: rows hold past the last one.
 */
export function rowAt(trace: Trace, second: number): number {
  const s = trace.seconds
  let lo = 0
  let hi = s.length - 1
  if (hi < 0 || second < (s[0] ?? 0)) return -1
  while (lo < hi) {
    // Invariant: s[lo] ≤ second, and the answer is in [lo, hi].
    const mid = (lo + hi + 1) >>> 1
    if ((s[mid] ?? 0) <= second) lo = mid
    else hi = mid - 1
  }
  return lo
}

const durations = new WeakMap<Trace, number>()

/**
 * The trace's length in seconds: the last row's time plus one more step, where the step
 * is the median spacing of the rows (so one odd gap does not stretch the end). A trace of
 * one row lasts 1 s. Cached per trace object.
 */
export function traceDurationSeconds(trace: Trace): number {
  const cached = durations.get(trace)
  if (cached !== undefined) return cached
  const n = trace.seconds.length
  const last = trace.seconds[n - 1] ?? 0
  const duration = last + (n < 2 ? 1 : medianStep(trace.seconds))
  durations.set(trace, duration)
  return duration
}

/** The median of the differences between consecutive times (n ≥ 2). Uniform traces skip the sort. */
function medianStep(seconds: Float64Array): number {
  const n = seconds.length
  const steps = new Float64Array(n - 1)
  let uniform = true
  for (let i = 1; i < n; i++) {
    steps[i - 1] = (seconds[i] ?? 0) - (seconds[i - 1] ?? 0)
    if (steps[i - 1] !== steps[0]) uniform = false
  }
  if (uniform) return steps[0] ?? 1
  steps.sort()
  const mid = steps.length >>> 1
  return steps.length % 2 === 1 ? (steps[mid] ?? 1) : ((steps[mid - 1] ?? 1) + (steps[mid] ?? 1)) / 2
}

function headerColumns(fields: string[], fileName: string, lineNo: number): number {
  if (fields.length < 2) {
    throw new TraceError(fileName, lineNo, `the header needs at least two columns (time, requests per second), found ${fields.length}`)
  }
  const firstField = (fields[0] ?? '').trim()
  if (DECIMAL.test(firstField) || ISO_WITH_ZONE.test(firstField)) {
    throw new TraceError(fileName, lineNo, `missing header: the first line is a data row; add a header such as "seconds,rps"`)
  }
  return fields.length
}

function timeFormOf(field: string, fileName: string, lineNo: number): TimeForm {
  if (DECIMAL.test(field)) return Number(field) >= UNIX_SECONDS_FROM ? 'unix' : 'relative'
  if (ISO_WITH_ZONE.test(field)) return 'iso'
  if (ISO_WITHOUT_ZONE.test(field)) {
    throw new TraceError(fileName, lineNo, `timestamp "${field}" has no time zone; add Z or an offset such as +08:00`)
  }
  throw new TraceError(fileName, lineNo, `time "${clip(field)}" is neither seconds, unix seconds nor an ISO-8601 timestamp`)
}

/** Seconds (relative or since the epoch) of one time field, in the form the first row set. */
function parseTime(field: string, form: TimeForm, fileName: string, lineNo: number): number {
  if (form === 'iso') {
    const ms = ISO_WITH_ZONE.test(field) && validCalendarDate(field) ? Date.parse(field) : Number.NaN
    if (Number.isNaN(ms)) {
      throw new TraceError(fileName, lineNo, `time "${clip(field)}" is not an ISO-8601 timestamp with a time zone like the first row's`)
    }
    return ms / 1000
  }
  const t = parseNumber(field, 'time', fileName, lineNo)
  if ((form === 'unix') !== t >= UNIX_SECONDS_FROM) {
    const kinds = form === 'unix' ? 'unix seconds' : 'seconds from start'
    throw new TraceError(fileName, lineNo, `time ${field} does not look like ${kinds} like the first row's (mixed time forms)`)
  }
  return t
}

/** Date.parse rolls 2026-02-30 over to March 2; a trace with such a date is wrong, not shifted. */
function validCalendarDate(iso: string): boolean {
  const year = Number(iso.slice(0, 4))
  const month = Number(iso.slice(5, 7))
  const day = Number(iso.slice(8, 10))
  const d = new Date(Date.UTC(year, month - 1, day))
  return d.getUTCMonth() === month - 1 && d.getUTCDate() === day
}

function parseRate(field: string, fileName: string, lineNo: number): number {
  const rps = parseNumber(field, 'rate', fileName, lineNo)
  if (rps < 0) throw new TraceError(fileName, lineNo, `negative rate ${field}`)
  return rps
}

function unsorted(duplicate: boolean, timeField: string, fileName: string, lineNo: number): TraceError {
  const what = duplicate ? 'duplicate time' : 'time goes backwards'
  return new TraceError(fileName, lineNo, `${what}: ${timeField} is not after the previous row; rows must be sorted by time`)
}

function parseNumber(field: string, what: 'time' | 'rate', fileName: string, lineNo: number): number {
  if (field === '') throw new TraceError(fileName, lineNo, `empty ${what}`)
  if (!DECIMAL.test(field)) throw new TraceError(fileName, lineNo, `${what} "${clip(field)}" is not a number`)
  const value = Number(field)
  if (!Number.isFinite(value)) throw new TraceError(fileName, lineNo, `${what} ${clip(field)} is not finite`)
  return value
}

function grow(a: Float64Array<ArrayBuffer>, capacity: number): Float64Array<ArrayBuffer> {
  const b = new Float64Array(capacity)
  b.set(a)
  return b
}

/** Shortens a quoted input excerpt so that one huge line does not flood the terminal. */
function clip(s: string): string {
  return s.length > 60 ? `${s.slice(0, 57)}...` : s
}

/** A summary of a trace, for `tide trace info` and reports. Rates in requests/s, times in seconds from the start. */
export interface TraceStats {
  readonly rows: number
  readonly durationSeconds: number
  /** The median spacing of rows; what the last row holds for. */
  readonly stepSeconds: number
  readonly minRps: number
  readonly maxRps: number
  /** Second at which the highest rate begins (the first such row). */
  readonly peakSecond: number
  /** Time-weighted mean: totalRequests / durationSeconds. */
  readonly meanRps: number
  /** Requests over the whole trace: the integral of the step function. */
  readonly totalRequests: number
}

/** Summarises a trace in one pass (plus the median step, cached with the duration). */
export function traceStats(trace: Trace): TraceStats {
  const n = trace.seconds.length
  const durationSeconds = traceDurationSeconds(trace)
  const last = trace.seconds[n - 1] ?? 0
  let minRps = Number.POSITIVE_INFINITY
  let maxRps = Number.NEGATIVE_INFINITY
  let peakSecond = 0
  let totalRequests = 0
  for (let i = 0; i < n; i++) {
    const rps = trace.rps[i] ?? 0
    const from = trace.seconds[i] ?? 0
    const to = i + 1 < n ? (trace.seconds[i + 1] ?? from) : durationSeconds
    totalRequests += rps * (to - from)
    if (rps < minRps) minRps = rps
    if (rps > maxRps) {
      maxRps = rps
      peakSecond = from
    }
  }
  return {
    rows: n,
    durationSeconds,
    stepSeconds: durationSeconds - last,
    minRps,
    maxRps,
    peakSecond,
    meanRps: durationSeconds > 0 ? totalRequests / durationSeconds : 0,
    totalRequests,
  }
}
