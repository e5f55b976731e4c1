import { join } from 'node:path'
import { Level } from 'level'
import { afterEach, describe, expect, it } from 'vitest'
import { ids, makeEvents, readAll } from '../../test/contract/store-contract-support.js'
import { SalvageFixtures } from '../../test/support/salvage-fixtures.js'
import { copyInChild } from './child-salvage.js'
import { setKeyLayout } from './key-layout.js'
import { COUNTER_PREFIX, CURSOR_PREFIX, DEAD_LETTER_PREFIX, KEY_AREAS, LEGACY_COUNTER_PREFIX, LEGACY_META_PREFIX, META_PREFIX, entryPrefix, prefixRange } from './keys.js'
import { LevelStore } from './level-store.js'

const fx = new SalvageFixtures('gw-key-layout-')
afterEach(() => fx.cleanup())

type Db = Level<string, Buffer>

async function withDb<T>(dir: string, fn: (db: Db) => Promise<T>): Promise<T> {
  const db = new Level<string, Buffer>(dir, { keyEncoding: 'utf8', valueEncoding: 'buffer' })
  try {
    return await fn(db)
  } finally {
    await db.close()
  }
}

const rawKeys = (dir: string): Promise<string[]> => withDb(dir, (db) => db.keys().all())

/**
 * A store in layout 1, as a gateway before layout 2 left it: 10 events (sequence counter 10 for
 * `src`), 4 of them acked by u1. Made by a layout-2 store whose meta and counter keys are then
 * renamed to where layout 1 kept them, value for value.
 */
async function layoutOneStore(dir: string): Promise<void> {
  const store = new LevelStore({ dir, maxBytes: 1e9, maxAgeMs: 1e12, uplinks: ['u1'] })
  await store.open()
  await store.append({ events: makeEvents(0, 10), counters: new Map([['src', 10]]) })
  await store.ack('u1', (await readAll(store, 'u1')).slice(0, 4))
  await store.close()
  await withDb(dir, async (db) => {
    for (const [current, legacy] of [[META_PREFIX, LEGACY_META_PREFIX], [COUNTER_PREFIX, LEGACY_COUNTER_PREFIX]] as const) {
      const rows = await db.iterator(prefixRange(current)).all()
      await db.batch(rows.flatMap(([key, value]) => [{ type: 'del' as const, key }, { type: 'put' as const, key: legacy + key.slice(current.length), value }]))
    }
  })
}

describe('key layout', () => {
  it('every area the store rewrites sorts before the entries (so LevelDB can drop acked entries early)', () => {
    const entries = [entryPrefix('alert'), entryPrefix('telemetry')]
    for (const area of [META_PREFIX, COUNTER_PREFIX, CURSOR_PREFIX, DEAD_LETTER_PREFIX]) {
      for (const entry of entries) expect(area + '\uffff' < entry).toBe(true)
    }
    // Layout 1's areas sorted after them: that is what moved.
    for (const legacy of [LEGACY_META_PREFIX, LEGACY_COUNTER_PREFIX]) expect(legacy > entries[1]! + '\uffff').toBe(true)
    expect(KEY_AREAS).not.toContain(LEGACY_META_PREFIX)
  })

  it('open() moves a layout-1 store to layout 2 and keeps its queue, counters and front', async () => {
    const dir = fx.newDir()
    await layoutOneStore(dir)
    expect((await rawKeys(dir)).filter((k) => k.startsWith('m!') || k.startsWith('s!'))).toEqual(['m!c', 'm!f!a', 'm!f!t', 'm!t', 's!src'])
    const store = await fx.openStore(dir)
    expect(ids(await readAll(store, 'u1'))).toEqual(ids(makeEvents(4, 6)))
    expect(await store.counters()).toEqual(new Map([['src', 10]]))
    expect(store.stats().entries).toBe(6)
    expect(store.stats().drops.corrupt_entry ?? 0).toBe(0)
    // Offsets go on where they were: the next event gets offset 10, not 0.
    await store.append({ events: makeEvents(10, 1), counters: new Map([['src', 11]]) })
    expect((await readAll(store, 'u1')).map((e) => e.offset)).toEqual([10])
    await store.close()
    const keys = await rawKeys(dir)
    expect(keys.filter((k) => k.startsWith('m!') || k.startsWith('s!'))).toEqual([])
    expect(keys).toContain('S!src')
  })

  it('moves nothing in a layout-2 store, and nothing twice', async () => {
    const dir = fx.newDir()
    await layoutOneStore(dir)
    expect(await withDb(dir, (db) => setKeyLayout(db, 2))).toBe(5)
    const after = await withDb(dir, (db) => db.iterator().all())
    expect(await withDb(dir, (db) => setKeyLayout(db, 2))).toBe(0)
    expect(await withDb(dir, (db) => db.iterator().all())).toEqual(after)
  })

  it('with keys of both layouts (an older gateway ran on a moved store), layout 1 wins but no sequence number goes back', async () => {
    const dir = fx.newDir()
    await withDb(dir, (db) =>
      db.batch([
        { type: 'put', key: `${META_PREFIX}c`, value: Buffer.from('stale') },
        { type: 'put', key: `${LEGACY_META_PREFIX}c`, value: Buffer.from('newer') },
        { type: 'put', key: `${COUNTER_PREFIX}a`, value: Buffer.from('50') },
        { type: 'put', key: `${LEGACY_COUNTER_PREFIX}a`, value: Buffer.from('7') },
        { type: 'put', key: `${COUNTER_PREFIX}b`, value: Buffer.from('3') },
        { type: 'put', key: `${LEGACY_COUNTER_PREFIX}b`, value: Buffer.from('9') },
      ]),
    )
    expect(await withDb(dir, (db) => setKeyLayout(db, 2))).toBe(3)
    const rows = await withDb(dir, (db) => db.iterator().all())
    expect(rows.map(([k, v]) => [k, v.toString()])).toEqual([
      [`${META_PREFIX}c`, 'newer'],
      [`${COUNTER_PREFIX}a`, '50'],
      [`${COUNTER_PREFIX}b`, '9'],
    ])
  })

  it('a salvage copy of a layout-1 store keeps its counters and meta keys (moved when the copy opens)', async () => {
    const src = fx.newDir()
    await layoutOneStore(src)
    const dst = join(src, '..', 'copy')
    expect(await copyInChild(src, dst)).toMatchObject({ complete: true, failures: [] })
    const store = await fx.openStore(dst)
    expect(await store.counters()).toEqual(new Map([['src', 10]]))
    expect(ids(await readAll(store, 'u1'))).toEqual(ids(makeEvents(4, 6)))
  })
})
