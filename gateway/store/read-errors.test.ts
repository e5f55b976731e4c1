/**
 * A LevelDB read error while running: damage (corruption, an I/O error about its own files) makes
 * the next open() repair first; an error of the machine (EMFILE, ENOMEM...) must not, since a
 * repair (or a move aside) would not help and LevelDB's files are fine.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { makeEvents } from '../../test/contract/store-contract-support.js'
import type { LevelDb } from './front-trimmer.js'
import { LevelStore } from './level-store.js'
import { REPAIR_MARKER } from './salvage.js'

const dirs: string[] = []
const stores: LevelStore[] = []

afterEach(async () => {
  for (const s of stores.splice(0)) await s.close().catch(() => undefined)
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

async function openStore(): Promise<{ store: LevelStore; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'gw-read-errors-'))
  dirs.push(dir)
  const writer = new LevelStore({ dir, maxBytes: 1e9, maxAgeMs: 1e12, uplinks: ['u1'] })
  await writer.open()
  await writer.append({ events: makeEvents(0, 5), counters: new Map() })
  await writer.close()
  // Reopened: the entries are on disk only, not among the newest the writer kept in memory
  // (recent-entries.ts), so the reads below go through LevelDB's iterators.
  const store = new LevelStore({ dir, maxBytes: 1e9, maxAgeMs: 1e12, uplinks: ['u1'] })
  stores.push(store)
  await store.open()
  return { store, dir }
}

/** Makes every iterator of the store's LevelDB handle fail its reads with `err` (as classic-level does). */
function failReads(store: LevelStore, err: Error): void {
  const db = (store as unknown as { ctx: { db: LevelDb } }).ctx.db
  const iterator = db.iterator.bind(db)
  db.iterator = ((...args: Parameters<LevelDb['iterator']>) => {
    const it = iterator(...args)
    it.nextv = () => Promise.reject(err)
    return it
  }) as LevelDb['iterator']
}

const levelError = (code: string, message: string): Error => Object.assign(new Error(message), { code })

describe('LevelStore read errors while running', () => {
  // Both cases read through the same failing iterator; only the error's kind decides the repair.
  it.each<[string, Error, boolean]>([
    [
      'an environment error (too many open files) does not schedule a repair',
      levelError('LEVEL_IO_ERROR', 'IO error: /data/queue/000005.ldb: Too many open files'),
      false,
    ],
    [
      'a corruption error schedules a repair at the next open',
      levelError('LEVEL_CORRUPTION', 'Corruption: block checksum mismatch: /data/queue/000005.ldb'),
      true,
    ],
  ])('%s', async (_name, error, repair) => {
    const { store, dir } = await openStore()
    failReads(store, error)
    expect(await store.read('u1', 10, Infinity)).toEqual([])
    expect(store.salvage.repairOnNextOpen).toBe(repair)
    expect(existsSync(join(dir, REPAIR_MARKER))).toBe(repair)
  })
})
