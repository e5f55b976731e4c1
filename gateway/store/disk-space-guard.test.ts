/**
 * The free-space guard (disk-space-guard.ts) with an injected statfs, and the recovery from
 * LevelDB's sticky ENOSPC (write-recovery.ts) on a real, tiny tmpfs (root only; skipped otherwise).
 */
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { statfs } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { ids, makeEvents, readAll } from '../../test/contract/store-contract-support.js'
import { mountTmpfs, unmountTmpfs } from '../../test/support/chaos-tmpfs.js'
import { silentLogger } from '../core/observability.js'
import type { WhenFull } from '../core/types.js'
import { DiskSpaceGuard, type FsSpace } from './disk-space-guard.js'
import { levelDbWriteBufferBytes } from './leveldb-footprint.js'
import { LevelStore } from './level-store.js'

const MiB = 1024 * 1024
const dirs: string[] = []
const stores: LevelStore[] = []
const mounts: string[] = []

afterEach(async () => {
  for (const s of stores.splice(0)) await s.close().catch(() => undefined)
  for (const m of mounts.splice(0)) unmountTmpfs(m)
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

/**
 * A 128 MiB filesystem whose free space the test sets; counts statfs calls. LevelDB's write buffer
 * there is 4 MiB, so LevelDB's own need (it, divided by 3/4) stays below the 10 MiB reserve the
 * tests set, which is the reserve in effect.
 */
class FakeFs {
  freeBytes = 100 * MiB
  calls = 0
  private waiters: Array<{ calls: number; wake: () => void }> = []
  readonly statfs = async (): Promise<FsSpace> => {
    this.calls++
    const space = { bavail: Math.floor(this.freeBytes / 4096), bsize: 4096, blocks: (128 * MiB) / 4096 }
    for (const w of this.waiters.filter((w) => this.calls >= w.calls)) w.wake()
    this.waiters = this.waiters.filter((w) => this.calls < w.calls)
    return space
  }

  /** Resolves once the guard has taken `count` more samples (the event a fixed sleep would only hope for). */
  sampled(count: number): Promise<void> {
    return new Promise((wake) => this.waiters.push({ calls: this.calls + count, wake }))
  }
}

async function openStore(fs: FakeFs, whenFull: WhenFull, extra: { diskCheckIntervalMs?: number } = {}): Promise<LevelStore> {
  const dir = mkdtempSync(join(tmpdir(), 'gw-disk-'))
  dirs.push(dir)
  // No emergency reserve: the fake filesystem's free space would not see the file, and the reserve's
  // own fresh sample, at a moment the test does not choose, would move the estimate these tests check.
  const store = new LevelStore({ dir, maxBytes: 1e9, maxAgeMs: 1e12, whenFull, uplinks: ['u1'], minFreeBytes: 10 * MiB, statfs: fs.statfs, emergencyReserveBytes: 0, ...extra })
  stores.push(store)
  await store.open()
  return store
}

describe('free-space guard', () => {
  it('with room, appends are stored and statfs is sampled, not called per append', async () => {
    const fs = new FakeFs()
    const store = await openStore(fs, 'drop_oldest', { diskCheckIntervalMs: 60_000 })
    const before = fs.calls
    for (let i = 0; i < 200; i++) await store.append({ events: makeEvents(i, 1), counters: new Map() })
    expect(store.stats().entries).toBe(200)
    expect(fs.calls - before).toBe(0)
  })

  it('below the reserve, drop_oldest evicts the oldest to make room (counted store_full_oldest)', async () => {
    const fs = new FakeFs()
    const store = await openStore(fs, 'drop_oldest', { diskCheckIntervalMs: 0 })
    await store.append({ events: makeEvents(0, 10), counters: new Map() })
    fs.freeBytes = 8 * MiB // full: between half the reserve and the reserve
    const r = await store.append({ events: makeEvents(10, 3), counters: new Map() })
    expect(r).toEqual({ accepted: 3, rejected: 0, evicted: 3 })
    expect(store.stats().drops.store_full_oldest).toBe(3)
    expect(ids(await readAll(store, 'u1'))).toEqual(ids(makeEvents(3, 10)))
  })

  it('below the reserve, reject_new refuses new telemetry (counted store_full_rejected) and keeps what is stored', async () => {
    const fs = new FakeFs()
    const store = await openStore(fs, 'reject_new', { diskCheckIntervalMs: 0 })
    await store.append({ events: makeEvents(0, 5), counters: new Map() })
    fs.freeBytes = 8 * MiB
    expect(await store.append({ events: makeEvents(5, 2), counters: new Map() })).toEqual({ accepted: 0, rejected: 2, evicted: 0, refused: [0, 1] })
    expect(store.stats().drops.store_full_rejected).toBe(2)
    expect(store.stats().entries).toBe(5)
  })

  it('below 3/4 of the reserve nothing is stored, not even by evicting (drop_oldest refuses)', async () => {
    const fs = new FakeFs()
    const store = await openStore(fs, 'drop_oldest', { diskCheckIntervalMs: 0 })
    await store.append({ events: makeEvents(0, 5), counters: new Map() })
    fs.freeBytes = 2 * MiB
    expect(await store.append({ events: makeEvents(5, 2), counters: new Map() })).toEqual({ accepted: 0, rejected: 2, evicted: 0, refused: [0, 1] })
    expect(store.stats().drops.store_full_rejected).toBe(2)
    expect(ids(await readAll(store, 'u1'))).toEqual(ids(makeEvents(0, 5)))
  })

  it('block waits while the disk is short and resumes by itself once space is back', async () => {
    const fs = new FakeFs()
    fs.freeBytes = 2 * MiB // short from the start: the sample taken at open already says so
    const store = await openStore(fs, 'block', { diskCheckIntervalMs: 20 })
    let done = false
    const pending = store.append({ events: makeEvents(0, 3), counters: new Map() }).then((r) => ((done = true), r))
    await fs.sampled(3) // the guard looked again (and again): it must still be waiting
    expect(done).toBe(false)
    fs.freeBytes = 100 * MiB
    expect(await pending).toEqual({ accepted: 3, rejected: 0, evicted: 0 })
  })

  it('block waits when the headroom above the reserve is too small for the append, and resumes when it grows', async () => {
    const fs = new FakeFs()
    fs.freeBytes = 10 * MiB + 1000 // room, but only 1000 bytes of it (as sampled at open)
    const store = await openStore(fs, 'block', { diskCheckIntervalMs: 20 })
    let done = false
    const pending = store.append({ events: makeEvents(0, 50), counters: new Map() }).then((r) => ((done = true), r))
    await fs.sampled(3)
    expect(done).toBe(false)
    fs.freeBytes = 100 * MiB
    expect(await pending).toEqual({ accepted: 50, rejected: 0, evicted: 0 })
  })

  it('wakes a waiting append whenever the headroom covers it, also after it shrank since a larger sample', async () => {
    // Found by the full chaos suite (block, 2 MiB store on an 8 MiB tmpfs): an append woken by a
    // large sample failed on a pessimistic estimate, asked again, and the next sample was smaller
    // but still enough. Waking only when the headroom grew left it waiting forever.
    vi.useFakeTimers()
    try {
      const fs = new FakeFs()
      // storeBytes injected too: the default reads the directory, real I/O the fake timers do not wait for.
      const guard = new DiskSpaceGuard({ dir: '/unused', minFreeBytes: 10 * MiB, log: silentLogger, statfs: fs.statfs, storeBytes: async () => 0, intervalMs: 100, minIntervalMs: 10 })
      let wakes = 0
      guard.onRoom = () => wakes++
      await guard.start()
      fs.freeBytes = 10 * MiB + 4096 // room, 4 KiB of headroom
      guard.noteShortfall(64 * 1024)
      await vi.advanceTimersByTimeAsync(100)
      expect(wakes).toBe(1) // grew from nothing: worth a try

      fs.freeBytes = 10 * MiB + 1 * MiB
      await vi.advanceTimersByTimeAsync(100)
      expect(wakes).toBe(2) // covers the append now
      guard.noteShortfall(64 * 1024) // ...which still did not fit (say, an estimate that had gone stale)

      fs.freeBytes = 10 * MiB + 512 * 1024 // smaller than the last sample, still enough
      await vi.advanceTimersByTimeAsync(100)
      expect(wakes).toBe(3)
      guard.stop()
    } finally {
      vi.useRealTimers()
    }
  })

  it('the reserve grows with the store: free space must hold all of it once more (a compaction rewrites it) plus a write buffer', async () => {
    // Found by the chaos ENOSPC case at 8,000 readings/s on a 4 MiB tmpfs: with a fixed reserve of
    // half the filesystem the store grew until an L0 compaction, rewriting every table of the
    // store before deleting the old ones, met ENOSPC (a 1.3 MiB table being rewritten, 0 bytes free).
    const disk = { free: 2.1 * MiB, stored: 1.5 * MiB }
    const statfs = async (): Promise<FsSpace> => ({ bavail: Math.floor(disk.free / 4096), bsize: 4096, blocks: (4 * MiB) / 4096 })
    const guard = new DiskSpaceGuard({ dir: '/unused', minFreeBytes: undefined, log: silentLogger, statfs, storeBytes: async () => disk.stored, intervalMs: 0, minIntervalMs: 0 })
    await guard.start()
    try {
      expect(guard.writeBufferBytes()).toBe(128 * 1024) // 1/32 of the 4 MiB filesystem
      // Above the 2 MiB default reserve, but 1.5 MiB stored + 128 KiB need 2.17 MiB above critical.
      expect((await guard.room()).level).toBe('full')
      disk.stored = 0.5 * MiB // little stored: the default reserve rules again
      const room = await guard.room()
      expect(room.level).toBe('room')
      expect(room.headroomBytes).toBe(Math.floor((2.1 * MiB) / 4096) * 4096 - 2 * MiB) // free above the default reserve
      disk.free = 1.9 * MiB // above 3/4 of the default reserve (1.5 MiB): evicting would be allowed...
      disk.stored = 1.8 * MiB // ...but rewriting 1.8 MiB + a write buffer no longer fits
      expect(await guard.room()).toMatchObject({ level: 'critical' })
      disk.stored = 1 * MiB
      const full = await guard.room()
      expect(full.level).toBe('full')
      // An append may write half of what is above the need: each byte written is a byte more to rewrite.
      expect(full.writableBytes).toBe((Math.floor((1.9 * MiB) / 4096) * 4096 - 1 * MiB - 128 * 1024) / 2)
    } finally {
      guard.stop()
    }
  })

  it('the reclaim compacts only with room for three copies of the live data, else it only flushes', async () => {
    // Found by the chaos ENOSPC case at 8,000 readings/s on a 4 MiB tmpfs (4 of 24 runs): the
    // reclaim's compactRange compacted level 0 into 1 and then level 1 into 2 (a store's first
    // table sits at level 2), each pass rewriting the whole 1.5 MiB store, and an append's eviction
    // scan open when the first pass ended kept that pass's inputs on disk: three copies, and the
    // second pass's table write met ENOSPC. Room for one rewrite (levelDbNeed) is not enough.
    vi.useFakeTimers()
    try {
      const disk = { free: 2.4 * MiB, stored: 1.7 * MiB }
      const statfs = async (): Promise<FsSpace> => ({ bavail: Math.floor(disk.free / 4096), bsize: 4096, blocks: (4 * MiB) / 4096 })
      const guard = new DiskSpaceGuard({ dir: '/unused', minFreeBytes: undefined, log: silentLogger, statfs, storeBytes: async () => disk.stored, intervalMs: 100, minIntervalMs: 10 })
      let liveBytes = 8 * MiB // the chaos readings' padding compresses: more live bytes than table bytes
      const answers: boolean[] = []
      guard.reclaim = async (compactionFits) => void answers.push(await compactionFits(liveBytes))
      await guard.start()
      expect((await guard.room()).level).toBe('full') // 1.7 MiB + a 128 KiB write buffer fit once: the timer runs
      const reclaimOnce = async (): Promise<void> => {
        guard.noteDeleted()
        await vi.advanceTimersByTimeAsync(3 * 100) // RECLAIM_MIN_TICKS after deletions
      }
      await reclaimOnce()
      expect(answers).toEqual([false]) // the rewrite is the store's 1.7 MiB: 3 x 1.7 MiB + 128 KiB > 2.4 MiB free
      liveBytes = 0.75 * MiB // most of it deleted: what a compaction writes is the live data, not the tables
      await reclaimOnce()
      liveBytes = 0.8 * MiB
      await reclaimOnce()
      expect(answers).toEqual([false, true, false]) // 2.375 MiB fits in 2.4 MiB, 2.53 MiB does not
      guard.stop()
    } finally {
      vi.useRealTimers()
    }
  })

  it('the reclaim flushes the memtable without compacting any table (real LevelDB)', async () => {
    // The flush used to be a compactRange over two meta keys, "a tiny range"; but every batch writes
    // the meta keys, so every table holds them, and that compacted the whole store.
    const fs = new FakeFs()
    // Interval 0: every append samples, and the timer ticks as fast as it can.
    const store = await openStore(fs, 'drop_oldest', { diskCheckIntervalMs: 0 })
    const dir = dirs[dirs.length - 1]!
    const tables = (): string[] => readdirSync(dir).filter((f) => f.endsWith('.ldb'))
    const logs = (): string[] => readdirSync(dir).filter((f) => f.endsWith('.log'))
    let stored = 0
    // Three batches of ~230 KiB, each flushed by a reclaim: tables that a compaction would merge.
    for (const from of [0, 1000, 2000]) {
      stored += (await store.append({ events: makeEvents(from, 1000), counters: new Map() })).accepted
      const [tablesBefore, logsBefore] = [tables(), logs()]
      fs.freeBytes = 2 * MiB // critical: the guard's timer reclaims
      // 10 ticks (nothing deleted), the reclaim's own sample, one more: the reclaim is done by then.
      const reclaimed = fs.sampled(12)
      // An append that is refused starts the timer. (One that awaits a sample the timer started
      // before the change still sees room: then the next one is refused.)
      let refused = 0
      while (refused === 0) {
        const r = await store.append({ events: makeEvents(9000 + from, 1), counters: new Map() })
        stored += r.accepted
        refused = r.rejected
      }
      await reclaimed
      expect(logs()).not.toEqual(logsBefore) // flushed: LevelDB started a new log
      expect(tables()).toEqual(expect.arrayContaining(tablesBefore)) // and compacted nothing
      fs.freeBytes = 100 * MiB
      await fs.sampled(1) // the timer sees room again, and stops
    }
    expect(tables().length).toBeGreaterThanOrEqual(3)
    expect(store.stats().entries).toBe(stored)
  })

  it('lists a store larger than one compaction takes in only every 30 s while there is room; otherwise at every sample', async () => {
    // Listing stats every file of the store (~500 for 1 GiB); above MAX_COMPACTION_BYTES the need is capped anyway.
    let nowMs = 0
    const disk = { stored: 60 * MiB, listings: 0, free: 500 * MiB }
    const statfs = async (): Promise<FsSpace> => ({ bavail: disk.free / 4096, bsize: 4096, blocks: (1024 * MiB) / 4096 })
    const storeBytes = async (): Promise<number> => (disk.listings++, disk.stored)
    const guard = new DiskSpaceGuard({ dir: '/unused', minFreeBytes: 10 * MiB, log: silentLogger, statfs, storeBytes, intervalMs: 1000, minIntervalMs: 100, now: () => nowMs })
    await guard.start()
    try {
      for (let i = 0; i < 29; i++) {
        nowMs += 1000
        await guard.room() // a fresh statfs each second...
      }
      expect(disk.listings).toBe(1) // ...but the large store was listed once
      nowMs += 1000
      disk.stored = 5 * MiB // it shrank: seen at the next listing, 30 s after the last
      await guard.room()
      expect(disk.listings).toBe(2)
      nowMs += 1000
      await guard.room()
      expect(disk.listings).toBe(3) // small now: listed at every sample

      disk.stored = 60 * MiB
      nowMs += 30_000
      await guard.room()
      expect(disk.listings).toBe(4)
      disk.free = 50 * MiB // short of room: a compaction that shrinks the store is what brings it back
      nowMs += 1000
      expect((await guard.room()).level).not.toBe('room') // found with the size it had
      nowMs += 1000
      await guard.room()
      expect(disk.listings).toBe(5) // from now on listed at every sample
      await guard.roomNow() // a fresh sample, listing included
      expect(disk.listings).toBe(6)
    } finally {
      guard.stop()
    }
  })

  it('sizes LevelDB\'s write buffer from the filesystem: 1/32 of it, 64 KiB to 8 MiB', () => {
    expect(levelDbWriteBufferBytes(4 * MiB)).toBe(128 * 1024)
    expect(levelDbWriteBufferBytes(1 * MiB)).toBe(64 * 1024)
    expect(levelDbWriteBufferBytes(128 * MiB)).toBe(4 * MiB)
    expect(levelDbWriteBufferBytes(32 * 1024 * MiB)).toBe(8 * MiB)
    expect(levelDbWriteBufferBytes(Infinity)).toBe(8 * MiB)
  })

  it('the default reserve is min(64 MiB, half the filesystem)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gw-disk-'))
    dirs.push(dir)
    const small = async (): Promise<FsSpace> => ({ bavail: 128, bsize: 4096, blocks: 1024 }) // 4 MiB fs, 0.5 MiB free
    const store = new LevelStore({ dir, maxBytes: 1e9, maxAgeMs: 1e12, uplinks: ['u1'], statfs: small })
    stores.push(store)
    await store.open()
    // 0.5 MiB free is below 3/4 of the 2 MiB default reserve: nothing is stored.
    expect(await store.append({ events: makeEvents(0, 1), counters: new Map() })).toMatchObject({ accepted: 0, rejected: 1 })
  })
})

describe('recovery from a sticky LevelDB write error (real tmpfs)', () => {
  const mountDir = mkdtempSync(join(tmpdir(), 'gw-enospc-'))
  dirs.push(mountDir)

  it('after ENOSPC the store refuses writes, reopens LevelDB once space is back, and nothing stored is lost', async (ctx) => {
    const mounted = mountTmpfs(mountDir, '4m')
    if (!mounted.mounted) return ctx.skip()
    mounts.push(mountDir)
    const dir = join(mountDir, 'queue')
    // minFreeBytes 0: no guard, so LevelDB meets ENOSPC itself (as when another program fills the disk).
    const store = new LevelStore({ dir, maxBytes: 1e9, maxAgeMs: 1e12, uplinks: ['u1'], minFreeBytes: 0, diskCheckIntervalMs: 50 })
    stores.push(store)
    await store.open()
    await store.append({ events: makeEvents(0, 100), counters: new Map([['src', 100]]) })
    // Another program fills the filesystem.
    const { bavail, bsize } = await statfs(mountDir)
    const filler = join(mountDir, 'filler')
    writeFileSync(filler, Buffer.alloc(Math.max(0, bavail * bsize - 16 * 1024)))
    let failures = 0
    let next = 100
    for (let i = 0; i < 200 && failures === 0; i++) {
      try {
        await store.append({ events: makeEvents(next, 50), counters: new Map([['src', next + 50]]) })
        next += 50
      } catch {
        failures++
      }
    }
    expect(failures).toBe(1)
    const storedBefore = next
    // Broken: writes fail fast, reads still work.
    await expect(store.append({ events: makeEvents(next, 1), counters: new Map() })).rejects.toMatchObject({ code: 'GW_ERR_STORE_FULL' })
    rmSync(filler)
    // The store reopens LevelDB by itself once there is space again (polling statfs every 50 ms).
    const deadline = Date.now() + 10_000
    for (;;) {
      try {
        await store.append({ events: makeEvents(next, 1), counters: new Map([['src', next + 1]]) })
        break
      } catch (err) {
        if (Date.now() > deadline) throw err
        await store.waitForAppend(AbortSignal.timeout(50)) // returns on the timeout: nothing else appends
      }
    }
    const all = await readAll(store, 'u1')
    expect(ids(all)).toEqual(ids(makeEvents(0, storedBefore + 1)))
    await store.ack('u1', all)
    await store.close()
    const again = new LevelStore({ dir, maxBytes: 1e9, maxAgeMs: 1e12, uplinks: ['u1'], minFreeBytes: 0 })
    stores.push(again)
    await again.open()
    expect(await readAll(again, 'u1')).toEqual([])
    expect((await again.counters()).get('src')).toBe(storedBefore + 1)
  })
})
