/**
 * LevelStore: the gateway's durable queue on LevelDB (`level` -> classic-level).
 *
 * Invariants
 * - One log per priority class (alert, telemetry). Offsets strictly increase per class and are
 *   never reused: open() takes the max of the meta key, the last key and every cursor.
 * - Live offsets of a class are contiguous [first, next): entries leave only from the front (acked
 *   by every uplink, evicted when full, expired), so counts and bytes are subtractions of offsets
 *   and of the cumulative byte counter stored in each value. The one exception is damage (below):
 *   an offset inside the range may be unreadable or missing; it is then passed over as if acked.
 * - Memory is O(classes + uplinks + sources + in-flight acks), never O(backlog): no entry index;
 *   open() reads the first and last entry of each class, not the log. Known damage is a capped
 *   list of offset ranges. The newest entries of each class stay in memory for reads at the tail
 *   (recent-entries.ts), bounded (8,192 entries, 4 MiB per class) and only while some uplink
 *   reads near the tail.
 * - Alerts are never evicted to make room for telemetry. Every drop is counted by DropReason.
 * - Queue order is offset order, never time: a wall-clock step cannot reorder anything.
 *
 * Key layout 2 (utf8 keys; numbers zero-padded to 16 digits so key order is queue order). Every
 * key that is rewritten sorts before the entries, so that LevelDB can drop acked entries early in
 * its compactions (keys.ts says why; open() moves layout 1's `m!` and `s!` keys, key-layout.ts):
 *   M!a, M!t              "next,cumBytes" of the class, written with every append to it
 *   M!c                   store time (store-clock.ts): with every append, every minute, at close
 *   M!f!a, M!f!t          first live offset of the class, with every write that deletes at its front
 *   S!<source>            CloudEvent sequence counter of a source
 *   c!<uplink>!a|t        highest contiguous acked offset of the uplink in that class
 *   d!<uplink>!<seq>      dead letter (JSON: entry, reason, message, time)
 *   e!a!<offset>          alert entry      value: CRC32 + times + CloudEvent JSON (value-codec.ts)
 *   e!t!<offset>          telemetry entry
 *
 * Append: resolves after ONE db.batch({ sync: true }) holding the evictions, the entries, the meta
 * keys, the counters and the store time, so counters are durable exactly with their events.
 * Exception: with whenFull=block, a batch that does not fit as a whole commits its alerts first
 * and its telemetry in parts once there is room; aborted while waiting, it rejects with what those
 * parts stored (AppendAbortedError.committed).
 *
 * Ack: the peer confirmed. The uplink's cursor moves over the contiguous acked prefix (acks beyond
 * a gap wait in memory); what every configured uplink has acked is deleted: short ranges in the
 * same batch as the cursors and the class front key, long ones (10,000+) by a db.clear right after
 * it. The in-memory front moves with that batch: a crash before the clear, or a clear that fails,
 * leaves entries below the front key that nothing counts, reads, evicts or expires; the ack itself
 * succeeds (its batch is written); a failed clear is retried (next ack, background timer) and
 * shown meanwhile (stats().leftoverClears), and open() clears whatever is left. An offset that
 * was evicted or expired counts as acked. Read positions are memory only.
 *
 * Time (store-clock.ts): maxAge and every age are measured in STORE TIME = the store time last
 * saved + monotonic time since open. A Pi without RTC boots at 1970 or at its last fake-hwclock
 * save and steps when NTP syncs; a step forward by years expires nothing, a step back keeps
 * nothing forever. Entries carry their store time for expiry and their wall time
 * (Entry.appendedMs) for display. Time the gateway is not running does not count as age: the
 * safe direction (data may outlive maxAge, bounded by maxBytes; it is never expired early).
 *
 * Disk space (disk-space-guard.ts, write-recovery.ts)
 * - Free space on the filesystem is a second limit besides maxBytes: below `minFreeBytes` the store
 *   counts as full and whenFull applies; below 3/4 of it nothing new is stored. So LevelDB does
 *   not meet ENOSPC through the store's own writes, and acks (deletes) have room, as long as the
 *   guard's estimate holds (it is an estimate: the next two points are for when it did not).
 * - A write that fails for lack of space anyway (LevelDB then fails every later write) makes the
 *   store refuse writes until it has reopened LevelDB, once there is space again.
 * - Emergency reserve (reserve-file.ts): a file of min(8 MiB, fs/32) real bytes beside the store
 *   (`<dir>.reserve`; none on a filesystem under 64 MiB). When no space comes back after such a failure, or LevelDB cannot open for
 *   lack of space (also at a restart), the store deletes it (logged at error level) so LevelDB can
 *   reopen and acks can free the rest, and makes it again once there is room. It buys LevelDB's
 *   open and a few writes, not a compaction of the whole store: see write-recovery.ts.
 *
 * Damage (salvage.ts, child-salvage.ts, entry-scanner.ts, reader.ts)
 * - open() on a DB that LevelDB cannot open or that does not load: LevelDB repair, in a child
 *   process on a snapshot (LevelDB can abort() on a damaged table); if that fails, the directory is
 *   renamed to `<dir>.damaged-<UTC time>` (kept, never deleted) and what is readable in it is
 *   copied into a new store (again in child processes; built beside `<dir>` and renamed to it only
 *   when done, so a crash mid-copy never opens a half copy). Logged GW_ERR_STORE_CORRUPT; the
 *   outcome is `salvage` (a SalvageReport). Environment errors (LOCK held, disk full, permissions)
 *   still throw.
 * - Entries missing at the front of a class at open (between the front key M!f and the first
 *   entry: a lost table) are counted `corrupt_entry`; entries below the front key are cleared.
 * - Every value carries a CRC32 (LevelDB does not verify block checksums on reads). A value that
 *   fails it, or an offset LevelDB lost, is left out of reads and passed over by every cursor;
 *   counted once as `corrupt_entry`. Damaged entries met at the front are deleted. Reads never
 *   reject because of damage, so a forwarder never stops on it.
 * - A LevelDB read error while running (unreadable table block) is survived by re-seeking past it;
 *   the store also drops a REPAIR-REQUESTED file so the next open() repairs first
 *   (`salvage.repairOnNextOpen`), because LevelDB's compaction will trip over that block again.
 *   Only for damage (store-util.isDamage): a read error of the machine (EMFILE...) is just logged.
 *
 * Code: store-core.ts holds the lifecycle (options, open with salvage, close, background work,
 * locking); this file the Store API; log-writer.ts every write; reader.ts every read;
 * recent-entries.ts the newest entries a read at the tail gets without LevelDB.
 *
 * What a crash loses
 * - After append resolved: nothing, on kill -9 or power cut (fsync). An append in flight is all
 *   or nothing (LevelDB batches are atomic).
 * - Acks, expiry, collection and the periodic store-time save are written without fsync: kill -9
 *   loses none (the OS has the write); a power cut may undo the latest, and those entries are sent
 *   again with the same CloudEvent id (duplicates, never loss), or look younger than they are.
 *   Out-of-order acks held in memory are resent too.
 */
import { GatewayError, PartialAppendError, withSettled } from '../core/errors.js'
import { PRIORITIES, type AppendBatch, type AppendResult, type DeadLetter, type Entry, type Store, type StoreStats } from '../core/types.js'
import { prepareEvents } from './append-plan.js'
import { deadLetterEntries, purgeDeadLetterArea, requeueDeadLetterChunk } from './dead-letter-ops.js'
import { readDeadLetters } from './dead-letters.js'
import { effectiveAcked, readThrough } from './log-state.js'
import { readClass, readQueue } from './reader.js'
import { SerialLock } from './serial-lock.js'
import { REQUEUE_CHUNK, StoreCore } from './store-core.js'
import { computeStats } from './store-stats.js'
import { isDamage, mergeIndices } from './store-util.js'

export type { SalvageReport } from './salvage.js'
export type { LevelStoreOptions } from './store-core.js'

/** The durable store. Construct, then `open()`; every other method rejects with GW_ERR_STORE_CLOSED until then and after `close()`. */
export class LevelStore extends StoreCore implements Store {
  private readonly readLocks = new Map<string, SerialLock>()

  /**
   * Stores the events and `batch.counters` durably (see design block); events larger than maxBytes
   * are refused. With whenFull=block, waits for room; if `signal` aborts first it rejects with
   * AppendAbortedError (GW_ERR_STORE_FULL) whose `committed` counts what is already stored: the
   * batch's alerts and a prefix of its telemetry may be (retrying them only duplicates them).
   * Any other failure after something was settled (parts stored, oversize events refused)
   * rejects with a PartialAppendError carrying the same counts. Which events were refused
   * (`refused`) and, on failure, lost (`lost`) is said by index, so a caller can tell whose they were.
   */
  async append(batch: AppendBatch, signal?: AbortSignal): Promise<AppendResult> {
    this.assertOpen()
    const prepared = prepareEvents(batch.events, { wallMs: this.now(), storeMs: this.clock.now() })
    const fitting = prepared.filter((p) => p.sizeBytes <= this.opts.maxBytes)
    // Refused wherever they sit in the batch; listed only when there are any (the hot path has none).
    const oversize = fitting.length === prepared.length ? undefined : prepared.filter((p) => p.sizeBytes > this.opts.maxBytes).map((p) => p.index)
    this.drops.add('store_full_rejected', oversize?.length ?? 0)
    const withOversize = (r: AppendResult): AppendResult => (oversize ? { ...r, rejected: r.rejected + oversize.length, refused: mergeIndices(r.refused, oversize) } : r)
    if (fitting.length === 0 && batch.counters.size === 0) return withOversize({ accepted: 0, rejected: 0, evicted: 0 })
    const committing = this.whenFull === 'block'
      ? this.blocking.append(fitting, batch.counters, signal)
      : this.commitLocked(fitting, batch.counters, { allOrNothing: false, stopOnReject: false }).then((r) => r!)
    try {
      return withOversize(await this.track(committing))
    } catch (err) {
      // The oversize events were refused (and counted) before anything was written; a failure
      // after that must not hide them, nor the parts a blocking append already committed.
      if (err instanceof PartialAppendError && oversize) Object.assign(err.committed, withOversize(err.committed)) // the error's own copy
      // Unless the blocking appender said which parts are stored, nothing is: every fitting event is lost.
      throw withSettled(err, withOversize({ accepted: 0, rejected: 0, evicted: 0 }), fitting.map((p) => p.index))
    }
  }

  async counters(): Promise<Map<string, number>> {
    this.assertOpen()
    return new Map(this.ctx!.counters)
  }

  /**
   * See Store.read. Reads of one uplink run one at a time. Damaged or missing entries are left out
   * and every cursor passes over them (counted `corrupt_entry`). @throws TypeError for an unknown uplink.
   */
  async read(uplink: string, maxEvents: number, maxBytes: number): Promise<Entry[]> {
    this.assertOpen()
    const state = this.cursorsOf(uplink)
    let readLock = this.readLocks.get(uplink)
    if (!readLock) this.readLocks.set(uplink, (readLock = new SerialLock()))
    const limits = { maxEvents, maxBytes, onReadError: (err: unknown) => this.noteReadError(err) }
    const got = await this.track(readLock.run(() => this.reading(() => readQueue(this.ctx!.db, this.ctx!.logs, state, limits, this.ctx!))))
    if (got.skipped.length > 0) {
      await this.track(this.locked((w) => w.skipDamaged(got.skipped))).catch((err: unknown) => {
        if ((err as GatewayError).code !== 'GW_ERR_STORE_CLOSED') this.log.error({ err }, 'store could not pass over damaged entries')
      })
    }
    return got.entries
  }

  /** See Store.unread. Zero before open and after close. */
  unread(uplink: string): number {
    if (this.state !== 'open') return 0
    const state = this.cursorsOf(uplink)
    let count = 0
    for (const priority of PRIORITIES) {
      const log = this.ctx!.logs[priority]
      count += Math.max(0, log.next - 1 - readThrough(state[priority], log))
    }
    return count
  }

  /** See Store.rewind. A read in flight during a rewind does not move the position forward again. */
  rewind(uplink: string): void {
    if (this.state !== 'open') return
    const state = this.cursorsOf(uplink)
    for (const priority of PRIORITIES) {
      state[priority].readPos = effectiveAcked(state[priority], this.ctx!.logs[priority])
      state[priority].readEpoch++
    }
  }

  /**
   * See Store.ack. Acking an entry twice, or one already evicted, is harmless. When LevelDB
   * reports damage while writing the ack, the ack is kept in memory and logged instead of failing
   * the forwarder: a lost ack only means those entries are sent again after a restart.
   */
  async ack(uplink: string, entries: Entry[]): Promise<void> {
    this.assertOpen()
    this.cursorsOf(uplink)
    return this.track(this.locked((w) => w.ack(uplink, entries))).catch((err: unknown) => {
      if (err instanceof GatewayError || !isDamage(err)) throw err
      this.log.error({ code: 'GW_ERR_STORE_CORRUPT', err, uplink, events: entries.length }, 'store could not persist an ack (LevelDB damage); kept in memory, resent after a restart')
    })
  }

  /** See Store.deadLetter. Counted `dead_letter`; copies beyond maxDeadLetters drop the oldest (logged `dead_letter_overflow`). */
  async deadLetter(uplink: string, entries: Entry[], reason: string, message: string): Promise<void> {
    this.assertOpen()
    this.cursorsOf(uplink)
    const details = { reason, message, maxDeadLetters: this.opts.maxDeadLetters ?? 10_000 }
    return this.track(this.locked((w) => deadLetterEntries(this.ctx!, w, uplink, entries, details)))
  }

  /** Resolves on the next append that stored something, when `signal` aborts, or at close. */
  async waitForAppend(signal: AbortSignal): Promise<void> {
    if (this.state === 'closing' || this.state === 'closed') return
    await this.appended.wait(signal)
  }

  /** See Store.waitForBlockedAppends: lets a caller see an append is blocked without a timer. */
  async waitForBlockedAppends(count: number, signal: AbortSignal): Promise<void> {
    while (this.state === 'open' && !signal.aborted && this.blocking.waiting < count) await this.blocking.parked.wait(signal)
  }

  /** Synchronous, from memory only. Before open everything is zero. Ages are in store time. */
  stats(): StoreStats {
    const live = { leftoverClears: this.writer?.leftoverStats, blockedAppends: this.blocking.waiting }
    return computeStats(this.ctx, this.opts, this.clock.now(), this.drops.drops(), live)
  }

  /** Oldest `limit` dead letters of the uplink (operator CLI); damaged ones are left out. @default limit 100 */
  async deadLetters(uplink: string, limit = 100): Promise<DeadLetter[]> {
    this.assertOpen()
    this.cursorsOf(uplink)
    const rows = await this.track(this.reading(() => readDeadLetters(this.ctx!.db, uplink, limit)))
    return rows.flatMap((r) => (r.letter ? [r.letter] : []))
  }

  /**
   * Re-appends the uplink's dead letters as new entries (same CloudEvent and id; every uplink
   * will send them again) and removes them. Stops at the first that does not fit under whenFull
   * (never waits). Resolves with how many were requeued.
   */
  async requeueDeadLetters(uplink: string): Promise<number> {
    this.assertOpen()
    this.cursorsOf(uplink)
    let requeued = 0
    for (;;) {
      this.assertOpen() // between chunks too: close() must not wait for a long requeue
      const chunk = await this.track(this.locked((w) => requeueDeadLetterChunk(this.ctx!, w, uplink, REQUEUE_CHUNK)))
      requeued += chunk.requeued
      if (!chunk.more) return requeued
    }
  }

  /** Deletes the uplink's dead letters; resolves with how many there were. */
  async purgeDeadLetters(uplink: string): Promise<number> {
    this.assertOpen()
    this.cursorsOf(uplink)
    return this.track(this.locked(() => purgeDeadLetterArea(this.ctx!, uplink)))
  }

  /** Up to `limit` un-acked entries from the uplink's ack cursor, alerts first; moves nothing. @default limit 100 */
  async peek(uplink: string, limit = 100): Promise<Entry[]> {
    this.assertOpen()
    const state = this.cursorsOf(uplink)
    const out: Entry[] = []
    for (const priority of PRIORITIES) {
      const after = effectiveAcked(state[priority], this.ctx!.logs[priority])
      const got = await this.track(this.reading(() => readClass(this.ctx!.db, priority, after, { maxEvents: limit - out.length, maxBytes: Infinity, atLeastOne: true })))
      out.push(...got.entries)
    }
    return out
  }
}
