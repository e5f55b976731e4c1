import { describe, expect, it } from 'vitest'
import { ENTRY_KEY_BYTES, FLUSH_ONLY_RANGE, KEY_AREAS, entryKey, parseEntryKey } from './keys.js'

describe('key layout', () => {
  it('the flush-only range holds no key of any area (else the reclaim would compact that area)', () => {
    const [from, to] = FLUSH_ONLY_RANGE
    for (const area of KEY_AREAS) expect(area > to || area + '\uffff' < from).toBe(true)
  })

  it('entry keys are zero-padded offsets of a fixed length, in numeric order, and parse back', () => {
    const offsets = [0, 1, 9, 10, 99, 12_345, 10 ** 9, 2 ** 40 + 3, Number.MAX_SAFE_INTEGER]
    for (const priority of ['alert', 'telemetry'] as const) {
      const keys = offsets.map((o) => entryKey(priority, o))
      for (const [i, key] of keys.entries()) {
        expect(key).toBe(`e!${priority[0]}!${String(offsets[i]).padStart(16, '0')}`)
        expect(key.length).toBe(ENTRY_KEY_BYTES)
        expect(parseEntryKey(key)).toEqual({ priority, offset: offsets[i] })
      }
      expect([...keys].sort()).toEqual(keys)
    }
  })
})
