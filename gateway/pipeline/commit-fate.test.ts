/** The fate of a failed commit's events when the store's error says more or less about them. */
import { describe, expect, it } from 'vitest'
import { PartialAppendError } from '../core/errors.js'
import { fateOfFailure, IndexCursor } from './commit-fate.js'

describe('fateOfFailure', () => {
  it('takes the lists a PartialAppendError carries', () => {
    const err = new PartialAppendError({ accepted: 2, rejected: 1, evicted: 0, refused: [1] }, new Error('closed'), { lost: [0, 4] })
    expect(fateOfFailure(err, 5)).toEqual({ refused: [1], lost: [0, 4] })
  })

  it('any other error settled nothing: every event is lost', () => {
    expect(fateOfFailure(new Error('disk'), 3)).toEqual({ refused: [], lost: [0, 1, 2] })
  })

  it('an error with counts but no lost list: the stored ones are taken to come first, refused ones skipped', () => {
    const err = new PartialAppendError({ accepted: 2, rejected: 1, evicted: 0, refused: [1] }, new Error('closed'))
    expect(fateOfFailure(err, 5)).toEqual({ refused: [1], lost: [3, 4] })
  })
})

describe('IndexCursor', () => {
  it('counts each index once, in the range it falls in', () => {
    const cursor = new IndexCursor([0, 3, 4, 9])
    expect([cursor.countBelow(3), cursor.countBelow(5), cursor.countBelow(5), cursor.countBelow(12)]).toEqual([1, 2, 0, 1])
    expect(new IndexCursor().countBelow(100)).toBe(0)
  })
})
