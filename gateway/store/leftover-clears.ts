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
 */
import type { Priority } from '../core/types.js'
import type { DiskSpaceGuard } from './disk-space-guard.js'
import type { LevelDb } from './front-trimmer.js'
import { entryKey } from './keys.js'

interface OffsetRange {
  fromOffset: number
  throughOffset: number
}

export class LeftoverClears {
  private readonly ranges = new Map<Priority, OffsetRange>()

  /** @param tombstoneBytes charged to the free-space estimate per entry a clear deletes */
  constructor(
    private readonly db: LevelDb,
    private readonly disk: DiskSpaceGuard,
    private readonly tombstoneBytes: number,
  ) {}

  /** Whether a range waits for its clear (one failed). */
  get pending(): boolean {
    return this.ranges.size > 0
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
    for (const [priority, range] of [...this.ranges]) {
      await this.db.clear({ gte: entryKey(priority, range.fromOffset), lte: entryKey(priority, range.throughOffset) })
      this.ranges.delete(priority)
      this.disk.noteDeleted()
    }
  }
}
