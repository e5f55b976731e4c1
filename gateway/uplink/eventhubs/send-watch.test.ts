import { describe, expect, it } from 'vitest'
import { SendWatch } from './send-watch.js'

describe('SendWatch', () => {
  it('is not stalled without outstanding sends, however long nothing was confirmed', () => {
    const watch = new SendWatch(1000)
    expect(watch.stalledForMs(performance.now() + 60_000)).toBe(0)
    expect(watch.apply({ connected: true })).toEqual({ connected: true })
  })

  it('reports a send outstanding past stallMs with nothing confirmed, until it ends', () => {
    const watch = new SendWatch(1000)
    const t0 = performance.now()
    const token = watch.begin()
    expect(watch.stalledForMs(t0 + 500)).toBe(0)
    expect(watch.stalledForMs(t0 + 2500)).toBeGreaterThanOrEqual(2400)
    watch.end(token, false)
    expect(watch.stalledForMs(t0 + 2500)).toBe(0)
  })

  it('any confirmation is progress: a slow send among confirmed ones is no stall', () => {
    const watch = new SendWatch(1000)
    const slow = watch.begin()
    const fast = watch.begin()
    watch.end(fast, true)
    const confirmedAt = performance.now()
    expect(watch.stalledForMs(confirmedAt + 900)).toBe(0)
    expect(watch.stalledForMs(confirmedAt + 1500)).toBeGreaterThanOrEqual(1400)
    watch.end(slow, true)
  })

  it('a disconnected health stays as it is (its own detail says more)', () => {
    const watch = new SendWatch(0)
    watch.begin()
    expect(watch.apply({ connected: false, detail: 'unauthorized: …' })).toEqual({ connected: false, detail: 'unauthorized: …' })
    expect(watch.apply({ connected: true })).toMatchObject({ connected: false, detail: expect.stringMatching(/^no send confirmed for \d+ s \(1 outstanding\)/) })
  })
})
