/**
 * ISO-8601 date-times to epoch milliseconds without the `Date` global, which the engine and
 * forecasting may not touch (time is an input; lint forbids `Date` there). tide.yaml carries
 * campaign windows as ISO strings with an offset ("2026-11-11T12:00:00+08:00"); the schema has
 * already validated them, so this parser is strict and small. Pure.
 */

const isoPattern = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|z|[+-]\d{2}(?::?\d{2})?)$/

/**
 * Epoch milliseconds of an ISO-8601 date-time with seconds and fraction optional and a
 * required offset (`Z`, `±HH`, `±HHMM`, `±HH:MM`). Throws RangeError naming the text when it
 * is not of that form or a field is out of range (month 13, hour 24, Feb 30 …).
 */
export function isoToEpochMs(text: string): number {
  const m = isoPattern.exec(text)
  if (m === null) throw new RangeError(`not an ISO-8601 date-time with an offset: "${text}"`)
  const [year, month, day, hour, minute] = [m[1], m[2], m[3], m[4], m[5]].map(Number) as [number, number, number, number, number]
  const second = Number(m[6] ?? 0)
  const fractionMs = m[7] === undefined ? 0 : Number(`0.${m[7]}`) * 1000
  const dim = daysInMonth(year, month)
  if (month < 1 || month > 12 || day < 1 || day > dim || hour > 23 || minute > 59 || second > 59) {
    throw new RangeError(`date-time field out of range: "${text}"`)
  }
  const offsetMinutes = parseOffset(m[8] ?? 'Z')
  const days = daysFromCivil(year, month, day)
  return ((days * 24 + hour) * 60 + minute - offsetMinutes) * 60_000 + second * 1000 + fractionMs
}

function parseOffset(text: string): number {
  if (text === 'Z' || text === 'z') return 0
  const sign = text.startsWith('-') ? -1 : 1
  const digits = text.slice(1).replace(':', '')
  const hours = Number(digits.slice(0, 2))
  const minutes = digits.length > 2 ? Number(digits.slice(2, 4)) : 0
  if (hours > 23 || minutes > 59) throw new RangeError(`offset out of range: "${text}"`)
  return sign * (hours * 60 + minutes)
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28
  return [4, 6, 9, 11].includes(month) ? 30 : 31
}

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year
  const era = Math.floor(y / 400)
  const yoe = y - era * 400
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy
  return era * 146097 + doe - 719468
}
