import { describe, expect, it } from 'vitest'
import { OffsetRanges } from './offset-ranges.js'

describe('OffsetRanges', () => {
  it('counts only offsets it did not know, merges neighbours, answers range ends', () => {
    const r = new OffsetRanges()
    expect(r.add(5, 9)).toBe(5)
    expect(r.add(7, 12)).toBe(3)
    expect(r.add(13, 13)).toBe(1) // adjacent: merged
    expect(r.add(20, 19)).toBe(0)
    expect(r.size).toBe(1)
    expect([r.endOf(4), r.endOf(5), r.endOf(13), r.endOf(14)]).toEqual([undefined, 13, 13, undefined])
    expect(r.add(1, 30)).toBe(30 - 9)
    r.dropBelow(25)
    expect([r.endOf(24), r.endOf(25)]).toEqual([undefined, 30])
  })

  it('stays bounded, forgetting the lowest ranges', () => {
    const r = new OffsetRanges(3)
    for (let i = 0; i < 10; i++) r.add(i * 10, i * 10)
    expect(r.size).toBe(3)
    expect([r.endOf(60), r.endOf(70), r.endOf(90)]).toEqual([undefined, 70, 90])
  })
})
