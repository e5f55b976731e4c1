/**
 * The newest entries kept in memory (recent-entries.ts): the rules on their own, then through a
 * real LevelStore, where a read served from memory must return exactly what LevelDB holds.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { ids, makeEvent, makeEvents, noCounters, readAll } from '../../test/contract/store-contract-support.js'
import type { Entry, NewEvent } from '../core/types.js'
import type { LevelDb } from './front-trimmer.js'
import { LevelStore } from './level-store.js'
import { effectiveAcked, emptyLog, type ClassLog, type CursorState, type PerClass } from './log-state.js'
import { readQueue } from './reader.js'
import { RecentEntries } from './recent-entries.js'

function entry(offset: number, sizeBytes = 100): Entry {
  return { priority: 'telemetry', source: 's', id: `id-${offset}`, json: '{}', offset, appendedMs: 0, sizeBytes }
}
const entries = (from: number, count: number): Entry[] => Array.from({ length: count }, (_, i) => entry(from + i))
const offsets = (list: readonly Entry[]): number[] => list.map((e) => e.offset)

/** A class log holding [first, next). */
function logOf(first: number, next: number): ClassLog {
  return { ...emptyLog(), next, lastCum: next * 100, first: first < next ? { offset: first, cumBefore: first * 100, storeMs: 0 } : null }
}
const budget = (maxEvents: number, maxBytes = Infinity, atLeastOne = true) => ({ maxEvents, maxBytes, atLeastOne })

describe('RecentEntries', () => {
  it('serves a read only while it holds the tail and the read starts within it', () => {
    const recent = new RecentEntries()
    recent.appended(entries(0, 10), -1)
    expect(recent.serves(logOf(0, 10), 4)).toBe(true)
    expect(offsets(recent.read(logOf(0, 10), 4, budget(100)).entries)).toEqual([5, 6, 7, 8, 9])
    // An append it was not given (the log moved on without it): stale, so LevelDB answers.
    expect(recent.serves(logOf(0, 11), 4)).toBe(false)
    // Nothing newer than the read position.
    expect(recent.serves(logOf(0, 10), 9)).toBe(false)
  })

  it('starts at the log front: evicted or expired entries never come back from memory', () => {
    const recent = new RecentEntries()
    recent.appended(entries(0, 10), -1)
    const read = recent.read(logOf(7, 10), 2, budget(100))
    expect(offsets(read.entries)).toEqual([7, 8, 9])
  })

  it('keeps its bounds and is not used for a read that starts before what it holds', () => {
    const recent = new RecentEntries(4, Infinity)
    recent.appended(entries(0, 10), 5)
    expect(recent.first).toBe(6)
    expect(recent.serves(logOf(0, 10), 4)).toBe(false) // needs offset 5
    expect(recent.serves(logOf(0, 10), 5)).toBe(true)
    const bytes = new RecentEntries(100, 250)
    bytes.appended(entries(0, 10), -1) // 100 bytes each: the last two are kept
    expect(bytes.size).toBe(2)
  })

  it('honours the read budget as a LevelDB read does (the first entry may exceed the bytes)', () => {
    const recent = new RecentEntries()
    recent.appended(entries(0, 10), -1)
    expect(recent.read(logOf(0, 10), -1, budget(3))).toMatchObject({ budgetSpent: true, bytes: 300 })
    expect(offsets(recent.read(logOf(0, 10), -1, budget(100, 250)).entries)).toEqual([0, 1])
    expect(offsets(recent.read(logOf(0, 10), -1, budget(100, 50, true)).entries)).toEqual([0])
    expect(offsets(recent.read(logOf(0, 10), -1, budget(100, 50, false)).entries)).toEqual([])
    expect(recent.read(logOf(0, 10), 7, budget(100))).toMatchObject({ budgetSpent: false, bytes: 200 })
  })

  it('stands aside while the class has known damage', () => {
    const recent = new RecentEntries()
    recent.appended(entries(0, 10), -1)
    const log = logOf(0, 10)
    log.damaged.add(3, 3)
    expect(recent.serves(log, -1)).toBe(false)
  })

  it('keeps nothing while every reader is too far behind to reach the new entries', () => {
    const recent = new RecentEntries(4, Infinity)
    recent.appended(entries(0, 3), -1)
    expect(recent.size).toBe(3)
    recent.appended(entries(3, 3), 0) // would keep 2..5, but the nearest reader needs 1 next
    expect(recent.size).toBe(0)
  })

  it('starts over when an append does not continue what it holds', () => {
    const recent = new RecentEntries()
    recent.appended(entries(0, 3), -1)
    recent.appended(entries(5, 2), -1)
    expect([recent.first, recent.size]).toEqual([5, 2])
  })

  it('releases what every reader has read, and hands out copies', () => {
    const recent = new RecentEntries()
    recent.appended(entries(0, 3000), -1)
    recent.release(2500)
    expect([recent.first, recent.size]).toEqual([2501, 499])
    const [first] = recent.read(logOf(0, 3000), 2500, budget(1)).entries
    first!.json = 'changed'
    expect(recent.read(logOf(0, 3000), 2500, budget(1)).entries[0]!.json).toBe('{}')
    recent.release(2999)
    expect(recent.size).toBe(0)
  })
})

describe('LevelStore reads at the tail', () => {
  const dirs: string[] = []
  const stores: LevelStore[] = []
  afterEach(async () => {
    for (const s of stores.splice(0)) await s.close().catch(() => undefined)
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
  })
  const open = async (dir: string, uplinks = ['u1']): Promise<LevelStore> => {
    const store = new LevelStore({ dir, maxBytes: 1e9, maxAgeMs: 1e12, uplinks })
    stores.push(store)
    await store.open()
    return store
  }
  const newDir = (): string => {
    const dir = mkdtempSync(join(tmpdir(), 'gw-recent-'))
    dirs.push(dir)
    return dir
  }
  /** Makes every LevelDB iterator of the store fail: a read that still answers came from memory. */
  const withoutDiskReads = (store: LevelStore): void => {
    const db = (store as unknown as { ctx: { db: LevelDb } }).ctx.db
    db.iterator = (() => {
      throw new Error('this read should have been served from memory')
    }) as LevelDb['iterator']
  }
  const mixed: NewEvent[] = [
    ...makeEvents(0, 3),
    makeEvent(3, 'alert'),
    { ...makeEvent(4), source: 'urn:dev:Größe-☃', json: makeEvent(4).json.replace('21.5', '"°C 😀"') },
    ...makeEvents(5, 3),
  ]

  it('returns from memory exactly the entries a read from LevelDB returns after a reopen', async () => {
    const dir = newDir()
    const store = await open(dir)
    await store.append({ events: mixed, counters: noCounters() })
    withoutDiskReads(store)
    const fromMemory = await readAll(store, 'u1')
    await store.close()
    const fromDisk = await readAll(await open(dir), 'u1')
    expect(fromDisk.map((e) => e.id)).toEqual(['ev-00000003', ...[0, 1, 2, 4, 5, 6, 7].map((n) => `ev-${String(n).padStart(8, '0')}`)])
    expect(fromMemory).toEqual(fromDisk)
  })

  it('reads an entry whose strings LevelDB cannot hold as they are from disk, as LevelDB returns it', async () => {
    const dir = newDir()
    const store = await open(dir)
    const lone: NewEvent = { ...makeEvent(0), id: 'ev-\ud800' } // a lone surrogate: stored as U+FFFD
    await store.append({ events: [lone, makeEvent(1)], counters: noCounters() })
    const read = await readAll(store, 'u1')
    expect(read.map((e) => e.id)).toEqual(['ev-\ufffd', 'ev-00000001'])
  })

  it('hands each uplink its own entries: one changing what it was given does not change the other', async () => {
    const store = await open(newDir(), ['u1', 'u2'])
    await store.append({ events: makeEvents(0, 4), counters: noCounters() })
    withoutDiskReads(store)
    const first = await readAll(store, 'u1')
    for (const e of first) e.json = 'rewritten by u1'
    const second = await readAll(store, 'u2')
    expect(second.map((e) => e.json)).toEqual(makeEvents(0, 4).map((e) => e.json))
  })

  it('a rewind reads again from memory while it still holds the entries, else from LevelDB', async () => {
    const dir = newDir()
    const store = await open(dir, ['u1', 'u2']) // u2 has read nothing: memory keeps what u1 read
    await store.append({ events: makeEvents(0, 2_000), counters: noCounters() })
    const disk = (store as unknown as { ctx: { db: LevelDb } }).ctx.db.iterator
    withoutDiskReads(store)
    const first = await readAll(store, 'u1', 500)
    store.rewind('u1')
    expect(await readAll(store, 'u1', 500)).toEqual(first)
    expect(ids(first)).toEqual(ids(makeEvents(0, 2_000)))
    // Once both have read them, memory lets them go: the next rewind reads LevelDB.
    expect(await readAll(store, 'u2', 2_000)).toEqual(first)
    expect(recentOf(store).telemetry.size).toBe(0)
    ;(store as unknown as { ctx: { db: LevelDb } }).ctx.db.iterator = disk
    store.rewind('u1')
    expect(await readAll(store, 'u1', 500)).toEqual(first)
  })

  it('holds at most its bound while one uplink is offline, which later reads the same entries from LevelDB', async () => {
    const store = await open(newDir(), ['u1', 'u2'])
    for (let n = 0; n < 12_000; n += 100) {
      await store.append({ events: makeEvents(n, 100), counters: noCounters() })
      await store.ack('u1', await store.read('u1', 1_000, Infinity))
    }
    expect(recentOf(store).telemetry.size).toBe(8_192)
    const late = await readAll(store, 'u2', 4_000)
    expect(ids(late)).toEqual(ids(makeEvents(0, 12_000)))
  })

  it('keeps nothing while no uplink reads near the tail', async () => {
    const store = await open(newDir())
    for (let n = 0; n < 10_000; n += 2_000) await store.append({ events: makeEvents(n, 2_000), counters: noCounters() })
    expect(recentOf(store).telemetry.size).toBe(0)
  })

  it('a read that fails moves no read position: alerts served from memory are read again', async () => {
    const dir = newDir()
    const first = await open(dir)
    await first.append({ events: makeEvents(0, 5), counters: noCounters() })
    await first.close()
    const store = await open(dir) // the telemetry is on disk only, the alerts below in memory
    await store.append({ events: [makeEvent(100, 'alert'), makeEvent(101, 'alert')], counters: noCounters() })
    const db = (store as unknown as { ctx: { db: LevelDb } }).ctx.db
    const iterator = db.iterator.bind(db)
    db.iterator = (() => {
      throw new Error('Database is not open') // as between write recovery's reopen attempts
    }) as LevelDb['iterator']
    await expect(store.read('u1', 100, Infinity)).rejects.toThrow('Database is not open')
    db.iterator = iterator
    expect(ids(await store.read('u1', 100, Infinity))).toEqual(['ev-00000100', 'ev-00000101', ...ids(makeEvents(0, 5))])
  })
})

/**
 * Differential: before every read, the same read over LevelDB alone (no memory) on a copy of the
 * cursors; the two must agree exactly. Random appends (alerts and telemetry, some larger, some
 * with a lone surrogate), reads with event and byte budgets, in- and out-of-order acks, rewinds,
 * expiry, dead letters and their requeue, and reopens, with two uplinks, in a store small enough
 * that drop_oldest evicts in the same batch as appends.
 */
describe('LevelStore reads from memory agree with LevelDB (seeded random operations)', () => {
  const cloneCursors = (state: PerClass<CursorState>): PerClass<CursorState> => ({
    alert: { ...state.alert, pending: new Set(state.alert.pending) },
    telemetry: { ...state.telemetry, pending: new Set(state.telemetry.pending) },
  })

  it.each([
    [1, 'drop_oldest' as const, 300_000],
    [2, 'drop_oldest' as const, 300_000],
    [3, 'reject_new' as const, 2_000_000],
  ])('seed %i, %s, maxBytes %i', async (seed, whenFull, maxBytes) => {
    const dir = mkdtempSync(join(tmpdir(), 'gw-recent-diff-'))
    const random = seeded(seed)
    let monotonicMs = 1_000
    const make = (): LevelStore => new LevelStore({ dir, maxBytes, maxAgeMs: 60_000, whenFull, uplinks: ['u1', 'u2'], monotonicNow: () => monotonicMs, expiryIntervalMs: 1e9 })
    let store = make()
    await store.open()
    const handed: Record<string, Entry[]> = { u1: [], u2: [] }
    let n = 0
    let fromMemory = 0
    try {
      for (let step = 0; step < 300; step++) {
        const op = random()
        const uplink = random() < 0.6 ? 'u1' : 'u2'
        if (op < 0.3) {
          const events = Array.from({ length: 1 + Math.floor(random() * (random() < 0.1 ? 800 : 50)) }, () => {
            const e = makeEvent(n++, random() < 0.2 ? 'alert' : 'telemetry')
            if (random() < 0.2) e.json = e.json.replace('21.5', `"${'x'.repeat(Math.floor(random() * 2_000))}"`)
            if (random() < 0.01) e.id += '\ud800'
            return e
          })
          await store.append({ events, counters: noCounters() })
        } else if (op < 0.6) {
          const maxEvents = 1 + Math.floor(random() * 300)
          const maxBytesRead = random() < 0.3 ? Math.floor(random() * 3_000) : Infinity
          const ctx = contextOf(store)
          const state = ctx.cursors.get(uplink)!
          for (const p of ['alert', 'telemetry'] as const) {
            const log = ctx.logs[p]
            if (ctx.recent[p].serves(log, Math.max(state[p].readPos, effectiveAcked(state[p], log)))) fromMemory++
          }
          const expected = await readQueue(ctx.db, ctx.logs, cloneCursors(state), { maxEvents, maxBytes: maxBytesRead })
          const got = await store.read(uplink, maxEvents, maxBytesRead)
          expect(got, `step ${step}`).toEqual(expected.entries)
          handed[uplink]!.push(...got)
        } else if (op < 0.75) {
          const list = handed[uplink]!
          const acking = random() < 0.2 ? list.filter(() => random() < 0.5) : list.slice(0, Math.floor(random() * (list.length + 1)))
          await store.ack(uplink, acking)
          handed[uplink] = list.filter((e) => !acking.includes(e))
        } else if (op < 0.8) {
          store.rewind(uplink)
          handed[uplink] = []
        } else if (op < 0.85) {
          monotonicMs += Math.floor(random() * 40_000)
          await store.expireNow()
        } else if (op < 0.9) {
          const list = handed[uplink]!
          const k = Math.min(list.length, Math.floor(random() * 20))
          if (k > 0) await store.deadLetter(uplink, list.slice(0, k), 'test', 'refused')
          handed[uplink] = list.slice(k)
        } else if (op < 0.94) {
          await store.requeueDeadLetters(uplink)
        } else if (op < 0.95) {
          await store.close()
          store = make()
          await store.open()
          handed.u1 = []
          handed.u2 = []
        }
        for (const p of ['alert', 'telemetry'] as const) expect(contextOf(store).recent[p].size).toBeLessThanOrEqual(8_192)
      }
      expect(fromMemory).toBeGreaterThan(20) // the comparison covered reads served from memory
    } finally {
      await store.close()
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

/** A small deterministic PRNG (LCG), so a failing seed can be replayed. */
function seeded(seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0
    return s / 2 ** 32
  }
}

interface StoreInternals {
  db: LevelDb
  logs: PerClass<ClassLog>
  cursors: Map<string, PerClass<CursorState>>
  recent: PerClass<RecentEntries>
}
const contextOf = (store: LevelStore): StoreInternals => (store as unknown as { ctx: StoreInternals }).ctx
const recentOf = (store: LevelStore): PerClass<RecentEntries> => contextOf(store).recent
