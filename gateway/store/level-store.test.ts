import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Level } from 'level'
import { afterEach, describe, expect, it } from 'vitest'
import { describeStoreContract } from '../../test/contract/store-contract.js'
import { ManualClock, makeEvent, makeEvents, noCounters, readAll } from '../../test/contract/store-contract-support.js'
import { LevelStore, type LevelStoreOptions } from './level-store.js'

// The contract's clock is the one ages are measured with: for LevelStore that is the monotonic
// source of store time (the wall clock only stamps Entry.appendedMs).
describeStoreContract('LevelStore', (opts) => new LevelStore({ ...opts, monotonicNow: opts.now }))

describe('LevelStore specifics', () => {
  const dirs: string[] = []
  const stores: LevelStore[] = []
  const clock = new ManualClock()
  afterEach(async () => {
    for (const s of stores.splice(0)) await s.close().catch(() => undefined)
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
  })
  const newDir = (): string => {
    const dir = mkdtempSync(join(tmpdir(), 'gw-level-store-'))
    dirs.push(dir)
    return dir
  }
  const start = async (dir: string, opts: Partial<LevelStoreOptions> = {}): Promise<LevelStore> => {
    const store = new LevelStore({ dir, maxBytes: 1e9, maxAgeMs: 1e9, uplinks: ['u1'], now: clock.now, monotonicNow: clock.now, ...opts })
    stores.push(store)
    await store.open()
    return store
  }
  const rawKeys = async (dir: string): Promise<string[]> => {
    const db = new Level<string, Buffer>(dir, { keyEncoding: 'utf8', valueEncoding: 'buffer' })
    try {
      return await db.keys().all()
    } finally {
      await db.close()
    }
  }

  it('lays keys out zero-padded per class and deletes acked entries from disk', async () => {
    const dir = newDir()
    const store = await start(dir)
    await store.append({ events: [makeEvent(0), makeEvent(1, 'alert')], counters: new Map([['src', 2]]) })
    await store.close()
    expect(await rawKeys(dir)).toEqual(['M!a', 'M!c', 'M!f!a', 'M!f!t', 'M!t', 'S!src', 'e!a!0000000000000000', 'e!t!0000000000000000'])
    const again = await start(dir)
    await again.ack('u1', await readAll(again, 'u1'))
    await again.close()
    expect(await rawKeys(dir)).toEqual(['M!a', 'M!c', 'M!f!a', 'M!f!t', 'M!t', 'S!src', 'c!u1!a', 'c!u1!t'])
  })

  it('collects a long acked range (beyond one batch) and keeps byte accounting', async () => {
    const dir = newDir()
    const store = await start(dir, { uplinks: ['u1', 'u2'] })
    for (let n = 0; n < 25_000; n += 5_000) await store.append({ events: makeEvents(n, 5_000), counters: noCounters() })
    await store.ack('u1', await readAll(store, 'u1', 25_000))
    const all = await readAll(store, 'u2', 25_000)
    await store.ack('u2', all.slice(0, 24_000))
    const rest = all.slice(24_000)
    expect(store.stats()).toMatchObject({ entries: 1_000, bytes: rest.reduce((sum, e) => sum + e.sizeBytes, 0) })
    await store.close()
    expect((await rawKeys(dir)).filter((k) => k.startsWith('e!'))).toHaveLength(1_000)
  })

  it('expires in the background on its timer', async () => {
    const store = await start(newDir(), { maxAgeMs: 1_000, expiryIntervalMs: 10 })
    await store.append({ events: makeEvents(0, 3), counters: noCounters() })
    clock.advance(1_001)
    await expect.poll(() => store.stats().entries, { timeout: 2_000 }).toBe(0)
    expect(store.stats().drops.expired).toBe(3)
  })

  it('acks of entries evicted while in flight are harmless', async () => {
    const probe = await start(newDir())
    await probe.append({ events: [makeEvent(0)], counters: noCounters() })
    const size = probe.stats().bytes
    const store = await start(newDir(), { maxBytes: size * 3 })
    await store.append({ events: makeEvents(0, 3), counters: noCounters() })
    const inFlight = await store.read('u1', 2, Infinity)
    await store.append({ events: makeEvents(3, 3), counters: noCounters() }) // evicts all three
    await store.ack('u1', inFlight)
    expect(store.stats().perUplink.u1).toMatchObject({ depth: 3 })
    expect((await readAll(store, 'u1')).map((e) => e.id)).toEqual(makeEvents(3, 3).map((e) => e.id))
  })

  it('close waits for an in-flight append; a blocked append rejects GW_ERR_STORE_CLOSED', async () => {
    const dir = newDir()
    const store = await start(dir, { maxBytes: 1_000, whenFull: 'block' })
    const durable = store.append({ events: [makeEvent(0)], counters: noCounters() })
    const blocked = store.append({ events: makeEvents(1, 4), counters: noCounters() }).catch((e: unknown) => e)
    await store.close()
    await expect(durable).resolves.toMatchObject({ accepted: 1 })
    expect(await blocked).toMatchObject({ code: 'GW_ERR_STORE_CLOSED' })
    const again = await start(dir)
    expect((await again.peek('u1')).map((e) => e.id)).toEqual(['ev-00000000'])
  })

  it('deletes dead letters of uplinks no longer configured', async () => {
    const dir = newDir()
    const store = await start(dir, { uplinks: ['u1', 'gone'] })
    await store.append({ events: makeEvents(0, 2), counters: noCounters() })
    await store.deadLetter('gone', await store.read('gone', 2, Infinity), 'r', 'm')
    expect(store.stats().deadLetters).toBe(2)
    await store.close()
    const again = await start(dir, { uplinks: ['u1'] })
    expect(again.stats()).toMatchObject({ deadLetters: 0, entries: 2 })
    await again.close()
    const keys = await rawKeys(dir)
    expect(keys.filter((k) => k.startsWith('d!') || k.startsWith('c!gone'))).toEqual([])
    expect(keys.filter((k) => k.startsWith('e!'))).toHaveLength(2)
  })

  it('requeue stops at the first dead letter that does not fit and keeps the rest', async () => {
    const store = await start(newDir(), { maxBytes: 2_000, whenFull: 'reject_new' })
    await store.append({ events: makeEvents(0, 4), counters: noCounters() })
    await store.deadLetter('u1', await store.read('u1', 4, Infinity), 'r', 'm')
    await store.append({ events: makeEvents(10, 5), counters: noCounters() })
    const queued = store.stats().entries
    const requeued = await store.requeueDeadLetters('u1')
    expect(requeued).toBeGreaterThan(0)
    expect(requeued).toBeLessThan(4)
    expect(store.stats()).toMatchObject({ entries: queued + requeued, deadLetters: 4 - requeued })
  })

  it('refuses invalid or unknown uplinks with a TypeError', async () => {
    expect(() => new LevelStore({ dir: 'x', maxBytes: 1, maxAgeMs: 1, uplinks: ['a!b'] })).toThrow(TypeError)
    expect(() => new LevelStore({ dir: 'x', maxBytes: 1, maxAgeMs: 1, uplinks: ['a', 'a'] })).toThrow(TypeError)
    const store = await start(newDir())
    await expect(store.read('nope', 1, 1)).rejects.toThrow(TypeError)
  })

  // Damaged DBs and values: store-salvage.test.ts. Clock jumps: store-clock.test.ts.

  it('refuses a DB another store holds (LevelDB LOCK)', async () => {
    const dir = newDir()
    await start(dir)
    await expect(start(dir)).rejects.toMatchObject({ code: 'GW_ERR_STORE_CLOSED', message: expect.stringContaining('LOCK') })
  })
})
