/** Store contract, part 2: whenFull policies, maxAge, dead letters, stats, memory. */
import v8 from 'node:v8'
import vm from 'node:vm'
import { describe, expect, it } from 'vitest'
import { ids, makeEvent, makeEvents, noCounters, readAll, type AdminStore, type StoreHarness } from './store-contract-support.js'

/**
 * Whether `append` settled before the store reported `count` appends waiting for room
 * (whenFull=block). Awaits the store's report, not a timer: an append that settles instead ends
 * the wait at once, so a store that fails to block fails the test quickly.
 */
async function settledBeforeBlocked(store: AdminStore, append: Promise<unknown>, count = 1): Promise<boolean> {
  let done = false
  const settles = append.then(() => (done = true), () => (done = true))
  const stopWaiting = new AbortController()
  await Promise.race([store.waitForBlockedAppends(count, stopWaiting.signal), settles])
  stopWaiting.abort()
  return done
}

export function describeStoreLimits(h: StoreHarness): void {
  describeDropOldest(h)
  describeRejectNewAndBlock(h)
  describeAgeAndStats(h)
  describeDeadLetters(h)
  describeMemory(h)
}

function describeDropOldest(h: StoreHarness): void {
  describe('whenFull=drop_oldest', () => {
    it('evicts the oldest telemetry and counts it', async () => {
      const size = await h.entryBytes()
      const store = await h.start({ maxBytes: size * 10 })
      await store.append({ events: makeEvents(0, 10), counters: noCounters() })
      expect(await store.append({ events: makeEvents(10, 3), counters: noCounters() })).toEqual({ accepted: 3, rejected: 0, evicted: 3 })
      expect(store.stats()).toMatchObject({ entries: 10, bytes: size * 10, drops: { store_full_oldest: 3 } })
      expect(ids(await readAll(store, 'u1'))).toEqual(ids(makeEvents(3, 10)))
    })

    it('keeps the newest of a batch larger than the whole store (the oldest count as evicted)', async () => {
      const size = await h.entryBytes()
      const store = await h.start({ maxBytes: size * 5 })
      await store.append({ events: makeEvents(0, 3), counters: noCounters() })
      expect(await store.append({ events: makeEvents(3, 8), counters: noCounters() })).toEqual({ accepted: 5, rejected: 0, evicted: 6, refused: [0, 1, 2] })
      expect(store.stats()).toMatchObject({ entries: 5, drops: { store_full_oldest: 6, store_full_rejected: 0 } })
      expect(ids(await readAll(store, 'u1'))).toEqual(ids(makeEvents(6, 5)))
    })

    it('never evicts alerts for telemetry; telemetry is refused when only alerts remain', async () => {
      const size = await h.entryBytes()
      const store = await h.start({ maxBytes: size * 4 })
      await store.append({ events: [...makeEvents(0, 3, 'alert'), makeEvent(3)], counters: noCounters() })
      // t4 evicts t3; t5 finds no stored telemetry left, so it (and later telemetry) is refused.
      expect(await store.append({ events: makeEvents(4, 2), counters: noCounters() })).toEqual({ accepted: 1, rejected: 1, evicted: 1, refused: [1] })
      await store.append({ events: [makeEvent(6, 'alert')], counters: noCounters() }) // evicts t4
      expect(await store.append({ events: [makeEvent(7)], counters: noCounters() })).toEqual({ accepted: 0, rejected: 1, evicted: 0, refused: [0] })
      expect(store.stats().drops).toMatchObject({ store_full_oldest: 2, store_full_rejected: 2 })
      expect(ids(await readAll(store, 'u1'))).toEqual(ids([...makeEvents(0, 3), makeEvent(6)]))
    })

    it('an alert evicts telemetry first, then the oldest alert when only alerts remain', async () => {
      const size = await h.entryBytes()
      const store = await h.start({ maxBytes: size * 3 })
      await store.append({ events: [makeEvent(0, 'alert'), makeEvent(1), makeEvent(2, 'alert')], counters: noCounters() })
      expect(await store.append({ events: [makeEvent(3, 'alert')], counters: noCounters() })).toMatchObject({ accepted: 1, evicted: 1 })
      expect(await store.append({ events: [makeEvent(4, 'alert')], counters: noCounters() })).toMatchObject({ accepted: 1, evicted: 1 })
      expect(ids(await readAll(store, 'u1'))).toEqual(['ev-00000002', 'ev-00000003', 'ev-00000004'])
    })

    it('refuses a single event larger than maxBytes, and says which one wherever it sits', async () => {
      const size = await h.entryBytes()
      const store = await h.start({ maxBytes: size * 3 })
      const huge = (n: number) => ({ ...makeEvent(n), json: JSON.stringify({ pad: 'x'.repeat(size * 3) }) })
      expect(await store.append({ events: [huge(1), makeEvent(2)], counters: noCounters() })).toEqual({ accepted: 1, rejected: 1, evicted: 0, refused: [0] })
      expect(await store.append({ events: [makeEvent(3), huge(4), makeEvent(5)], counters: noCounters() })).toEqual({ accepted: 2, rejected: 1, evicted: 0, refused: [1] })
      expect(store.stats().drops.store_full_rejected).toBe(2)
      expect(ids(await readAll(store, 'u1'))).toEqual(['ev-00000002', 'ev-00000003', 'ev-00000005'])
    })
  })
}

function describeRejectNewAndBlock(h: StoreHarness): void {
  describe('whenFull=reject_new', () => {
    it('accepts the prefix that fits and refuses the rest; an alert may still evict telemetry', async () => {
      const size = await h.entryBytes()
      const store = await h.start({ maxBytes: size * 4, whenFull: 'reject_new' })
      await store.append({ events: makeEvents(0, 3), counters: noCounters() })
      expect(await store.append({ events: makeEvents(3, 3), counters: noCounters() })).toEqual({ accepted: 1, rejected: 2, evicted: 0, refused: [1, 2] })
      expect(await store.append({ events: [makeEvent(6), makeEvent(7, 'alert')], counters: noCounters() })).toEqual({ accepted: 1, rejected: 1, evicted: 1, refused: [0] })
      expect(store.stats().drops).toMatchObject({ store_full_rejected: 3, store_full_oldest: 1 })
      expect(ids(await readAll(store, 'u1'))).toEqual(['ev-00000007', 'ev-00000001', 'ev-00000002', 'ev-00000003'])
    })
  })

  describe('whenFull=block', () => {
    it('waits until acks free room, then stores everything', async () => {
      const size = await h.entryBytes()
      const store = await h.start({ maxBytes: size * 3, whenFull: 'block' })
      await store.append({ events: makeEvents(0, 3), counters: noCounters() })
      const blocked = store.append({ events: makeEvents(3, 2), counters: new Map([['s', 5]]) })
      expect(await settledBeforeBlocked(store, blocked)).toBe(false)
      expect(store.stats().blockedAppends).toBe(1)
      const sent = await store.read('u1', 3, Infinity)
      await store.ack('u1', sent.slice(0, 1)) // wakes it: it retries, and waits again
      expect(await settledBeforeBlocked(store, blocked)).toBe(false) // all or nothing: one free slot is not enough
      await store.ack('u1', sent.slice(1, 2))
      expect(await blocked).toEqual({ accepted: 2, rejected: 0, evicted: 0 })
      expect(store.stats().blockedAppends).toBe(0)
      expect((await store.counters()).get('s')).toBe(5)
      expect(ids(await readAll(store, 'u1'))).toEqual(ids(makeEvents(3, 2)))
    })

    it('an alert evicts telemetry instead of waiting', async () => {
      const size = await h.entryBytes()
      const store = await h.start({ maxBytes: size * 2, whenFull: 'block' })
      await store.append({ events: makeEvents(0, 2), counters: noCounters() })
      expect(await store.append({ events: [makeEvent(2, 'alert')], counters: noCounters() })).toEqual({ accepted: 1, rejected: 0, evicted: 1 })
    })

    it('blocked telemetry keeps its order and does not hold up alerts', async () => {
      const size = await h.entryBytes()
      const store = await h.start({ maxBytes: size * 3, whenFull: 'block' })
      await store.append({ events: makeEvents(0, 3), counters: noCounters() })
      const order: string[] = []
      const first = store.append({ events: makeEvents(3, 2), counters: noCounters() }).then(() => order.push('first'))
      const second = store.append({ events: makeEvents(5, 1), counters: noCounters() }).then(() => order.push('second'))
      expect(await store.append({ events: [makeEvent(6, 'alert')], counters: noCounters() })).toMatchObject({ accepted: 1, evicted: 1 })
      expect(await settledBeforeBlocked(store, Promise.race([first, second]), 2)).toBe(false)
      await store.ack('u1', await readAll(store, 'u1')) // alert 6, t1, t2: room for 3
      await Promise.all([first, second])
      expect(order).toEqual(['first', 'second'])
      expect(ids(await readAll(store, 'u1'))).toEqual(ids(makeEvents(3, 3)))
    })

    it('waitForBlockedAppends resolves at close, with fewer appends waiting than asked for', async () => {
      const size = await h.entryBytes()
      const store = await h.start({ maxBytes: size, whenFull: 'block' })
      await store.append({ events: [makeEvent(0)], counters: noCounters() })
      const blocked = store.append({ events: [makeEvent(1)], counters: noCounters() })
      expect(await settledBeforeBlocked(store, blocked)).toBe(false)
      const watching = store.waitForBlockedAppends(2, new AbortController().signal)
      await h.stop(store)
      await watching
      await expect(blocked).rejects.toMatchObject({ code: 'GW_ERR_STORE_CLOSED' })
    })

    it('rejects with GW_ERR_STORE_FULL when aborted while waiting, storing nothing', async () => {
      const size = await h.entryBytes()
      const store = await h.start({ maxBytes: size * 2, whenFull: 'block' })
      await store.append({ events: makeEvents(0, 2), counters: noCounters() })
      const ac = new AbortController()
      const blocked = store.append({ events: [makeEvent(2)], counters: noCounters() }, ac.signal)
      expect(await settledBeforeBlocked(store, blocked)).toBe(false)
      ac.abort()
      await expect(blocked).rejects.toMatchObject({ code: 'GW_ERR_STORE_FULL' })
      expect(store.stats()).toMatchObject({ entries: 2, blockedAppends: 0 })
    })
  })
}

function describeAgeAndStats(h: StoreHarness): void {
  describe('maxAge and stats', () => {
    it('expires entries older than maxAgeMs (injected clock) and counts them', async () => {
      const store = await h.start({ maxAgeMs: 60_000 })
      await store.append({ events: makeEvents(0, 2), counters: noCounters() })
      h.clock.advance(30_000)
      await store.append({ events: makeEvents(2, 1), counters: noCounters() })
      h.clock.advance(30_001)
      expect(store.stats().oldestAgeMs).toBe(60_001)
      await store.append({ events: makeEvents(3, 1), counters: noCounters() }) // append checks expiry
      expect(store.stats()).toMatchObject({ entries: 2, oldestAgeMs: 30_001, drops: { expired: 2 } })
      expect(ids(await readAll(store, 'u1'))).toEqual(ids(makeEvents(2, 2)))
    })

    it('reports depth, bytes and oldest age per uplink', async () => {
      const size = await h.entryBytes()
      const store = await h.start({ uplinks: ['u1', 'u2'] })
      await store.append({ events: makeEvents(0, 2), counters: noCounters() })
      h.clock.advance(1_000)
      await store.append({ events: [...makeEvents(2, 2), makeEvent(4, 'alert')], counters: noCounters() })
      h.clock.advance(500)
      const all = { depth: 5, bytes: 5 * size, oldestAgeMs: 1_500 }
      expect(store.stats()).toMatchObject({ entries: 5, bytes: 5 * size, maxBytes: 64 * 1024 * 1024, oldestAgeMs: 1_500, perUplink: { u1: all, u2: all }, deadLetters: 0 })
      await store.ack('u1', await store.read('u1', 3, Infinity)) // the alert and t0, t1
      expect(store.stats().perUplink).toEqual({ u1: { depth: 2, bytes: 2 * size, oldestAgeMs: 500 }, u2: all })
      await store.ack('u1', await readAll(store, 'u1'))
      expect(store.stats().perUplink.u1).toEqual({ depth: 0, bytes: 0, oldestAgeMs: 0 })
      expect(store.stats().entries).toBe(5)
    })
  })
}

function describeDeadLetters(h: StoreHarness): void {
  describe('dead letters', () => {
    it('keeps copies, acks them for that uplink only, lists, requeues with the same id, purges', async () => {
      let store = await h.start({ uplinks: ['u1', 'u2'] })
      await store.append({ events: makeEvents(0, 4), counters: noCounters() })
      const sent = await store.read('u1', 4, Infinity)
      await store.deadLetter('u1', sent.slice(0, 2), 'too_large', 'peer refused')
      await store.ack('u1', sent.slice(2))
      expect(store.stats()).toMatchObject({ deadLetters: 2, drops: { dead_letter: 2 }, perUplink: { u1: { depth: 0 }, u2: { depth: 4 } } })
      await h.stop(store)
      store = await h.start({ uplinks: ['u1', 'u2'] })
      const letters = await store.deadLetters('u1')
      expect(letters.map((l) => [l.uplink, l.reason, l.message, l.entry.id, l.deadLetteredMs])).toEqual([
        ['u1', 'too_large', 'peer refused', 'ev-00000000', h.clock.nowMs],
        ['u1', 'too_large', 'peer refused', 'ev-00000001', h.clock.nowMs],
      ])
      expect(await store.requeueDeadLetters('u1')).toBe(2)
      expect(await store.deadLetters('u1')).toEqual([])
      const again = await readAll(store, 'u1')
      expect(again.map((e) => [e.id, e.json])).toEqual(sent.slice(0, 2).map((e) => [e.id, e.json]))
      expect(again[0]!.offset).toBeGreaterThan(sent[3]!.offset)
      await store.deadLetter('u1', again, 'too_large', 'still refused')
      expect(await store.purgeDeadLetters('u1')).toBe(2)
      expect(store.stats().deadLetters).toBe(0)
    })

    it('keeps at most maxDeadLetters per uplink, dropping the oldest', async () => {
      const store = await h.start({ maxDeadLetters: 3 })
      await store.append({ events: makeEvents(0, 5), counters: noCounters() })
      await store.deadLetter('u1', (await store.read('u1', 2, Infinity)), 'r', 'm')
      await store.deadLetter('u1', (await store.read('u1', 3, Infinity)), 'r', 'm')
      expect(ids((await store.deadLetters('u1')).map((l) => l.entry))).toEqual(ids(makeEvents(2, 3)))
      expect(store.stats()).toMatchObject({ deadLetters: 3, entries: 0 })
    })
  })
}

function describeMemory(h: StoreHarness): void {
  describe('memory', () => {
    it('does not grow with the backlog (50k -> 200k queued)', async () => {
      v8.setFlagsFromString('--expose-gc')
      const gc = vm.runInNewContext('gc') as () => void
      const store = await h.start({ maxBytes: 1e9 })
      const heapAt = async (queued: number): Promise<number> => {
        for (let n = store.stats().entries; n < queued; n += 1000) await store.append({ events: makeEvents(n, 1000), counters: noCounters() })
        gc()
        gc()
        return process.memoryUsage().heapUsed
      }
      const at50k = await heapAt(50_000)
      const at200k = await heapAt(200_000)
      expect(store.stats().entries).toBe(200_000)
      expect(at200k - at50k).toBeLessThan(4 * 1024 * 1024)
      expect(await store.read('u1', 10, Infinity)).toHaveLength(10)
    })
  })
}
