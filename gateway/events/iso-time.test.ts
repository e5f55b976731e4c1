import { describe, expect, it } from 'vitest'
import { isoTime } from './iso-time.js'

describe('isoTime', () => {
  it('is toISOString for times in order, across second, day and year boundaries', () => {
    const starts = [Date.UTC(2026, 10, 21, 22, 38, 30, 0), Date.UTC(2026, 11, 31, 23, 59, 58, 990), 0, -1500]
    for (const start of starts) {
      for (let ms = start; ms < start + 3_000; ms += 7) expect(isoTime(ms)).toBe(new Date(ms).toISOString())
    }
  })

  it('is toISOString for times out of order, fractional, and far from now', () => {
    const times = [1795300026915, 1795300026001.9, 1795300025999, 1795300026915.5, -62198755200000, 253402300799999, 253402300800000, 8.64e15, -8.64e15]
    for (const ms of times) {
      expect(isoTime(ms)).toBe(new Date(ms).toISOString())
      expect(isoTime(ms)).toBe(new Date(ms).toISOString()) // again, now from the cache where cached
    }
  })

  it('throws what toISOString throws for an invalid time, cached second or not', () => {
    isoTime(1795300026915)
    for (const ms of [Number.NaN, 8.64e15 + 1, Infinity]) expect(() => isoTime(ms)).toThrow(RangeError)
  })
})
