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
import type { Logger } from '../core/observability.js'
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

/** Keeps the messages logged at error level (children share them). */
function errorLog(messages: string[]): Logger {
  const noop = (): void => undefined
  const log: Logger = { debug: noop, info: noop, warn: noop, error: (obj, msg) => void messages.push(msg ?? String(obj)), child: () => log }
  return log
}

/** Polls `check` every 20 ms until it holds (the store's background work has no event to await), at most `ms`. */
async function until(what: string, check: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

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
    const first = new LevelStore({ dir, maxBytes: 1e9, maxAgeMs: 1e12, uplinks: ['u1'], emergencyReserveBytes: RESERVE, minFreeBytes: 0 })
    stores.push(first)
    await first.open()
    await first.append({ events: makeEvents(0, 100), counters: new Map([['src', 100]]) })
    await until('the reserve is made', () => existsSync(reserveFilePath(dir)))
    await first.close()
    const { bavail, bsize } = await statfs(mountDir)
    writeFileSync(join(mountDir, 'filler'), Buffer.alloc(bavail * bsize)) // stays: nobody frees space
    const errors: string[] = []
    const again = new LevelStore({ dir, maxBytes: 1e9, maxAgeMs: 1e12, uplinks: ['u1'], emergencyReserveBytes: RESERVE, minFreeBytes: 0, log: errorLog(errors) })
    stores.push(again)
    await again.open() // LevelDB writes a new log, manifest and info log at open: without room it fails
    expect(errors.filter((m) => m.includes('emergency disk reserve'))).toHaveLength(1)
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
    const errors: string[] = []
    // No reserve for the guard (minFreeBytes 0) and no fresh sample while the test runs: its
    // estimate is the sample taken at open, so it never refuses and LevelDB itself meets ENOSPC
    // (what a too optimistic guard, a compaction bigger than its estimate or other files lead to).
    // reject_new: nothing is ever evicted, so every entry stored must come back.
    const store = new LevelStore({ dir, maxBytes: 1e9, maxAgeMs: 1e12, uplinks: ['u1'], whenFull: 'reject_new', emergencyReserveBytes: RESERVE, minFreeBytes: 0, diskCheckIntervalMs: 60_000, expiryIntervalMs: 50, log: errorLog(errors) })
    stores.push(store)
    await store.open()
    await until('the reserve is made', () => existsSync(reserve))
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
    let acked = 0
    await until('acks are written again', async () => {
      try {
        const entries = await readAll(store, 'u1')
        await store.ack('u1', entries)
        acked = entries.length
        return true
      } catch {
        store.rewind('u1') // a read or an ack refused while LevelDB is being reopened
        return false
      }
    })
    expect(acked).toBe(storedBefore) // everything stored was still there, in order (checked below)
    // Used once (logged at error level); it may be back already if the acks' deletes were compacted.
    expect(errors.filter((m) => m.includes('emergency disk reserve'))).toHaveLength(1)
    expect(await store.append({ events: makeEvents(next, 10), counters: new Map([['src', next + 10]]) })).toEqual({ accepted: 10, rejected: 0, evicted: 0 })
    expect(ids(await readAll(store, 'u1'))).toEqual(ids(makeEvents(next, 10)))

    // Once space is back (here: the filler goes) the store makes its reserve again.
    rmSync(join(mountDir, 'filler'))
    await until('the reserve is made again', () => existsSync(reserve))
    await store.close()
    const again = new LevelStore({ dir, maxBytes: 1e9, maxAgeMs: 1e12, uplinks: ['u1'], emergencyReserveBytes: RESERVE, minFreeBytes: 0 })
    stores.push(again)
    await again.open()
    expect(ids(await readAll(again, 'u1'))).toEqual(ids(makeEvents(next, 10)))
    expect((await again.counters()).get('src')).toBe(next + 10)
  })
})
