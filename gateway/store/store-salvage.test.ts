/**
 * Damaged stores: files of a closed store are truncated, garbled or removed, or single values are
 * flipped, and the store must come up, keep what is readable, skip and count the rest, and say
 * what it did (LevelStore.salvage).
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { Level } from 'level'
import { afterEach, describe, expect, it } from 'vitest'
import { ManualClock, ids, makeEvents, readAll } from '../../test/contract/store-contract-support.js'
import type { NewEvent } from '../core/types.js'
import { LevelStore, type LevelStoreOptions } from './level-store.js'
import { REPAIR_MARKER } from './salvage.js'
import { isReserveFile } from './reserve-file.js'

const clock = new ManualClock()
const parents: string[] = []
const stores: LevelStore[] = []

afterEach(async () => {
  for (const s of stores.splice(0)) await s.close().catch(() => undefined)
  for (const d of parents.splice(0)) rmSync(d, { recursive: true, force: true })
})

/** A store directory inside its own temp parent, so moved-aside siblings are cleaned up too. */
function newDir(): string {
  const parent = mkdtempSync(join(tmpdir(), 'gw-salvage-'))
  parents.push(parent)
  return join(parent, 'queue')
}

async function start(dir: string, opts: Partial<LevelStoreOptions> = {}): Promise<LevelStore> {
  const store = new LevelStore({ dir, maxBytes: 1e9, maxAgeMs: 1e9, uplinks: ['u1'], now: clock.now, monotonicNow: clock.now, ...opts })
  stores.push(store)
  await store.open()
  return store
}

async function stop(store: LevelStore): Promise<void> {
  stores.splice(stores.indexOf(store), 1)
  await store.close()
}

/** Appends `batches` batches, one open/close each, so each batch ends up in its own table file. */
async function fillTables(dir: string, batches: number, perBatch: number): Promise<NewEvent[]> {
  const all: NewEvent[] = []
  for (let b = 0; b < batches; b++) {
    const store = await start(dir)
    const events = makeEvents(b * perBatch, perBatch)
    await store.append({ events, counters: new Map([['src', (b + 1) * perBatch]]) })
    await stop(store)
    all.push(...events)
  }
  await stop(await start(dir)) // LevelDB turns the last log into a table when it opens
  return all
}

const files = (dir: string, ext: string): string[] =>
  readdirSync(dir)
    .filter((f) => f.endsWith(ext))
    .sort()

function flip(path: string, at: number, count = 8): void {
  const buf = readFileSync(path)
  const from = Math.floor(buf.length * at)
  for (let i = from; i < Math.min(buf.length, from + count); i++) buf[i]! ^= 0x5a
  writeFileSync(path, buf)
}

function truncate(path: string, keep: number): void {
  writeFileSync(path, readFileSync(path).subarray(0, Math.floor(statSync(path).size * keep)))
}

async function withRaw(dir: string, fn: (db: Level<string, Buffer>) => Promise<void>): Promise<void> {
  const db = new Level<string, Buffer>(dir, { keyEncoding: 'utf8', valueEncoding: 'buffer' })
  await db.open()
  try {
    await fn(db)
  } finally {
    await db.close()
  }
}

const key = (offset: number): string => `e!t!${String(offset).padStart(16, '0')}`

/** Flips one byte inside a stored value: bit rot LevelDB itself does not notice. */
async function rotValue(dir: string, offset: number): Promise<void> {
  await withRaw(dir, async (db) => {
    const value = (await db.get(key(offset)))!
    value[value.length - 3]! ^= 0x01
    await db.put(key(offset), value)
  })
}

/** Reads and acks everything; the store must end empty (damaged entries collected too). */
async function drain(store: LevelStore): Promise<string[]> {
  const got = await readAll(store, 'u1')
  await store.ack('u1', got)
  expect(store.stats()).toMatchObject({ entries: 0, bytes: 0, perUplink: { u1: { depth: 0 } } })
  return ids(got)
}

function expectSubsequence(got: string[], all: string[]): void {
  const order = new Map(all.map((id, i) => [id, i]))
  const positions = got.map((id) => order.get(id))
  expect(positions.every((p) => p !== undefined)).toBe(true)
  expect(positions).toEqual([...positions].sort((a, b) => a! - b!))
}

describe('LevelStore salvage at open', () => {
  it('repairs a garbled MANIFEST and keeps every entry, cursor and counter', async () => {
    const dir = newDir()
    const all = await fillTables(dir, 3, 50)
    let store = await start(dir)
    await store.ack('u1', await store.read('u1', 10, Infinity))
    await stop(store)
    for (const f of files(dir, '')) if (f.startsWith('MANIFEST')) flip(join(dir, f), 0.5)
    store = await start(dir)
    expect(store.salvage).toEqual({ repaired: true, repairOnNextOpen: false })
    expect((await store.counters()).get('src')).toBe(150)
    expect(await drain(store)).toEqual(ids(all.slice(10)))
  })

  it('repairs instead of letting LevelDB start empty (and delete the tables) when CURRENT is missing', async () => {
    const dir = newDir()
    const all = await fillTables(dir, 3, 50)
    rmSync(join(dir, 'CURRENT'))
    const store = await start(dir)
    expect(store.salvage.repaired).toBe(true)
    expect(await drain(store)).toEqual(ids(all))
  })

  it('a truncated table at the front: repaired, the rest is kept', async () => {
    const dir = newDir()
    const all = await fillTables(dir, 3, 50)
    truncate(join(dir, files(dir, '.ldb')[0]!), 0.5)
    const store = await start(dir)
    expect(store.salvage.repaired).toBe(true)
    const got = await drain(store)
    expect(got.length).toBeGreaterThanOrEqual(100)
    expectSubsequence(got, ids(all))
    expect(got.at(-1)).toBe(all.at(-1)!.id)
  })

  it('a truncated table in the middle: its entries are skipped and counted, the rest is kept', async () => {
    const dir = newDir()
    const all = await fillTables(dir, 3, 50)
    truncate(join(dir, files(dir, '.ldb')[1]!), 0.5)
    let store = await start(dir)
    expect(await drain(store)).toEqual(ids([...all.slice(0, 50), ...all.slice(100)]))
    expect(store.stats().drops.corrupt_entry).toBe(50)
    // Whether LevelDB touches the bad table while open() loads depends on its file layout: then
    // open() repaired; otherwise reads found the loss and a repair is scheduled for the next open.
    const { repaired, repairOnNextOpen } = store.salvage
    expect(repaired !== repairOnNextOpen).toBe(true)
    expect(existsSync(join(dir, REPAIR_MARKER))).toBe(repairOnNextOpen)
    await store.append({ events: makeEvents(1000, 2), counters: new Map() })
    await stop(store)
    store = await start(dir)
    expect(store.salvage).toEqual({ repaired: repairOnNextOpen, repairOnNextOpen: false })
    expect(await drain(store)).toEqual(ids(makeEvents(1000, 2)))
  })

  it('garbled bytes in a table: reads return an ordered subset, every missing entry is counted, nothing throws', async () => {
    const dir = newDir()
    const all = await fillTables(dir, 3, 50)
    flip(join(dir, files(dir, '.ldb')[1]!), 0.3)
    let store = await start(dir)
    const got = await readAll(store, 'u1')
    expectSubsequence(ids(got), ids(all))
    expect(got.length).toBeLessThan(all.length)
    expect(got.length + store.stats().drops.corrupt_entry).toBe(all.length)
    // LevelDB's background compaction may trip over the bad block meanwhile and refuse every write
    // from then on; the ack must still not throw (it is kept in memory), and a repair is due.
    await store.ack('u1', got)
    expect(store.salvage.repaired || store.salvage.repairOnNextOpen).toBe(true)
    await stop(store)
    store = await start(dir)
    expectSubsequence(await drain(store), ids(all)) // acks that could not be written are resent
    await store.append({ events: makeEvents(1000, 1), counters: new Map() })
    expect(await drain(store)).toEqual(['ev-00001000'])
  })

  it('garbled bytes in the write-ahead log: the batches LevelDB drops are counted, the rest is read', async () => {
    const dir = newDir()
    let store = await start(dir)
    const all: NewEvent[] = []
    for (let b = 0; b < 30; b++) {
      const events = makeEvents(b * 10, 10)
      await store.append({ events, counters: new Map() })
      all.push(...events)
    }
    await stop(store) // no reopen: everything is still in the .log
    flip(join(dir, files(dir, '.log')[0]!), 0.4)
    store = await start(dir)
    const got = await drain(store)
    expectSubsequence(got, ids(all))
    expect(got.length).toBeLessThan(all.length)
    expect(got.length + store.stats().drops.corrupt_entry).toBe(all.length)
  })

  it('a directory of garbage is moved aside (not deleted) and an empty store starts', async () => {
    const dir = newDir()
    await fillTables(dir, 2, 20)
    for (const f of readdirSync(dir)) if (f !== 'LOCK') writeFileSync(join(dir, f), 'junk, not LevelDB at all\n'.repeat(40))
    const store = await start(dir)
    const aside = store.salvage.movedAside!
    expect(aside).toMatch(/queue\.damaged-\d{8}T\d{6}Z$/)
    expect(dirname(aside)).toBe(dirname(dir))
    const kept = readdirSync(aside, { recursive: true }).map(String)
    expect(kept.some((f) => f.startsWith('MANIFEST') || f.includes('lost'))).toBe(true)
    expect(store.stats()).toMatchObject({ entries: 0 })
    await store.append({ events: makeEvents(0, 3), counters: new Map() })
    expect(await drain(store)).toEqual(ids(makeEvents(0, 3)))
  })

  it('never salvages a DB another process holds', async () => {
    const dir = newDir()
    await start(dir)
    await expect(start(dir)).rejects.toMatchObject({ code: 'GW_ERR_STORE_CLOSED' })
    expect(readdirSync(dirname(dir)).filter((f) => !isReserveFile(f))).toEqual(['queue'])
  })
})

describe('LevelStore damaged values', () => {
  it('skips and counts a value that fails its checksum; every uplink passes over it once', async () => {
    const dir = newDir()
    let store = await start(dir, { uplinks: ['u1', 'u2'] })
    await store.append({ events: makeEvents(0, 10), counters: new Map() })
    await stop(store)
    await rotValue(dir, 4)
    store = await start(dir, { uplinks: ['u1', 'u2'] })
    const expected = ids(makeEvents(0, 10)).filter((id) => id !== 'ev-00000004')
    for (const uplink of ['u1', 'u2']) {
      const got = await readAll(store, uplink)
      expect(ids(got)).toEqual(expected)
      await store.ack(uplink, got)
    }
    expect(store.stats()).toMatchObject({ entries: 0, drops: { corrupt_entry: 1 } })
    expect(store.salvage.repairOnNextOpen).toBe(false) // our checksum caught it; LevelDB is fine
  })

  it('an uplink waiting at a damaged entry is not stuck', async () => {
    const dir = newDir()
    let store = await start(dir)
    await store.append({ events: makeEvents(0, 3), counters: new Map() })
    await stop(store)
    await rotValue(dir, 2)
    store = await start(dir)
    await store.ack('u1', await store.read('u1', 2, Infinity))
    expect(await store.read('u1', 10, Infinity)).toEqual([]) // only the damaged one was left
    expect(store.stats()).toMatchObject({ entries: 0, perUplink: { u1: { depth: 0 } }, drops: { corrupt_entry: 1 } })
    await store.append({ events: makeEvents(10, 1), counters: new Map() })
    expect(ids(await store.read('u1', 10, Infinity))).toEqual(['ev-00000010'])
  })

  it('entries LevelDB lost (a missing key in the middle or at the end) are skipped and counted', async () => {
    const dir = newDir()
    let store = await start(dir)
    await store.append({ events: makeEvents(0, 6), counters: new Map() })
    await stop(store)
    await withRaw(dir, async (db) => {
      await db.del(key(2))
      await db.del(key(5))
    })
    store = await start(dir)
    expect(await drain(store)).toEqual(['ev-00000000', 'ev-00000001', 'ev-00000003', 'ev-00000004'])
    expect(store.stats().drops.corrupt_entry).toBe(2)
    // Lost keys mean damaged files: the next open repairs first, then all is well again.
    expect(store.salvage.repairOnNextOpen).toBe(true)
    expect(existsSync(join(dir, REPAIR_MARKER))).toBe(true)
    await store.append({ events: makeEvents(10, 1), counters: new Map() })
    await stop(store)
    store = await start(dir)
    expect(store.salvage).toEqual({ repaired: true, repairOnNextOpen: false })
    expect(existsSync(join(dir, REPAIR_MARKER))).toBe(false)
    expect(await drain(store)).toEqual(['ev-00000010'])
  })

  it('deletes damaged entries at the front at open, and evicts or expires damaged ones without failing', async () => {
    const dir = newDir()
    let store = await start(dir)
    const size = (await store.append({ events: makeEvents(0, 1), counters: new Map() }), store.stats().bytes)
    await store.append({ events: makeEvents(1, 5), counters: new Map() })
    await stop(store)
    await rotValue(dir, 0)
    await rotValue(dir, 2)
    store = await start(dir, { maxBytes: size * 5, maxAgeMs: 60_000 })
    expect(store.stats()).toMatchObject({ entries: 5, drops: { corrupt_entry: 1 } }) // offset 0 deleted at open
    // Evicting offset 1 makes the damaged offset 2 the front: it goes too, counted as damage.
    expect(await store.append({ events: makeEvents(10, 1), counters: new Map() })).toMatchObject({ accepted: 1, evicted: 1 })
    expect(store.stats().drops).toMatchObject({ corrupt_entry: 2, store_full_oldest: 1 })
    clock.advance(60_001)
    expect(await store.expireNow()).toBe(4)
    expect(store.stats()).toMatchObject({ entries: 0, drops: { expired: 4, corrupt_entry: 2 } })
  })

  it('a damaged dead letter is left out of the list and deleted by requeue', async () => {
    const dir = newDir()
    let store = await start(dir)
    await store.append({ events: makeEvents(0, 3), counters: new Map() })
    await store.deadLetter('u1', await store.read('u1', 3, Infinity), 'r', 'm')
    await stop(store)
    await withRaw(dir, async (db) => {
      const [letterKey] = await db.keys({ gte: 'd!u1!', lt: 'd!u1"', limit: 1 }).all()
      await db.put(letterKey!, Buffer.from('{"entry": garbage'))
    })
    store = await start(dir)
    expect((await store.deadLetters('u1')).map((l) => l.entry.id)).toEqual(['ev-00000001', 'ev-00000002'])
    expect(await store.requeueDeadLetters('u1')).toBe(2)
    expect(store.stats()).toMatchObject({ deadLetters: 0, entries: 2, drops: { corrupt_entry: 1 } })
  })
})
