import { afterEach, describe, expect, it, vi } from 'vitest'
import { SendAbortedError, SendTimeoutError, withDeadline } from '../gateway/uplink/eventhubs/op-deadline.js'
import { rawSdkYardstick } from '../bench/eventhubs-yardstick.js'
import { buildEntries } from './support/eh-entries.js'
import { startEventHubsPeer } from './support/eventhubs-peer.js'

afterEach(() => {
  vi.useRealTimers()
})

describe('withDeadline', () => {
  it('settles on the deadline even if the operation never does, and aborts its signal', async () => {
    vi.useFakeTimers()
    let seen: AbortSignal | undefined
    const p = withDeadline('sendBatch', 1_000, [], (signal) => {
      seen = signal
      return new Promise<never>(() => {}) // ignores the signal entirely
    })
    const settled = p.catch((e: unknown) => e)
    await vi.advanceTimersByTimeAsync(1_000)
    expect(await settled).toBeInstanceOf(SendTimeoutError)
    expect(seen?.aborted).toBe(true)
  })

  it('rejects as aborted when any parent aborts, and removes its listeners when done', async () => {
    const a = new AbortController()
    const b = new AbortController()
    const p = withDeadline('createBatch', 60_000, [a.signal, b.signal], () => new Promise<never>(() => {}))
    b.abort(new Error('stopping'))
    await expect(p).rejects.toBeInstanceOf(SendAbortedError)
    await expect(withDeadline('x', 10, [b.signal], async () => 1)).rejects.toThrow(/aborted: stopping/)
    const spy = vi.spyOn(a.signal, 'removeEventListener')
    await expect(withDeadline('ok', 60_000, [a.signal], async () => 42)).resolves.toBe(42)
    expect(spy).toHaveBeenCalled()
  })

  it('passes a synchronous throw through as a rejection', async () => {
    await expect(withDeadline('x', 1_000, [], () => { throw new Error('boom') })).rejects.toThrow('boom')
  })
})

describe('rawSdkYardstick', () => {
  it('sends every event through the raw SDK and reports a rate', async () => {
    const peer = await startEventHubsPeer({ maxMessageSize: 8192 })
    try {
      const events = buildEntries(60, 3).map((e) => e.json)
      const { eventsPerSec } = await rawSdkYardstick(peer.connectionString(), events)
      expect(eventsPerSec).toBeGreaterThan(0)
      expect(peer.received()).toHaveLength(60)
    } finally {
      await peer.close()
    }
  })

  it('sends the warm-up events before the timed ones, and times only those', async () => {
    const peer = await startEventHubsPeer({ maxMessageSize: 8192 })
    try {
      const all = buildEntries(90, 3)
      const [warmUp, timed] = [all.slice(0, 30).map((e) => e.json), all.slice(30).map((e) => e.json)]
      const { eventsPerSec, cpuMicrosPerEvent } = await rawSdkYardstick(peer.connectionString(), timed, warmUp)
      expect(eventsPerSec).toBeGreaterThan(0)
      expect(cpuMicrosPerEvent).toBeGreaterThan(0)
      // Each device's warm-up events arrive before its timed ones.
      const ids = peer.received().map((e) => e.messageId)
      expect(ids).toHaveLength(90)
      const position = new Map(ids.map((id, i) => [id, i]))
      for (const device of new Set(all.map((e) => e.source))) {
        const order = all.filter((e) => e.source === device).map((e) => position.get(e.id))
        expect(order).toEqual([...order].sort((a, b) => a! - b!))
      }
    } finally {
      await peer.close()
    }
  })
})
