/**
 * Acked ranges that wait for their db.clear (log-writer.ts collect).
 *
 * Invariants
 * - A range is added only after the batch that moved its class's front key past it was written, and
 *   memory moved with that batch: from then on its entries are garbage, exactly as after a crash
 *   between that batch and the clear. They lie below the front, so no read, count, eviction or
 *   expiry ever meets them again.
 * - A clear that fails keeps its range here, to be retried; nothing else depends on it succeeding:
 *   the ack (or dead letter) whose batch queued it is written and stays successful.
 * - The free-space estimate is charged once per range, when it is added (one tombstone per entry,
 *   like a `del`): retries delete only what an earlier attempt left, so charging every attempt
 *   would count the same entries again (for a 1M-entry range, 64 MB per retry) and could make the
 *   guard evict live telemetry for space that is not used.
 * - A crash or close forgets the ranges: open() clears every entry below the front key
 *   (open-state.ts loadFront).
 * - At most one range per class: everything between two ranges of a class lies below its front
 *   too, so their union is garbage as well.
 * - Used only under the store's write lock (like LogWriter), so a range cannot change mid-clear.
 * - Visible while it lasts: `stats` (StoreStats.leftoverClears, the metric
 *   edge_gateway_store_leftover_entries); the clear that finally empties the queue after failures
 *   logs once at info, however many ranges and attempts it took.
 * - Not counted against maxBytes (StoreStats.bytes, eviction, whenFull): eviction deletes live
 *   entries at the front and cannot free a leftover, which goes only when its clear succeeds; so
 *   counting them would turn a failing clear into evicted (drop_oldest), refused (reject_new) or
 *   held back (block) readings without freeing a byte. Their disk use is bounded by the
 *   free-space guard instead: it is charged their tombstones (above), and statfs sees what they
 *   really occupy.
 */
import type { Logger } from '../core/observability.js'
import type { LeftoverClearStats, Priority } from '../core/types.js'
import type { DiskSpaceGuard } from './disk-space-guard.js'
import type { LevelDb } from './front-trimmer.js'
import { entryKey } from './keys.js'

interface OffsetRange {
  fromOffset: number
  throughOffset: number
}

export class LeftoverClears {
  private readonly ranges = new Map<Priority, OffsetRange>()
  /** Clears that failed since the queue was last empty (for the recovery log line). */
  private failedAttempts = 0

  /** @param tombstoneBytes charged to the free-space estimate per entry a clear deletes */
  constructor(
    private readonly db: LevelDb,
    private readonly disk: DiskSpaceGuard,
    private readonly tombstoneBytes: number,
    private readonly log: Logger,
  ) {}

  /** Whether a range waits for its clear (one failed). */
  get pending(): boolean {
    return this.ranges.size > 0
  }

  /**
   * What waits for its clear. `entries` spans each range, so it is an upper bound: a clear that
   * failed midway may have deleted a part, and entries acked key by key between two merged ranges
   * are gone already.
   */
  get stats(): LeftoverClearStats {
    let entries = 0
    for (const range of this.ranges.values()) entries += range.throughOffset - range.fromOffset + 1
    return { ranges: this.ranges.size, entries }
  }

  /** Queues [fromOffset, throughOffset] of a class, already below its front on disk and in memory. */
  add(priority: Priority, fromOffset: number, throughOffset: number): void {
    this.disk.noteWritten((throughOffset - fromOffset + 1) * this.tombstoneBytes)
    const known = this.ranges.get(priority)
    this.ranges.set(priority, known
      ? { fromOffset: Math.min(known.fromOffset, fromOffset), throughOffset: Math.max(known.throughOffset, throughOffset) }
      : { fromOffset, throughOffset })
  }

  /**
   * Clears every queued range. Rejects with the first clear's error; that range and those not
   * reached stay queued for the next call.
   */
  async clear(): Promise<void> {
    const before = this.stats
    for (const [priority, range] of [...this.ranges]) {
      try {
        await this.db.clear({ gte: entryKey(priority, range.fromOffset), lte: entryKey(priority, range.throughOffset) })
      } catch (err) {
        this.failedAttempts++
        throw err
      }
      this.ranges.delete(priority)
      this.disk.noteDeleted()
    }
    if (this.failedAttempts > 0) {
      // Failures were logged by whoever retried (the store's timer); this says they are over.
      this.log.info({ ...before, failedAttempts: this.failedAttempts }, 'store cleared the acked entries that earlier failed clears had left on disk')
      this.failedAttempts = 0
    }
  }
}
