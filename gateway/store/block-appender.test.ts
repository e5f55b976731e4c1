/**
 * whenFull=block when the DISK, not maxBytes, is the limit: an append larger than what the
 * filesystem can take above the reserve (store.minFreeBytes) must not wait for room that can never
 * come. It is committed in parts the headroom allows, in order, as the uplink frees space.
 * Real LevelDB; only statfs is injected.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { ids, makeEvents, noCounters } from '../../test/contract/store-contract-support.js'
import { sleep } from '../core/abort.js'
import type { Entry } from '../core/types.js'
import type { DiskSpaceGuard, FsSpace } from './disk-space-guard.js'
import { LevelStore } from './level-store.js'

const MiB = 1024 * 1024
/** Above LevelDB's own need (its 8 MiB write buffer on this 1 GiB filesystem, divided by 3/4), so it is the reserve in effect. */
const RESERVE = 16 * MiB
const dirs: string[] = []
const stores: LevelStore[] = []
const aborts: AbortController[] = []
let samples = 0
const sampleWaiters: Array<() => void> = []
/** Resolves after the disk guard's next statfs sample. */
const nextSample = (): Promise<void> => new Promise((resolve) => sampleWaiters.push(resolve))

afterEach(async () => {
  for (const a of aborts.splice(0)) a.abort()
  for (const s of stores.splice(0)) await s.close().catch(() => undefined)
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

/**
 * A store on a filesystem with `headroomBytes` free above the reserve when the store is empty;
 * what the store holds is taken from it and comes back when it is deleted.
 */
async function storeOnSmallDisk(headroomBytes: number): Promise<LevelStore> {
  const dir = mkdtempSync(join(tmpdir(), 'gw-block-disk-'))
  dirs.push(dir)
  let store: LevelStore | undefined = undefined
  const statfs = async (): Promise<FsSpace> => {
    samples++
    for (const w of sampleWaiters.splice(0)) w()
    const free = RESERVE + headroomBytes - (store?.stats().bytes ?? 0)
    return { bavail: Math.floor(free / 4096), bsize: 4096, blocks: (1024 * MiB) / 4096 }
  }
  store = new LevelStore({ dir, maxBytes: 1e9, maxAgeMs: 1e12, whenFull: 'block', uplinks: ['u1'], minFreeBytes: RESERVE, statfs, diskCheckIntervalMs: 20 })
  stores.push(store)
  await store.open()
  return store
}

function controller(): AbortController {
  const c = new AbortController()
  aborts.push(c)
  return c
}

/** Reads and acks everything appended until `count` entries arrived or `signal` aborts. */
async function drain(store: LevelStore, count: number, signal: AbortSignal): Promise<Entry[]> {
  const got: Entry[] = []
  while (got.length < count && !signal.aborted) {
    const appended = store.waitForAppend(signal) // registered before the read: no wake-up is missed
    const batch = await store.read('u1', 100, Infinity)
    if (batch.length === 0) {
      await appended
      continue
    }
    got.push(...batch)
    await store.ack('u1', batch)
  }
  return got
}

describe('whenFull=block on a disk smaller than one append', () => {
  it('an append larger than the headroom of an EMPTY store is committed in parts as the uplink frees space', async () => {
    const store = await storeOnSmallDisk(24 * 1024) // ~80 entries of ~300 B
    const events = makeEvents(0, 1_000) // ~300 KB: more than ten times the headroom
    const stop = controller()
    // Bounds the test if the append waits forever (the bug): it then rejects instead of hanging.
    const bound = AbortSignal.timeout(10_000)
    const consumer = drain(store, events.length, AbortSignal.any([stop.signal, bound]))
    const result = await store.append({ events, counters: new Map([['urn:dev:sensor-1', 1_000]]) }, bound)
    expect(result).toEqual({ accepted: 1_000, rejected: 0, evicted: 0 })
    const delivered = await consumer
    expect(ids(delivered)).toEqual(ids(events)) // all of them, once, in order
    expect(Object.entries(store.stats().drops).filter(([, n]) => n > 0)).toEqual([]) // nothing dropped
    expect((await store.counters()).get('urn:dev:sensor-1')).toBe(1_000)
    // The guard stops watching once nothing waits: the whole append's size, which the disk could
    // never hold, must not stay behind as a need (its timer sampled and compacted for good).
    const guard = (store as unknown as { disk: DiskSpaceGuard }).disk
    // A running timer samples every 20 ms. The wait is bounded because the tick that stops the timer
    // may already have sampled when we start waiting: no further sample (no event) would come.
    for (let i = 0; i < 5 && guard.watching; i++) await Promise.race([nextSample(), sleep(500)])
    expect(guard.watching).toBe(false)
  })

  it('with nothing freeing space it stores the prefix that fits and waits for the rest; an abort then rejects GW_ERR_STORE_FULL with the stored prefix', async () => {
    const store = await storeOnSmallDisk(24 * 1024)
    const events = makeEvents(0, 1_000)
    const abort = controller()
    const firstPart = store.waitForAppend(AbortSignal.timeout(10_000))
    const pending = store.append({ events, counters: noCounters() }, abort.signal).catch((err: unknown) => err)
    await firstPart
    const stored = store.stats().entries
    expect(stored).toBeGreaterThan(0)
    expect(stored).toBeLessThan(events.length)
    abort.abort()
    expect(await pending).toMatchObject({ code: 'GW_ERR_STORE_FULL', committed: { accepted: stored, rejected: 0, evicted: 0 } })
    expect(ids(await store.peek('u1', 1_000))).toEqual(ids(events.slice(0, stored)))
    expect(Object.entries(store.stats().drops).filter(([, n]) => n > 0)).toEqual([]) // nothing dropped
  })
})
