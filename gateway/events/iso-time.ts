/**
 * `new Date(ms).toISOString()`, cheaper for readings close in time. On Node 20 toISOString costs
 * ~1.2 µs, a quarter of building a CloudEvent; readings arrive in order, many within the same
 * second, so the part up to the seconds is formatted once per second and reused.
 *
 * Invariant: returns exactly what toISOString returns, and throws what it throws (RangeError for
 * an invalid time), for every input: only a result toISOString produced is ever reused.
 */

let cachedSecond = Number.NaN
/** toISOString of `cachedSecond * 1000` without its "000Z": "2026-11-21T22:38:30." */
let cachedPrefix = ''

/** The ISO 8601 form of `ms` (ms since epoch), as Date.prototype.toISOString gives it. */
export function isoTime(ms: number): string {
  const second = Math.floor(ms / 1000)
  const millis = ms - second * 1000
  // Whole milliseconds only: a fractional ms (Date truncates it) goes the slow way.
  if (second === cachedSecond && Number.isInteger(millis)) return cachedPrefix + pad3(millis) + 'Z'
  const iso = new Date(ms).toISOString()
  // Only the usual "YYYY-MM-DDTHH:MM:SS.mmmZ" form is cached (not ±YYYYYY years).
  if (iso.length === 24 && Number.isInteger(millis)) {
    cachedSecond = second
    cachedPrefix = iso.slice(0, 20)
  }
  return iso
}

function pad3(n: number): string {
  return n < 10 ? '00' + n : n < 100 ? '0' + n : String(n)
}
