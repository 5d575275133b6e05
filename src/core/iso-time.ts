/**
 * ISO-8601 date-times to epoch milliseconds, by arithmetic alone: the one parser for the
 * engine (schedule windows) and forecasting (campaign windows).
 *
 * The engine and forecasting may not touch the `Date` global (time is an input, and the
 * lint rule that enforces it cannot tell a pure `Date.parse` from a clock read), so
 * tide.yaml's one-off windows ("2026-11-11T12:00:00+08:00") are parsed here. The accepted
 * form covers what the schema validates (`z.iso.datetime({ offset: true })`):
 * `YYYY-MM-DDTHH:mm[:ss[.fff…]]` followed by `Z` (or `z`) or an offset `±HH:mm`, `±HHmm`
 * or `±HH`. Fractions of a second beyond milliseconds are truncated, as `Date.parse` does.
 * Pure.
 *
 * Two entry points, one implementation: `isoToEpochMs` returns undefined for a string that
 * is not such a date-time (the engine, whose spec was validated before), and
 * `isoToEpochMsOrThrow` throws a RangeError naming the text (forecasting, which reports it).
 */

const isoPattern = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?(Z|z|([+-])(\d{2})(?::?(\d{2}))?)$/

const msPerMinute = 60_000
const msPerDay = 86_400_000

/**
 * Days from 1970-01-01 to the given proleptic Gregorian date (month 1–12).
 * Howard Hinnant's `days_from_civil`: eras of 400 years (146 097 days), with the
 * year starting in March so that the leap day is the last day of the year.
 */
export function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year
  const era = Math.floor(y / 400)
  const yearOfEra = y - era * 400 // 0…399
  const monthFromMarch = (month + 9) % 12 // March = 0 … February = 11
  const dayOfYear = Math.floor((153 * monthFromMarch + 2) / 5) + day - 1 // 0…365
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear
  return era * 146_097 + dayOfEra - 719_468 // 719 468 = days from 0000-03-01 to 1970-01-01
}

/** Memo of parsed strings: schedules repeat the same few strings on every tick. */
const parsed = new Map<string, number | undefined>()

/**
 * Epoch milliseconds of an ISO-8601 date-time with an explicit offset, or
 * undefined when the string is not one (a schema-validated spec never is).
 * Memoised per string.
 */
export function isoToEpochMs(text: string): number | undefined {
  if (parsed.has(text)) return parsed.get(text)
  const result = parseIso(text)
  const value = typeof result === 'number' ? result : undefined
  parsed.set(text, value)
  return value
}

/**
 * Epoch milliseconds of an ISO-8601 date-time with an explicit offset. Throws RangeError
 * naming the text when it is not of that form or a field is out of range (month 13,
 * hour 24, Feb 30, offset +25:00 …).
 */
export function isoToEpochMsOrThrow(text: string): number {
  const result = parseIso(text)
  if (typeof result === 'number') return result
  throw new RangeError(result.why)
}

/** The epoch milliseconds, or why the text is not a date-time (a sentence naming it). */
function parseIso(text: string): number | { readonly why: string } {
  const m = isoPattern.exec(text)
  if (m === null) return { why: `not an ISO-8601 date-time with an offset: "${text}"` }
  const [, y, mo, d, h, mi, s, frac, zone = 'Z', sign, oh, om] = m
  const [year, month, day, hour, minute] = [y, mo, d, h, mi].map(Number) as [number, number, number, number, number]
  const second = s === undefined ? 0 : Number(s)
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month) || hour > 23 || minute > 59 || second > 59) {
    return { why: `date-time field out of range: "${text}"` }
  }
  const offsetMinutes = offsetMinutesOf(zone, sign, oh, om)
  if (offsetMinutes === undefined) return { why: `offset out of range: "${zone}"` }
  const millis = frac === undefined ? 0 : Number(frac.slice(0, 3).padEnd(3, '0'))
  const localMs = daysFromCivil(year, month, day) * msPerDay + ((hour * 60 + minute) * 60 + second) * 1000 + millis
  // Local time = UTC + offset, so UTC = local − offset.
  return localMs - offsetMinutes * msPerMinute
}

/** Minutes east of UTC of a matched zone (`Z`, `z`, `±HH[[:]mm]`), or undefined past 23:59. */
function offsetMinutesOf(zone: string, sign: string | undefined, hours: string | undefined, minutes: string | undefined): number | undefined {
  if (zone === 'Z' || zone === 'z') return 0
  const h = Number(hours)
  const m = Number(minutes ?? '0')
  if (h > 23 || m > 59) return undefined
  return (h * 60 + m) * (sign === '-' ? -1 : 1)
}

function daysInMonth(year: number, month: number): number {
  return daysFromCivil(month === 12 ? year + 1 : year, month === 12 ? 1 : month + 1, 1) - daysFromCivil(year, month, 1)
}
