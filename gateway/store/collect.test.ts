/**
 * Ack collection: long acked ranges are deleted with db.clear AFTER the batch that moved the
 * cursors and front keys (log-writer.ts collect). These tests stop a real LevelDB store exactly at
 * that seam (the batch written, the clear not or only half done) and check that nothing acked is
 * sent again, nothing is counted lost, and the leftovers leave the disk.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Level } from 'level'
import { afterEach, describe, expect, it } from 'vitest'
import { ManualClock, ids, makeEvents, noCounters, readAll } from '../../test/contract/store-contract-support.js'
import type { LevelDb } from './front-trimmer.js'
import { entryKey } from './keys.js'
import { CLEAR_FROM_ENTRIES } from './log-writer.js'
import { LevelStore } from './level-store.js'

const clock = new ManualClock()
const dirs: string[] = []
const stores: LevelStore[] = []

afterEach(async () => {
  for (const s of stores.splice(0)) await s.close().catch(() => undefined)
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

function newDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'gw-collect-'))
  dirs.push(dir)
  return dir
}

async function start(dir: string): Promise<LevelStore> {
  const store = new LevelStore({ dir, maxBytes: 1e9, maxAgeMs: 1e9, uplinks: ['u1'], now: clock.now, monotonicNow: clock.now })
  stores.push(store)
  await store.open()
  return store
}

/** The store's LevelDB handle (the tests interpose on its clear). */
const dbOf = (store: LevelStore): LevelDb => (store as unknown as { ctx: { db: LevelDb } }).ctx.db

/** Makes the next db.clear calls delete only the lower half of their range and then fail, like a crash mid-clear. */
function breakClear(db: LevelDb): { calls: number; restore: () => void } {
  const original = db.clear.bind(db)
  const state = {
    calls: 0,
    restore: () => void (db.clear = original),
  }
  db.clear = (async (range: { gte: string; lte: string }) => {
    state.calls++
    const from = Number(range.gte.slice(-16))
    const through = Number(range.lte.slice(-16))
    await original({ gte: range.gte, lt: entryKey('telemetry', from + Math.floor((through - from + 1) / 2)) })
    throw new Error('simulated crash in the middle of db.clear')
  }) as unknown as LevelDb['clear']
  return state
}

async function entryKeys(dir: string): Promise<string[]> {
  const db = new Level<string, Buffer>(dir, { keyEncoding: 'utf8', valueEncoding: 'buffer' })
  try {
    return await db.keys({ gte: 'e!', lt: 'e"' }).all()
  } finally {
    await db.close()
  }
}

/** Acks of N entries are cleared with db.clear; the tests ack exactly N, then more. */
const N = CLEAR_FROM_ENTRIES

describe('ack collection with db.clear', () => {
  it('a crash between the ack batch and its clear: open() deletes the acked leftovers, resends none, counts none lost', async () => {
    const dir = newDir()
    const store = await start(dir)
    const events = makeEvents(0, N + 400)
    await store.append({ events, counters: noCounters() })
    const all = await readAll(store, 'u1', N + 400)
    const broken = breakClear(dbOf(store))
    await expect(store.ack('u1', all.slice(0, N))).rejects.toThrow('simulated crash')
    expect(broken.calls).toBe(1)
    await store.close()
    stores.splice(stores.indexOf(store), 1)
    // The seam really was hit: acked entries N/2..N-1 are still on disk, below the front key.
    const left = await entryKeys(dir)
    expect(left[0]).toBe(entryKey('telemetry', N / 2))
    expect(left).toHaveLength(N / 2 + 400)

    const again = await start(dir)
    const rest = all.slice(N)
    expect(ids(await again.peek('u1', 1_000))).toEqual(ids(rest))
    expect(again.stats()).toMatchObject({ entries: 400, bytes: rest.reduce((n, e) => n + e.sizeBytes, 0) })
    expect(again.stats().drops.corrupt_entry ?? 0).toBe(0)
    expect(again.salvage.lostEntries ?? 0).toBe(0)
    await again.close()
    stores.splice(stores.indexOf(again), 1)
    const keys = await entryKeys(dir)
    expect(keys).toHaveLength(400)
    expect(keys[0]).toBe(entryKey('telemetry', N))
  })

  it('after a clear that failed while running, the next ack clears from the old front again', async () => {
    const dir = newDir()
    const store = await start(dir)
    await store.append({ events: makeEvents(0, N + 400), counters: noCounters() })
    const all = await readAll(store, 'u1', N + 400)
    const broken = breakClear(dbOf(store))
    await expect(store.ack('u1', all.slice(0, N))).rejects.toThrow('simulated crash')
    broken.restore()
    await store.ack('u1', all.slice(N, N + 300))
    const rest = all.slice(N + 300)
    expect(store.stats()).toMatchObject({ entries: 100, bytes: rest.reduce((n, e) => n + e.sizeBytes, 0) })
    expect(store.stats().drops.corrupt_entry ?? 0).toBe(0)
    await store.close()
    stores.splice(stores.indexOf(store), 1)
    expect(await entryKeys(dir)).toEqual(rest.map((e) => entryKey('telemetry', e.offset)))
  })

  it('a short acked range is deleted inside the ack batch, without db.clear', async () => {
    const dir = newDir()
    const store = await start(dir)
    await store.append({ events: makeEvents(0, 300), counters: noCounters() })
    const all = await readAll(store, 'u1', 300)
    const broken = breakClear(dbOf(store))
    await store.ack('u1', all.slice(0, 100))
    expect(broken.calls).toBe(0)
    await store.close()
    stores.splice(stores.indexOf(store), 1)
    expect(await entryKeys(dir)).toEqual(all.slice(100).map((e) => entryKey('telemetry', e.offset)))
  })
})
