import { describe, expect, it } from 'vitest'
import type { Reading } from '../../gateway/core/types.js'
import { ReadingQueue } from './reading-queue.js'

const r = (deviceId: string, priority: Reading['priority'] = 'telemetry'): Reading => ({ deviceId, kind: 'environment', priority, timeMs: 0, data: {} })
const ids = (rs: Reading[]) => rs.map((x) => x.deviceId)

describe('ReadingQueue', () => {
  it('full: new telemetry evicts the oldest telemetry', () => {
    const q = new ReadingQueue(3)
    for (const d of ['t1', 't2', 't3']) expect(q.offer(r(d))).toEqual({ queued: true, evicted: 0 })
    expect(q.offer(r('t4'))).toEqual({ queued: true, evicted: 1 })
    expect(q.size).toBe(3)
    expect(ids(q.takeNow(10))).toEqual(['t2', 't3', 't4'])
  })

  it('alerts evict telemetry, leave first, and are refused only when the queue is all alerts', () => {
    const q = new ReadingQueue(3)
    q.offer(r('t1'))
    q.offer(r('t2'))
    q.offer(r('a1', 'alert'))
    expect(q.offer(r('a2', 'alert'))).toEqual({ queued: true, evicted: 1 })
    expect(q.offer(r('a3', 'alert'))).toEqual({ queued: true, evicted: 1 })
    expect(q.offer(r('a4', 'alert'))).toEqual({ queued: false, evicted: 0 })
    expect(q.offer(r('t3'))).toEqual({ queued: false, evicted: 0 })
    expect(ids(q.takeNow(2))).toEqual(['a1', 'a2'])
    expect(ids(q.takeNow(2))).toEqual(['a3'])
  })

  it('take waits for a reading and returns [] on abort; the ring wraps around', async () => {
    const q = new ReadingQueue(2)
    const ac = new AbortController()
    const pending = q.take(10, ac.signal)
    q.offer(r('x'))
    expect(ids(await pending)).toEqual(['x'])
    for (let i = 0; i < 7; i++) q.offer(r(`t${i}`))
    expect(ids(q.takeNow(10))).toEqual(['t5', 't6'])
    const aborted = q.take(10, ac.signal)
    ac.abort()
    expect(await aborted).toEqual([])
  })

  it('refuses a non-positive capacity', () => {
    expect(() => new ReadingQueue(0)).toThrow(TypeError)
  })
})
