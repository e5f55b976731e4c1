import { describe, expect, it } from 'vitest'
import { FLUSH_ONLY_RANGE, KEY_AREAS } from './keys.js'

describe('key layout', () => {
  it('the flush-only range holds no key of any area (else the reclaim would compact that area)', () => {
    const [from, to] = FLUSH_ONLY_RANGE
    for (const area of KEY_AREAS) expect(area > to || area + '\uffff' < from).toBe(true)
  })
})
