import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { EdgeDebouncer, type DebounceEvent } from './debounce.js'
import type { LineValue } from './gpio-line.js'

const edges = (evs: DebounceEvent[]) => evs.filter((e) => e.type === 'edge')
const bounces = (evs: DebounceEvent[]) =>
  evs.reduce((n, e) => n + (e.type === 'bounce' ? e.count : 0), 0)

describe('EdgeDebouncer', () => {
  it('reports the first edge of a burst at once and counts the rest at settle', () => {
    const d = new EdgeDebouncer({ quietMs: 50, reconcile: false, initial: 0 })
    expect(d.edge(1, 1000)).toEqual([{ type: 'edge', value: 1, settled: false }])
    expect(d.edge(1, 1002)).toEqual([])
    expect(d.edge(1, 1004)).toEqual([])
    expect(d.settleDueMs()).toBe(1054)
    expect(d.settle(1053)).toEqual([])
    expect(d.settle(1054)).toEqual([{ type: 'bounce', count: 2 }])
    expect(d.settleDueMs()).toBeUndefined()
  })

  it('accepts the next press once the line was quiet', () => {
    const d = new EdgeDebouncer({ quietMs: 50, reconcile: false, initial: 0 })
    d.edge(1, 0)
    expect(edges(d.edge(1, 50))).toHaveLength(1)
  })

  it('a bounce extends the quiet period', () => {
    const d = new EdgeDebouncer({ quietMs: 50, reconcile: false, initial: 0 })
    d.edge(1, 0)
    d.edge(1, 40)
    expect(edges(d.edge(1, 80))).toHaveLength(0) // 40 ms after the last bounce
  })

  it('reconcile: a tap shorter than quietMs still yields its release', () => {
    const d = new EdgeDebouncer({ quietMs: 50, reconcile: true, initial: 0 })
    d.edge(1, 0)
    d.edge(0, 2)
    d.edge(1, 3)
    d.edge(0, 10) // released within the window
    expect(d.settle(60)).toEqual([
      { type: 'bounce', count: 2 },
      { type: 'edge', value: 0, settled: true },
    ])
  })

  it('a late settle timer does not merge two bursts', () => {
    const d = new EdgeDebouncer({ quietMs: 50, reconcile: false, initial: 0 })
    d.edge(1, 0)
    d.edge(1, 5)
    expect(d.edge(1, 500)).toEqual([
      { type: 'bounce', count: 1 },
      { type: 'edge', value: 1, settled: false },
    ])
  })

  it('quietMs 0 accepts every edge', () => {
    const d = new EdgeDebouncer({ quietMs: 0, reconcile: true, initial: 0 })
    expect(edges([...d.edge(1, 0), ...d.edge(0, 0), ...d.edge(1, 0)])).toHaveLength(3)
  })

  it('property: every edge is either reported or counted as bounce; `both` ends on the true level', () => {
    const arb = fc.record({
      quietMs: fc.integer({ min: 0, max: 100 }),
      reconcile: fc.boolean(),
      initial: fc.constantFrom<LineValue>(0, 1),
      steps: fc.array(fc.record({ gap: fc.integer({ min: 0, max: 200 }), value: fc.constantFrom<LineValue>(0, 1) }), {
        maxLength: 200,
      }),
    })
    fc.assert(
      fc.property(arb, ({ quietMs, reconcile, initial, steps }) => {
        const d = new EdgeDebouncer({ quietMs, reconcile, initial })
        const out: DebounceEvent[] = []
        let t = 0
        let prev = Number.NEGATIVE_INFINITY
        for (const s of steps) {
          t += s.gap
          const now = d.edge(s.value, t)
          // An immediate report only ever follows a quiet line.
          if (now.some((e) => e.type === 'edge' && !e.settled)) expect(t - prev).toBeGreaterThanOrEqual(quietMs)
          prev = t
          out.push(...now)
        }
        out.push(...d.settle(Number.POSITIVE_INFINITY))
        expect(edges(out).length + bounces(out)).toBe(steps.length)
        const reported = edges(out)
        if (reconcile && steps.length > 0) expect(reported.at(-1)?.value).toBe(steps.at(-1)?.value)
      }),
    )
  })
})
