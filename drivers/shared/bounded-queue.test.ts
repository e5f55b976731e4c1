import { describe, expect, it } from 'vitest'
import { BoundedQueue } from './bounded-queue.js'
import { ConsumerWakeup } from './consumer-wakeup.js'

describe('BoundedQueue', () => {
  it('refuses when full, stores nothing, and keeps arrival order across the ring wrap', () => {
    const q = new BoundedQueue<number>(3)
    for (const n of [1, 2, 3]) expect(q.offer(n)).toBe(true)
    expect(q.offer(4)).toBe(false)
    expect(q.size).toBe(3)
    expect(q.shift()).toBe(1)
    expect(q.offer(5)).toBe(true)
    expect(q.drain()).toEqual([2, 3, 5])
    expect(q.size).toBe(0)
    expect(q.shift()).toBeUndefined()
  })

  it('take waits for an item, and returns undefined on abort leaving the items queued', async () => {
    const q = new BoundedQueue<string>(2)
    const ac = new AbortController()
    const pending = q.take(ac.signal)
    q.offer('x')
    expect(await pending).toBe('x')
    const aborted = q.take(ac.signal)
    ac.abort()
    expect(await aborted).toBeUndefined()
    q.offer('y')
    expect(q.drain()).toEqual(['y'])
  })

  it('queues sharing one wakeup wake a consumer waiting on both', async () => {
    const wakeup = new ConsumerWakeup()
    const a = new BoundedQueue<string>(1, wakeup)
    const b = new BoundedQueue<string>(1, wakeup)
    const ready = wakeup.waitUntil(() => a.size + b.size > 0, new AbortController().signal)
    b.offer('from b')
    expect(await ready).toBe(true)
  })

  it('refuses a capacity that is not a positive integer', () => {
    expect(() => new BoundedQueue(0)).toThrow(TypeError)
    expect(() => new BoundedQueue(1.5)).toThrow(TypeError)
  })
})
