/**
 * Store time (store-clock.ts): expiry and ages follow a clock that never jumps, whatever the wall
 * clock does (a Pi without RTC stepping from 1970 or a fake-hwclock save to NTP time, or back).
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Level } from 'level'
import { afterEach, describe, expect, it } from 'vitest'
import { ManualClock, ids, makeEvents, readAll } from '../../test/contract/store-contract-support.js'
import { LevelStore, type LevelStoreOptions } from './level-store.js'
import { CLOCK_SAVE_INTERVAL_MS, StoreClock, decodeStoreTime, encodeStoreTime } from './store-clock.js'

const YEAR_MS = 365 * 24 * 3_600_000
const dirs: string[] = []
const stores: LevelStore[] = []

afterEach(async () => {
  for (const s of stores.splice(0)) await s.close().catch(() => undefined)
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

function newDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'gw-store-clock-'))
  dirs.push(dir)
  return dir
}

async function start(dir: string, wall: ManualClock, mono: ManualClock, opts: Partial<LevelStoreOptions> = {}): Promise<LevelStore> {
  const store = new LevelStore({ dir, maxBytes: 1e9, maxAgeMs: 60_000, uplinks: ['u1'], now: wall.now, monotonicNow: mono.now, ...opts })
  stores.push(store)
  await store.open()
  return store
}

describe('StoreClock', () => {
  it('continues from the persisted value with monotonic time and never goes back', () => {
    const mono = new ManualClock(5_000)
    const clock = new StoreClock(mono.now)
    clock.resume(1_000_000)
    expect(clock.now()).toBe(1_000_000)
    mono.advance(250)
    expect(clock.now()).toBe(1_000_250)
    mono.advance(-10_000) // a broken monotonic source must not move store time back
    expect(clock.now()).toBe(1_000_250)
    expect(clock.saveDue()).toBe(false)
    mono.advance(10_000 + CLOCK_SAVE_INTERVAL_MS)
    expect(clock.saveDue()).toBe(true)
  })

  it('ignores a damaged saved value instead of jumping (which would expire everything)', () => {
    expect(decodeStoreTime(encodeStoreTime(123_456.5))).toBe(123_456.5)
    const damaged = encodeStoreTime(123_456)
    damaged[0] = '9'.charCodeAt(0)
    expect(decodeStoreTime(damaged)).toBe(0)
    expect(decodeStoreTime(Buffer.from('123456'))).toBe(0)
    expect(decodeStoreTime(undefined)).toBe(0)
  })
})

describe('LevelStore store time', () => {
  it('wall-clock steps of years neither expire nor keep entries, and never reorder the queue', async () => {
    const wall = new ManualClock(0) // booted at 1970
    const mono = new ManualClock(1_000)
    const store = await start(newDir(), wall, mono)
    await store.append({ events: makeEvents(0, 2), counters: new Map() })
    wall.advance(56 * YEAR_MS) // NTP sync: 1970 -> 2026
    await store.append({ events: makeEvents(2, 2), counters: new Map() })
    expect(await store.expireNow()).toBe(0)
    mono.advance(30_000)
    wall.advance(-30 * YEAR_MS) // and a step back
    await store.append({ events: makeEvents(4, 2), counters: new Map() })
    expect(await store.expireNow()).toBe(0)
    expect(store.stats().oldestAgeMs).toBe(30_000)
    const queued = await store.peek('u1')
    expect(ids(queued)).toEqual(ids(makeEvents(0, 6))) // offset order, whatever appendedMs says
    expect(queued.map((e) => e.appendedMs)).toEqual([0, 0, 56 * YEAR_MS, 56 * YEAR_MS, 26 * YEAR_MS, 26 * YEAR_MS])
    mono.advance(30_001) // 60_001 ms of store time since the first four
    expect(await store.expireNow()).toBe(4)
    expect(ids(await readAll(store, 'u1'))).toEqual(ids(makeEvents(4, 2)))
    expect(store.stats()).toMatchObject({ oldestAgeMs: 30_001, drops: { expired: 4 } })
  })

  it('resumes store time after a restart: downtime is not age, uptime before it is', async () => {
    const dir = newDir()
    const wall = new ManualClock()
    const mono = new ManualClock(10_000)
    let store = await start(dir, wall, mono)
    await store.append({ events: makeEvents(0, 1), counters: new Map() })
    mono.advance(50_000)
    await store.close()
    // Reboot: the monotonic clock starts over, the wall clock says a week passed.
    const mono2 = new ManualClock(3)
    wall.advance(7 * 24 * 3_600_000)
    store = await start(dir, wall, mono2)
    expect(store.stats().oldestAgeMs).toBe(50_000)
    mono2.advance(9_999)
    expect(await store.expireNow()).toBe(0)
    mono2.advance(2)
    expect(await store.expireNow()).toBe(1)
  })

  it('reads version-1 entries (before store time); they age from the first open after the upgrade', async () => {
    const dir = newDir()
    const [event] = makeEvents(0, 1)
    const source = Buffer.from(event!.source)
    const id = Buffer.from(event!.id)
    const json = Buffer.from(event!.json)
    const value = Buffer.alloc(25 + source.length + id.length + json.length)
    value.writeUInt8(1, 0)
    value.writeDoubleBE(1_600_000_000_000, 1)
    value.writeDoubleBE(value.length + 20, 9)
    value.writeUInt32BE(source.length, 17)
    value.writeUInt32BE(id.length, 21)
    Buffer.concat([source, id, json]).copy(value, 25)
    const db = new Level<string, Buffer>(dir, { keyEncoding: 'utf8', valueEncoding: 'buffer' })
    await db.batch([
      { type: 'put', key: 'e!t!0000000000000000', value },
      { type: 'put', key: 'm!t', value: Buffer.from(`1,${value.length + 20}`) },
    ])
    await db.close()
    const mono = new ManualClock(77)
    const store = await start(dir, new ManualClock(), mono)
    const [entry] = await store.peek('u1')
    expect(entry).toMatchObject({ id: event!.id, json: event!.json, appendedMs: 1_600_000_000_000, offset: 0 })
    mono.advance(60_001)
    expect(await store.expireNow()).toBe(1)
  })
})
