/**
 * The emergency disk reserve (reserve-file.ts) and its use by write-recovery.ts: a store whose
 * disk is full and that nobody else frees space for must not stay stuck. Real tmpfs (root only;
 * skipped otherwise, as in disk-space-guard.test.ts).
 */
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { statfs } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { ids, makeEvents, readAll } from '../../test/contract/store-contract-support.js'
import { mountTmpfs, unmountTmpfs } from '../../test/support/chaos-tmpfs.js'
import { RecordingLogger } from '../../test/support/recording-logger.js'
import { LevelStore } from './level-store.js'
import { reserveFileBytes, reserveFilePath } from './reserve-file.js'

const MiB = 1024 * 1024
/** The reserve these tests give the store on their 4 MiB tmpfs (1/32 of it; by default it would have none). */
const RESERVE = 128 * 1024
const stores: LevelStore[] = []
const mounts: string[] = []
const dirs: string[] = []

afterEach(async () => {
  for (const s of stores.splice(0)) await s.close().catch(() => undefined)
  for (const m of mounts.splice(0)) unmountTmpfs(m)
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

/** A fresh 4 MiB tmpfs, unmounted after the test; undefined where tmpfs cannot be mounted (not root). */
function smallFilesystem(): string | undefined {
  const mountDir = mkdtempSync(join(tmpdir(), 'gw-reserve-'))
  dirs.push(mountDir)
  if (!mountTmpfs(mountDir, '4m').mounted) return undefined
  mounts.push(mountDir)
  return mountDir
}

/** What the store logs when its reserve is in place (store-core.ts) and when LevelDB reopened (write-recovery.ts). */
const RESERVE_MADE = 'emergency disk reserve in place'
const REOPENED = 'LevelDB reopened after a failed write'
/** What it logs, at error level, each time it deletes its reserve. */
const RESERVE_USED = 'deleted the emergency disk reserve'

describe('emergency disk reserve', () => {
  it('is min(8 MiB, 1/32 of the filesystem) in whole blocks, none when the size is unknown', () => {
    expect(reserveFileBytes(4 * MiB)).toBe(0) // too small: the reserve would eat the guard's margin
    expect(reserveFileBytes(64 * MiB)).toBe(2 * MiB)
    expect(reserveFileBytes(1024 * MiB)).toBe(8 * MiB)
    expect(reserveFileBytes(undefined)).toBe(0)
    expect(reserveFilePath('/data/queue')).toBe('/data/queue.reserve')
  })

  it('a restart on a disk full to the last block opens: the store deletes its reserve when LevelDB cannot open for lack of space', async (ctx) => {
    const mountDir = smallFilesystem()
    if (!mountDir) return ctx.skip()
    const dir = join(mountDir, 'queue')
    const firstLog = new RecordingLogger()
    const first = new LevelStore({ dir, maxBytes: 1e9, maxAgeMs: 1e12, uplinks: ['u1'], emergencyReserveBytes: RESERVE, minFreeBytes: 0, log: firstLog })
    stores.push(first)
    await first.open()
    await first.append({ events: makeEvents(0, 100), counters: new Map([['src', 100]]) })
    await firstLog.waitFor(RESERVE_MADE)
    expect(existsSync(reserveFilePath(dir))).toBe(true)
    await first.close()
    const { bavail, bsize } = await statfs(mountDir)
    writeFileSync(join(mountDir, 'filler'), Buffer.alloc(bavail * bsize)) // stays: nobody frees space
    const log = new RecordingLogger()
    const again = new LevelStore({ dir, maxBytes: 1e9, maxAgeMs: 1e12, uplinks: ['u1'], emergencyReserveBytes: RESERVE, minFreeBytes: 0, log })
    stores.push(again)
    await again.open() // LevelDB writes a new log, manifest and info log at open: without room it fails
    expect(log.lines.filter((l) => l.level === 'error' && l.msg?.includes('emergency disk reserve'))).toHaveLength(1)
    const entries = await readAll(again, 'u1')
    expect(ids(entries)).toEqual(ids(makeEvents(0, 100)))
    await again.ack('u1', entries)
    expect(await readAll(again, 'u1')).toEqual([])
  })

  it('when the disk is full and nothing frees space, the store deletes its reserve, reopens, takes acks and appends again; nothing stored is lost', async (ctx) => {
    const mountDir = smallFilesystem()
    if (!mountDir) return ctx.skip()
    const dir = join(mountDir, 'queue')
    const reserve = reserveFilePath(dir)
    const log = new RecordingLogger()
    // No reserve for the guard (minFreeBytes 0) and no fresh sample while the test runs: its
    // estimate is the sample taken at open, so it never refuses and LevelDB itself meets ENOSPC
    // (what a too optimistic guard, a compaction bigger than its estimate or other files lead to).
    // reject_new: nothing is ever evicted, so every entry stored must come back.
    const store = new LevelStore({ dir, maxBytes: 1e9, maxAgeMs: 1e12, uplinks: ['u1'], whenFull: 'reject_new', emergencyReserveBytes: RESERVE, minFreeBytes: 0, diskCheckIntervalMs: 60_000, expiryIntervalMs: 50, log })
    stores.push(store)
    await store.open()
    await log.waitFor(RESERVE_MADE)
    expect(statSync(reserve).size).toBe(RESERVE)
    await store.append({ events: makeEvents(0, 100), counters: new Map([['src', 100]]) })

    // The disk fills to the last block, and nothing will ever free any of it (the filler stays
    // for the whole test: to LevelDB it is the same as its own tables filling the disk).
    const { bavail, bsize } = await statfs(mountDir)
    writeFileSync(join(mountDir, 'filler'), Buffer.alloc(bavail * bsize))
    let next = 100
    let failures = 0
    for (let i = 0; i < 200 && failures === 0; i++) {
      try {
        expect(await store.append({ events: makeEvents(next, 50), counters: new Map([['src', next + 50]]) })).toEqual({ accepted: 50, rejected: 0, evicted: 0 })
        next += 50
      } catch (err) {
        expect(err).toMatchObject({ message: expect.stringMatching(/No space left/) })
        failures++
      }
    }
    expect(failures).toBe(1)
    const storedBefore = next

    // Without the reserve LevelDB could not even reopen (it writes a table and a manifest first):
    // acks, which are writes, would fail for good. With it the store reopens by itself, and the
    // queue drains by acks alone.
    // Read and ack once LevelDB reopened. A write that fails during the recovery's own follow-up
    // starts another recovery: then read and ack again after the next reopen.
    let acked: number | undefined
    for (let reopens = 1; acked === undefined; reopens++) {
      await log.waitFor(REOPENED, reopens)
      try {
        const entries = await readAll(store, 'u1')
        await store.ack('u1', entries)
        acked = entries.length
      } catch {
        store.rewind('u1')
      }
    }
    expect(acked).toBe(storedBefore) // everything stored was still there, in order (checked below)
    // Used once (logged at error level); it may be back already if the acks' deletes were compacted.
    expect(log.matching(RESERVE_USED)).toHaveLength(1)
    expect(await store.append({ events: makeEvents(next, 10), counters: new Map([['src', next + 10]]) })).toEqual({ accepted: 10, rejected: 0, evicted: 0 })
    expect(ids(await readAll(store, 'u1'))).toEqual(ids(makeEvents(next, 10)))

    // Once space is back (here: the filler goes) the store makes its reserve again.
    rmSync(join(mountDir, 'filler'))
    await log.waitFor(RESERVE_MADE, 2)
    expect(existsSync(reserve)).toBe(true)
    await store.close()
    const again = new LevelStore({ dir, maxBytes: 1e9, maxAgeMs: 1e12, uplinks: ['u1'], emergencyReserveBytes: RESERVE, minFreeBytes: 0 })
    stores.push(again)
    await again.open()
    expect(ids(await readAll(again, 'u1'))).toEqual(ids(makeEvents(next, 10)))
    expect((await again.counters()).get('src')).toBe(next + 10)
  })
})
