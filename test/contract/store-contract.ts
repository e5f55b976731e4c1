/**
 * The Store contract: every Store implementation runs this suite (ARCHITECTURE section 6).
 * `build` gets the options and must return a store that is not yet opened.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { GatewayError } from '../../gateway/core/errors.js'
import { describeStoreLimits } from './store-contract-limits.js'
import { ids, makeEvent, makeEvents, noCounters, readAll, StoreHarness, type BuildStore } from './store-contract-support.js'

export type { AdminStore, BuildStore, StoreTestOptions } from './store-contract-support.js'

export function describeStoreContract(name: string, build: BuildStore): void {
  describe(`Store contract: ${name}`, () => {
    const h = new StoreHarness(build)
    afterEach(() => h.cleanup())

    describeQueueing(h)
    describeCursors(h)
    describeDurability(h)
    describeStoreLimits(h)
  })
}

function describeQueueing(h: StoreHarness): void {
  describe('queueing', () => {
    it('reads in append order and frees space once acked', async () => {
      const store = await h.start()
      const result = await store.append({ events: makeEvents(0, 10), counters: noCounters() })
      expect(result).toEqual({ accepted: 10, rejected: 0, evicted: 0 })
      const first = await store.read('u1', 4, Infinity)
      expect(ids(first)).toEqual(ids(makeEvents(0, 4)))
      expect(first.map((e) => e.offset)).toEqual([...first.map((e) => e.offset)].sort((a, b) => a - b))
      const rest = await store.read('u1', 100, Infinity)
      expect(ids(rest)).toEqual(ids(makeEvents(4, 6)))
      expect(await store.read('u1', 100, Infinity)).toEqual([])
      await store.ack('u1', [...first, ...rest])
      expect(store.stats()).toMatchObject({ entries: 0, bytes: 0, perUplink: { u1: { depth: 0, bytes: 0 } } })
    })

    it('returns alerts before telemetry, each in offset order', async () => {
      const store = await h.start()
      await store.append({ events: makeEvents(0, 3), counters: noCounters() })
      await store.append({ events: [makeEvent(100, 'alert'), makeEvent(4), makeEvent(101, 'alert')], counters: noCounters() })
      const got = await store.read('u1', 100, Infinity)
      expect(got.map((e) => `${e.priority}:${e.id}`)).toEqual([
        'alert:ev-00000100', 'alert:ev-00000101',
        'telemetry:ev-00000000', 'telemetry:ev-00000001', 'telemetry:ev-00000002', 'telemetry:ev-00000004',
      ])
      expect(got[0]).toMatchObject({ json: makeEvent(100, 'alert').json, source: 'urn:dev:sensor-1' })
    })

    it('honours maxEvents and maxBytes but always returns one entry', async () => {
      const store = await h.start()
      await store.append({ events: makeEvents(0, 5), counters: noCounters() })
      const [one] = await store.read('u1', 1, Infinity)
      expect(one!.sizeBytes).toBeGreaterThan(200)
      expect(await store.read('u1', 10, 1)).toHaveLength(1) // larger than maxBytes, still one
      expect(await store.read('u1', 10, one!.sizeBytes * 2)).toHaveLength(2)
      expect(await store.read('u1', 10, Infinity)).toHaveLength(1)
    })

    it('waitForAppend resolves on the next append and on abort', async () => {
      const store = await h.start()
      let woke = false
      const waiting = store.waitForAppend(new AbortController().signal).then(() => (woke = true))
      // A full store round trip instead of a timer: a wake without an append would have run by now.
      await store.read('u1', 1, Infinity)
      expect(woke).toBe(false)
      await store.append({ events: [makeEvent(1)], counters: noCounters() })
      await waiting
      const ac = new AbortController()
      const aborted = store.waitForAppend(ac.signal)
      ac.abort()
      await aborted
    })

    it('rejects operations after close with GW_ERR_STORE_CLOSED', async () => {
      const store = await h.start()
      await h.stop(store)
      const err = await store.append({ events: [makeEvent(1)], counters: noCounters() }).catch((e: unknown) => e)
      expect(err).toBeInstanceOf(GatewayError)
      expect((err as GatewayError).code).toBe('GW_ERR_STORE_CLOSED')
      await expect(store.read('u1', 1, 1)).rejects.toMatchObject({ code: 'GW_ERR_STORE_CLOSED' })
      await expect(store.ack('u1', [])).rejects.toMatchObject({ code: 'GW_ERR_STORE_CLOSED' })
    })
  })
}

function describeCursors(h: StoreHarness): void {
  describe('cursors', () => {
    it('keeps one cursor per uplink; space is freed only when every uplink acked', async () => {
      const store = await h.start({ uplinks: ['u1', 'u2'] })
      await store.append({ events: makeEvents(0, 6), counters: noCounters() })
      const bytes = store.stats().bytes
      await store.ack('u1', await readAll(store, 'u1'))
      expect(store.stats()).toMatchObject({ entries: 6, bytes, perUplink: { u1: { depth: 0 }, u2: { depth: 6, bytes } } })
      expect(ids(await store.read('u2', 2, Infinity))).toEqual(ids(makeEvents(0, 2)))
      await store.ack('u2', await store.peek('u2', 3))
      expect(store.stats()).toMatchObject({ entries: 3, perUplink: { u2: { depth: 3 } } })
      await store.ack('u2', await readAll(store, 'u2'))
      expect(store.stats()).toMatchObject({ entries: 0, bytes: 0 })
    })

    it('rewind resends from the ack cursor', async () => {
      const store = await h.start()
      await store.append({ events: makeEvents(0, 6), counters: noCounters() })
      const sent = await store.read('u1', 5, Infinity)
      await store.ack('u1', sent.slice(0, 2))
      store.rewind('u1')
      expect(ids(await store.read('u1', 100, Infinity))).toEqual(ids(makeEvents(2, 4)))
    })

    it('holds out-of-order acks until the gap is acked; only the contiguous prefix persists', async () => {
      let store = await h.start()
      await store.append({ events: makeEvents(0, 6), counters: noCounters() })
      const [a, b, c] = [await store.read('u1', 2, Infinity), await store.read('u1', 2, Infinity), await store.read('u1', 2, Infinity)]
      await store.ack('u1', c!)
      await store.ack('u1', b!)
      expect(store.stats().perUplink.u1!.depth).toBe(6)
      await store.ack('u1', [a![0]!])
      expect(store.stats().perUplink.u1).toMatchObject({ depth: 5 })
      await h.stop(store)
      store = await h.start()
      // b and c were acked but not contiguous with the cursor: after a restart they are resent.
      expect(ids(await readAll(store, 'u1'))).toEqual(ids(makeEvents(1, 5)))
      await store.ack('u1', await store.peek('u1', 100))
      expect(store.stats().entries).toBe(0)
    })

    it('an uplink removed from the config no longer pins entries', async () => {
      let store = await h.start({ uplinks: ['u1', 'u2'] })
      await store.append({ events: makeEvents(0, 4), counters: noCounters() })
      await store.ack('u1', await readAll(store, 'u1'))
      expect(store.stats().entries).toBe(4)
      await h.stop(store)
      store = await h.start({ uplinks: ['u1'] })
      expect(store.stats().entries).toBe(0)
      await h.stop(store)
      store = await h.start({ uplinks: ['u1', 'u3'] })
      await store.append({ events: makeEvents(10, 2), counters: noCounters() })
      expect(store.stats().perUplink).toMatchObject({ u1: { depth: 2 }, u3: { depth: 2 } })
    })

    it('a new uplink starts at the beginning of what is queued', async () => {
      let store = await h.start({ uplinks: ['u1'] })
      await store.append({ events: makeEvents(0, 3), counters: noCounters() })
      await h.stop(store)
      store = await h.start({ uplinks: ['u1', 'u2'] })
      expect(ids(await readAll(store, 'u2'))).toEqual(ids(makeEvents(0, 3)))
    })
  })
}

function describeDurability(h: StoreHarness): void {
  describe('reopen', () => {
    it('keeps unacked entries, cursors and counters', async () => {
      let store = await h.start({ uplinks: ['u1', 'u2'] })
      await store.append({ events: makeEvents(0, 5), counters: new Map([['urn:dev:sensor-1', 5]]) })
      await store.append({ events: [makeEvent(5, 'alert')], counters: new Map([['urn:dev:sensor-1', 6], ['urn:dev:door', 1]]) })
      await store.ack('u1', await store.read('u1', 3, Infinity)) // alert + 2 telemetry
      const before = store.stats()
      await h.stop(store)
      store = await h.start({ uplinks: ['u1', 'u2'] })
      expect(await store.counters()).toEqual(new Map([['urn:dev:sensor-1', 6], ['urn:dev:door', 1]]))
      expect(store.stats()).toMatchObject({ entries: before.entries, bytes: before.bytes, perUplink: before.perUplink })
      expect(ids(await readAll(store, 'u1'))).toEqual(ids(makeEvents(2, 3)))
      expect(ids(await readAll(store, 'u2'))).toEqual(['ev-00000005', ...ids(makeEvents(0, 5))])
    })

    it('persists counters given with an empty batch', async () => {
      let store = await h.start()
      await store.append({ events: [], counters: new Map([['s', 42]]) })
      await h.stop(store)
      store = await h.start()
      expect((await store.counters()).get('s')).toBe(42)
    })

    it('never reuses offsets, even after the log was emptied', async () => {
      let store = await h.start()
      await store.append({ events: makeEvents(0, 3), counters: noCounters() })
      const firstRead = await readAll(store, 'u1')
      await store.ack('u1', firstRead)
      await h.stop(store)
      store = await h.start()
      await store.append({ events: makeEvents(3, 1), counters: noCounters() })
      const [next] = await store.read('u1', 1, Infinity)
      expect(next!.offset).toBeGreaterThan(firstRead[2]!.offset)
    })
  })
}
