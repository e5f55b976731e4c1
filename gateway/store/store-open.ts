/** LevelStore.open(): salvage if needed, rebuild the in-memory view, build the writer. */
import { Level } from 'level'
import type { Logger } from '../core/observability.js'
import type { WhenFull } from '../core/types.js'
import { loadDeadLetterAreas } from './dead-letters.js'
import type { DiskSpaceGuard } from './disk-space-guard.js'
import type { DropCounter } from './drop-counter.js'
import { LogWriter, type StoreContext } from './log-writer.js'
import { setKeyLayout } from './key-layout.js'
import { loadState } from './open-state.js'
import { emptyRecent } from './recent-entries.js'
import { openSalvaging, type SalvageReport } from './salvage.js'
import type { Notifier } from './serial-lock.js'
import type { StoreClock } from './store-clock.js'
import { toStoreError } from './store-util.js'

export interface OpenConfig {
  dir: string
  uplinks: string[]
  maxBytes: number
  maxAgeMs: number
  whenFull: WhenFull
  /** LevelDB write buffer (memtable) bytes, from the filesystem's size (disk-space-guard.ts). */
  writeBufferSize: number
}

export interface OpenDeps {
  log: Logger
  drops: DropCounter
  now: () => number
  clock: StoreClock
  onReadError: (err: unknown) => void
  onLostEntries: (count: number) => void
  space: Notifier
  appended: Notifier
  disk: DiskSpaceGuard
}

async function openAndLoad(config: OpenConfig) {
  // A small block cache: a Pi has little RAM, and the queue is read once, in order, so a large
  // one buys nothing (LevelDB's default: 8 MiB). The write buffer comes from the filesystem's size
  // (leveldb-footprint.ts: up to 8 MiB, which saves compactions).
  const db = new Level<string, Buffer>(config.dir, {
    keyEncoding: 'utf8',
    valueEncoding: 'buffer',
    cacheSize: 1024 * 1024,
    writeBufferSize: config.writeBufferSize,
  })
  try {
    await db.open()
    await setKeyLayout(db, 2)
    const loaded = await loadState(db, config.uplinks)
    const deadLetters = await loadDeadLetterAreas(db, config.uplinks)
    return { db, loaded, deadLetters }
  } catch (err) {
    await db.close().catch(() => undefined)
    throw err
  }
}

export async function openStoreContext(config: OpenConfig, deps: OpenDeps): Promise<{ ctx: StoreContext; writer: LogWriter; report: SalvageReport }> {
  const { log, drops } = deps
  const { value, report } = await openSalvaging(config.dir, log, deps.now(), () => openAndLoad(config))
  const { db, loaded, deadLetters } = value
  try {
    deps.clock.resume(loaded.storeMs)
    const ctx: StoreContext = {
      db,
      logs: loaded.logs,
      cursors: loaded.cursors,
      counters: loaded.counters,
      deadLetters: deadLetters.areas,
      drops,
      now: deps.now,
      clock: deps.clock,
      onReadError: deps.onReadError,
      onLostEntries: deps.onLostEntries,
      space: deps.space,
      appended: deps.appended,
      disk: deps.disk,
      recent: emptyRecent(),
      log,
    }
    const writer = new LogWriter(ctx, { maxBytes: config.maxBytes, maxAgeMs: config.maxAgeMs, whenFull: config.whenFull })
    drops.add('corrupt_entry', loaded.damagedEntries + loaded.lostEntries)
    if (loaded.lostEntries > 0) {
      report.lostEntries = loaded.lostEntries
      log.error({ code: 'GW_ERR_STORE_CORRUPT', lostEntries: loaded.lostEntries, reason: 'corrupt_entry' },
        'store: the oldest queued entries are missing (LevelDB lost them with a damaged file); counted as corrupt_entry')
    }
    if (loaded.damagedEntries > 0 || loaded.damagedKeys.length > 0) {
      const { damagedEntries, damagedKeys } = loaded
      log.error({ code: 'GW_ERR_STORE_CORRUPT', damagedEntries, damagedKeys: damagedKeys.slice(0, 20) }, 'store found damaged values at open; deleted damaged entries at the front, ignored damaged cursors/counters')
    }
    const removed = [...new Set([...loaded.removedUplinks, ...deadLetters.removed])]
    if (removed.length > 0) log.info({ removed }, 'store deleted cursors and dead letters of uplinks no longer configured')
    await writer.collect() // e.g. what only a removed uplink was holding back
    return { ctx, writer, report }
  } catch (err) {
    await db.close().catch(() => undefined)
    throw toStoreError(err, config.dir)
  }
}
