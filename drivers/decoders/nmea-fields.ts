/**
 * Field-level NMEA 0183 parsing shared by the sentence parsers. Strict: a field is either empty
 * (`null`) or well-formed; anything else throws DecodeError `bad_field`, because a sentence whose
 * checksum matched but whose values are garbage is a firmware bug we should count, not guess at.
 */
import { DecodeError } from '../../gateway/core/errors.js'

const DECIMAL = /^[-+]?(?:\d+\.?\d*|\.\d+)$/
const UNSIGNED_INT = /^\d{1,9}$/
const SIGNED_INT = /^[-+]?\d{1,3}$/
const COORDINATE = /^\d+(?:\.\d+)?$/
const TIME = /^(\d\d)(\d\d)(\d\d)(?:\.(\d+))?$/
/** GPS started in 1980, so two-digit years 80-99 are 19xx and 00-79 are 20xx (vectors: 94 → 1994, 23 → 2023). */
const PIVOT_YY = 80

function bad(what: string, reason = 'bad_field'): DecodeError {
  return new DecodeError(reason, `${what} is malformed`)
}

/** Decimal number, or null when empty. */
export function num(what: string, text: string | undefined): number | null {
  if (text === undefined || text === '') return null
  if (!DECIMAL.test(text)) throw bad(what)
  return Number(text)
}

/** Unsigned integer (leading zeros allowed: "04" → 4), or null when empty. */
export function int(what: string, text: string | undefined): number | null {
  if (text === undefined || text === '') return null
  if (!UNSIGNED_INT.test(text)) throw bad(what)
  return Number(text)
}

/** Signed integer with |value| <= max ("-1", "-08", "00"), or null when empty. */
export function signedInt(what: string, text: string | undefined, max: number): number | null {
  if (text === undefined || text === '') return null
  if (!SIGNED_INT.test(text)) throw bad(what)
  const n = Number(text)
  if (Math.abs(n) > max) throw bad(what)
  return n === 0 ? 0 : n // no -0 from "-00"
}

/** Free text field (ids, modes), or null when empty. */
export function text(value: string | undefined): string | null {
  return value === undefined || value === '' ? null : value
}

/** A unit letter after a value: must be the expected letter, or empty with an empty value. */
export function unit(id: string, value: string | undefined, expected: string): void {
  if (value !== undefined && value !== '' && value !== expected) throw bad(`${id} unit ${expected}`)
}

/**
 * "ddmm.mmmm" / "dddmm.mmmm" → decimal degrees. Split by string position, not by dividing by 100,
 * so "4807.038" gives 48 + 7.038/60 without a float remainder; missing leading zeros are fine
 * ("1131.00" is 11°31', vectors: nmea-simple:GGA; "30.00" is 0°30', parsingTest).
 */
export function coordinate(what: string, value: string, maxDegrees: number): number {
  if (!COORDINATE.test(value)) throw bad(what)
  const dot = value.indexOf('.')
  const split = Math.max(0, (dot === -1 ? value.length : dot) - 2)
  const degrees = split === 0 ? 0 : Number(value.slice(0, split))
  const minutes = Number(value.slice(split))
  if (minutes >= 60 || degrees + minutes / 60 > maxDegrees) throw bad(what)
  return degrees + minutes / 60
}

function signedCoordinate(
  what: string, value: string | undefined, hemi: string | undefined, maxDegrees: number, pos: string, neg: string,
): number | null {
  if ((value ?? '') === '' && (hemi ?? '') === '') return null
  if (value === undefined || value === '' || (hemi !== pos && hemi !== neg)) throw bad(what)
  const degrees = coordinate(what, value, maxDegrees)
  return hemi === neg ? -degrees : degrees
}

/** Latitude field + N/S → signed decimal degrees (S negative), or null when both are empty. */
export function latitude(id: string, value: string | undefined, hemi: string | undefined): number | null {
  return signedCoordinate(`${id} latitude`, value, hemi, 90, 'N', 'S')
}

/** Longitude field + E/W → signed decimal degrees (W negative), or null when both are empty. */
export function longitude(id: string, value: string | undefined, hemi: string | undefined): number | null {
  return signedCoordinate(`${id} longitude`, value, hemi, 180, 'E', 'W')
}

/**
 * "hhmmss[.s...]" → "HH:MM:SS.sss" (always milliseconds: one fixed-width, sortable form; the
 * vector sources disagree on whether to print them). Digits beyond ms are truncated.
 */
export function time(id: string, value: string | undefined): string | null {
  if (value === undefined || value === '') return null
  const m = TIME.exec(value)
  if (!m) throw bad(`${id} time`)
  const [, hh, mm, ss, frac] = m as unknown as [string, string, string, string, string | undefined]
  // 60 seconds: a leap second is legal in UTC.
  if (Number(hh) > 23 || Number(mm) > 59 || Number(ss) > 60) throw bad(`${id} time`)
  return `${hh}:${mm}:${ss}.${((frac ?? '') + '000').slice(0, 3)}`
}

/** "ddmmyy" → "YYYY-MM-DD", or null when empty. */
export function date(id: string, value: string | undefined): string | null {
  if (value === undefined || value === '') return null
  if (!/^\d{6}$/.test(value)) throw bad(`${id} date`)
  const yy = Number(value.slice(4, 6))
  return dayMonthYear(id, value.slice(0, 2), value.slice(2, 4), String(yy >= PIVOT_YY ? 1900 + yy : 2000 + yy))
}

/** Separate day, month, four-digit year fields (ZDA) → "YYYY-MM-DD", or null when all are empty. */
export function dayMonthYear(id: string, dd?: string, mo?: string, yyyy?: string): string | null {
  if (!dd && !mo && !yyyy) return null
  if (!/^\d{1,2}$/.test(dd ?? '') || !/^\d{1,2}$/.test(mo ?? '') || !/^\d{4}$/.test(yyyy ?? '')) throw bad(`${id} date`)
  const [d, m, y] = [Number(dd), Number(mo), Number(yyyy)]
  // No GNSS date precedes GPS week 0 (1980); this also keeps Date.UTC away from its 0-99 → 19xx rule.
  if (y < 1980) throw bad(`${id} date`)
  const probe = new Date(Date.UTC(y, m - 1, d))
  // Date.UTC rolls 31 Feb over into March; a real calendar date round-trips.
  if (probe.getUTCFullYear() !== y || probe.getUTCMonth() !== m - 1 || probe.getUTCDate() !== d) throw bad(`${id} date`)
  return `${yyyy}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`
}

/** Date + time of day → ISO 8601 UTC ("1994-03-23T12:35:19.000Z"), or null if either is missing. */
export function datetime(dateText: string | null, timeText: string | null): string | null {
  if (dateText === null || timeText === null) return null
  const [y, mo, d] = dateText.split('-').map(Number) as [number, number, number]
  const [hh, mm, ss, ms] = timeText.split(/[:.]/).map(Number) as [number, number, number, number]
  // By components, not by parsing a string: a leap second (":60") rolls into the next minute
  // instead of making an Invalid Date that would throw in toISOString().
  return new Date(Date.UTC(y, mo - 1, d, hh, mm, ss, ms)).toISOString()
}
