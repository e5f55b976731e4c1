/**
 * Every write the store makes, as methods that assume the caller holds the store's write lock.
 *
 * Invariants
 * - Each builds its operations first, writes them in one batch, then updates the in-memory view:
 *   a failed batch leaves memory and disk in agreement.
 * - Memory's front of a class (log.first) moves with the batch that writes its front key. The one
 *   write after a batch, the db.clear of a long acked range (collect), moves nothing: that range
 *   is below the front already, garbage until cleared (leftover-clears.ts); a clear that fails is
 *   retried, never a reason to keep memory at the old front, and never a reason to fail the
 *   write whose batch succeeded.
 */
import type { Logger } from '../core/observability.js'
import { PRIORITIES, type AppendResult, type Entry, type LeftoverClearStats, type Priority, type WhenFull } from '../core/types.js'
import { planAppend, type PreparedEvent } from './append-plan.js'
import type { DeadLetterArea } from './dead-letters.js'
import type { DiskSpaceGuard } from './disk-space-guard.js'
import type { DropCounter } from './drop-counter.js'
import { FrontTrimmer, type BatchOp, type LevelDb } from './front-trimmer.js'
import { CLOCK_KEY, cursorKey, entryKey, frontKey } from './keys.js'
import { LeftoverClears } from './leftover-clears.js'
import { advanceAcked, logBytes, type ClassLog, type CursorState, type PerClass } from './log-state.js'
import { applyAppend, applyTrims, buildAppendOps, collectible, writeBatch } from './log-mutations.js'
import { refreshCursorHead } from './open-state.js'
import type { SkippedRange } from './reader.js'
import { keepAppended, type RecentEntries } from './recent-entries.js'
import type { Notifier } from './serial-lock.js'
import { encodeStoreTime, type StoreClock } from './store-clock.js'

/** Bytes charged to the free-space estimate per write operation besides the entries themselves. */
const OP_OVERHEAD_BYTES = 64

/** The put that records where a class's live entries start (see keys.frontKey). */
function frontPut(priority: Priority, offset: number): BatchOp {
  return { type: 'put', key: frontKey(priority), value: Buffer.from(String(offset), 'latin1') }
}

/**
 * Acked ranges of at least this many entries are deleted with one db.clear after the ack's batch;
 * shorter ones key by key inside it. A `del` op costs ~0.5 µs of main-thread CPU and a db.clear
 * ~100-200 µs of main-thread CPU, so clearing from ~256 entries would save CPU; but the ack waits
 * for the clear (an iterator over the whole LevelDB, on its thread), and with clears from 256 a
 * 1M-event MQTT drain (acks of 500) took 27.6 / 38.4 / 28.2 s against 23.6 / 26.1 / 24.1 s key by
 * key (alternating runs, same machine). A drain after an outage is what operators wait for, so
 * only very long ranges (a backlog a slow second uplink finally acked) are cleared.
 */
export const CLEAR_FROM_ENTRIES = 10_000

/** The store's mutable state, shared by the store and its writer. */
export interface StoreContext {
  db: LevelDb
  logs: PerClass<ClassLog>
  cursors: Map<string, PerClass<CursorState>>
  counters: Map<string, number>
  deadLetters: Map<string, DeadLetterArea>
  drops: DropCounter
  /** Wall clock (display fields only). */
  now: () => number
  /** Store time: expiry and ages. */
  clock: StoreClock
  /** Told about LevelDB read errors the scanners survived (the store schedules a repair). */
  onReadError: (err: unknown) => void
  /** Told when reads find keys LevelDB lost (the store schedules a repair unless it just did one). */
  onLostEntries: (count: number) => void
  /** Notified whenever bytes were freed (ack, expiry): wakes `block` appends. */
  space: Notifier
  /** Notified after every append that stored something: wakes forwarders. */
  appended: Notifier
  /** Free space on the filesystem: a second limit besides maxBytes. */
  disk: DiskSpaceGuard
  /** The newest entries of each class in memory, for reads at the tail (recent-entries.ts). */
  recent: PerClass<RecentEntries>
  /** The store's logger (component=store). */
  log: Logger
}

export interface CommitOptions {
  /** Commit nothing unless every event fits (block mode). */
  allOrNothing: boolean
  /** Stop at the first event that does not fit instead of refusing it (block mode, requeue). */
  stopOnReject: boolean
  /** More operations for the same batch, given how many events were accepted (requeue). */
  extraOps?: (acceptedCount: number) => BatchOp[]
  /**
   * Told, when `allOrNothing` and the events did not all fit, how many bytes the store could hold
   * right now at most: maxBytes, or its bytes plus the disk's headroom when the disk is the limit.
   */
  onShortfall?: (capacityBytes: number) => void
}

export class LogWriter {
  private readonly leftovers: LeftoverClears

  constructor(
    private readonly ctx: StoreContext,
    private readonly config: { maxBytes: number; maxAgeMs: number; whenFull: WhenFull },
  ) {
    this.leftovers = new LeftoverClears(ctx.db, ctx.disk, OP_OVERHEAD_BYTES, ctx.log)
  }

  usedBytes(): number {
    return logBytes(this.ctx.logs.alert) + logBytes(this.ctx.logs.telemetry)
  }

  /**
   * Plans and writes one append in ONE synced batch: evictions, entries, meta keys and counters.
   * Resolves undefined when `allOrNothing` and the events do not all fit (nothing was written).
   */
  async commitAppend(events: readonly PreparedEvent[], offeredCounters: ReadonlyMap<string, number>, opts: CommitOptions): Promise<AppendResult | undefined> {
    const { db, logs } = this.ctx
    // Counters only move forward: appends may commit out of build order (an alert overtaking a
    // blocked telemetry chunk), and an older snapshot must not roll a sequence back.
    const counters = new Map([...offeredCounters].filter(([source, value]) => value > (this.ctx.counters.get(source) ?? 0)))
    const room = await this.ctx.disk.room()
    const usedBytes = this.usedBytes()
    const limitBytes = Math.min(this.config.maxBytes, usedBytes + room.headroomBytes)
    const trimmer = new FrontTrimmer(db, logs, this.ctx.onReadError)
    try {
      const plan = await planAppend(events, { ...this.config, limitBytes, mayEvict: room.level !== 'critical', writableBytes: room.writableBytes, usedBytes, stopOnReject: opts.stopOnReject, trimmer })
      // A blocking append the disk, not maxBytes, held back: the guard watches for room and wakes it.
      // (Other policies drop or refuse instead of waiting: nobody would be woken.)
      // Only a need the disk can meet is noted: a part above the store's capacity is split at once
      // (block-appender.ts), and noting its whole size kept the timer sampling and compacting for
      // good after its parts were stored. A single event has no smaller part: its need stands.
      const wantedBytes = events.reduce((n, e) => n + e.sizeBytes, 0)
      if (opts.allOrNothing && !plan.complete && limitBytes < this.config.maxBytes && (wantedBytes <= limitBytes || events.length === 1)) {
        this.ctx.disk.noteShortfall(wantedBytes)
      }
      if (!plan.complete && opts.allOrNothing) {
        opts.onShortfall?.(limitBytes)
        return undefined
      }
      const { ops: evictOps, results: trims } = await trimmer.finish()
      const storeMs = this.ctx.clock.now()
      const { ops, appended, bytes } = buildAppendOps(plan.accepted, logs, counters, storeMs)
      // The front of every class this batch touches, so its newest version always sits next to the
      // newest entries and meta keys (a damaged old table must not take it along).
      const fronts = PRIORITIES.filter((p) => trims.has(p) || appended[p].count > 0).map((p) => {
        const trim = trims.get(p)
        return frontPut(p, trim ? (trim.newFirst?.offset ?? logs[p].next) : (logs[p].first?.offset ?? logs[p].next))
      })
      const all = [...evictOps, ...ops, ...fronts, ...(opts.extraOps?.(plan.accepted.length) ?? [])]
      await writeBatch(db, all, { sync: true })
      this.ctx.disk.noteWritten(bytes + all.length * OP_OVERHEAD_BYTES)
      if (evictOps.length > 0) this.ctx.disk.noteDeleted()
      if (ops.length > 0) this.ctx.clock.savedMs = storeMs
      const trimmed = applyTrims(logs, trims)
      const evicted = trimmed.removed + plan.skippedOldest
      applyAppend(logs, this.ctx.cursors.values(), appended, events[0]?.times.storeMs ?? storeMs)
      keepAppended(this.ctx.recent, logs, this.ctx.cursors, plan.accepted, appended)
      for (const [source, value] of counters) this.ctx.counters.set(source, value)
      this.ctx.drops.add('corrupt_entry', trimmed.damaged)
      this.ctx.drops.add('store_full_oldest', evicted)
      this.ctx.drops.add('store_full_rejected', plan.rejected)
      if (plan.accepted.length > 0) this.ctx.appended.notify()
      return { accepted: plan.accepted.length, rejected: plan.rejected, evicted, ...(plan.refused ? { refused: plan.refused } : {}) }
    } finally {
      await trimmer.close()
    }
  }

  /**
   * Advances the uplink's cursors over the contiguous acked prefix and deletes what every uplink
   * has acked, in one unsynced batch (long ranges: a db.clear right after it, see collect): losing
   * it to a power cut only means resending (duplicates).
   */
  async ack(uplink: string, entries: readonly Entry[], extraOps: BatchOp[] = []): Promise<void> {
    const { db, logs } = this.ctx
    const state = this.ctx.cursors.get(uplink)!
    const ops = [...extraOps]
    for (const priority of PRIORITIES) {
      const offsets = entries.filter((e) => e.priority === priority).map((e) => e.offset)
      if (offsets.length > 0) await this.advance(uplink, priority, state[priority], offsets, ops)
    }
    await this.collect(ops)
  }

  /**
   * Records offsets a read found damaged or missing (counted once, `corrupt_entry`) and moves every
   * cursor over them, so no uplink waits for an entry that cannot be sent. Offsets below the front
   * were evicted or expired meanwhile: not damage. Returns how many were new.
   */
  async skipDamaged(ranges: readonly SkippedRange[]): Promise<number> {
    const { logs } = this.ctx
    let counted = 0
    let missing = 0
    for (const r of ranges) {
      const log = logs[r.priority]
      const added = log.damaged.add(Math.max(r.from, log.first?.offset ?? log.next), Math.min(r.to, log.next - 1))
      counted += added
      if (r.missing) missing += added
    }
    this.ctx.drops.add('corrupt_entry', counted)
    if (missing > 0) this.ctx.onLostEntries(missing)
    const ops: BatchOp[] = []
    for (const [uplink, state] of this.ctx.cursors) {
      for (const priority of PRIORITIES) await this.advance(uplink, priority, state[priority], [], ops)
    }
    await this.collect(ops)
    return counted
  }

  /**
   * Writes every cursor as it is in memory, then collects: after LevelDB was reopened following a
   * failed write (write-recovery.ts), the cursor moves of acks that failed exist only in memory.
   */
  async rewriteCursors(): Promise<void> {
    const ops: BatchOp[] = []
    for (const [uplink, state] of this.ctx.cursors) {
      for (const priority of PRIORITIES) ops.push({ type: 'put', key: cursorKey(uplink, priority), value: Buffer.from(String(state[priority].acked), 'latin1') })
    }
    await this.collect(ops)
  }

  /** Saves the store time (periodically unsynced, at close synced). */
  async saveClock(sync: boolean): Promise<void> {
    const storeMs = this.ctx.clock.now()
    await this.ctx.db.put(CLOCK_KEY, encodeStoreTime(storeMs), { sync })
    this.ctx.clock.savedMs = storeMs
  }

  /** Moves one cursor over `offsets` and known damage; queues its put when it moved. */
  private async advance(uplink: string, priority: Priority, cursor: CursorState, offsets: number[], ops: BatchOp[]): Promise<void> {
    const log = this.ctx.logs[priority]
    const acked = advanceAcked(cursor, log, offsets)
    if (acked <= cursor.acked) return
    cursor.acked = acked
    cursor.readPos = Math.max(cursor.readPos, acked)
    await refreshCursorHead(this.ctx.db, priority, cursor, log)
    ops.push({ type: 'put', key: cursorKey(uplink, priority), value: Buffer.from(String(acked), 'latin1') })
  }

  /**
   * Writes `ops` together with deleting every entry all uplinks have acked. A long range is
   * cleared only AFTER the batch that moved the cursors and the front keys. Memory moves with that
   * batch: from then on the range is garbage, as after a crash between the two (open() clears
   * entries below the front key, open-state.ts loadFront), so a clear that fails never leaves
   * memory pointing at delivered entries. Its range is retried by the next collect, or sooner by
   * clearLeftovers (the store's timer, under the write lock, which reports the error: the log, and
   * write recovery for a full disk). A failed clear does NOT reject collect: its batch is written,
   * and callers update memory after it (dead letters, cursors); a rejection would make them treat
   * written acks and dead letters as unwritten (a later dead letter would overwrite this one).
   */
  async collect(ops: BatchOp[] = []): Promise<void> {
    const { db, logs } = this.ctx
    const ranges = []
    for (const priority of PRIORITIES) {
      const range = collectible(logs[priority], [...this.ctx.cursors.values()].map((s) => s[priority]), this.ctx.clock.now())
      if (range) ranges.push({ priority, ...range, cleared: range.throughOffset - range.fromOffset + 1 >= CLEAR_FROM_ENTRIES })
    }
    for (const r of ranges) {
      ops.push(frontPut(r.priority, r.newFirst?.offset ?? logs[r.priority].next))
      if (!r.cleared) for (let offset = r.fromOffset; offset <= r.throughOffset; offset++) ops.push({ type: 'del', key: entryKey(r.priority, offset) })
    }
    await writeBatch(db, ops)
    this.ctx.disk.noteWritten(ops.length * OP_OVERHEAD_BYTES)
    for (const r of ranges) {
      const log = logs[r.priority]
      log.first = r.newFirst
      log.damaged.dropBelow(log.first?.offset ?? log.next)
      if (r.cleared) this.leftovers.add(r.priority, r.fromOffset, r.throughOffset)
    }
    if (ranges.length > 0) {
      this.ctx.disk.noteDeleted()
      this.ctx.space.notify()
    }
    await this.leftovers.clear().catch(() => {
      // Kept queued; the timer's retry reports it (see above). Nothing else waits for it.
    })
  }

  /** Whether a clear of acked entries failed and waits for its retry. */
  get leftoversPending(): boolean {
    return this.leftovers.pending
  }

  /** Acked entries that wait for a clear that failed (StoreStats.leftoverClears). */
  get leftoverStats(): LeftoverClearStats {
    return this.leftovers.stats
  }

  /** Retries the clears that failed (see collect); rejects when one fails again. */
  async clearLeftovers(): Promise<void> {
    await this.leftovers.clear()
  }

  /**
   * Deletes up to `maxCount` entries per class older than maxAgeMs of store time. `deleted` also
   * counts damaged entries met on the way (they are `corrupt_entry`, not `expired`).
   */
  async expire(maxCount: number): Promise<{ expired: number; deleted: number }> {
    const { db, logs } = this.ctx
    const cutoffMs = this.ctx.clock.now() - this.config.maxAgeMs
    // Cheap when nothing is due: one comparison per class, no I/O.
    const due = PRIORITIES.filter((p) => (logs[p].first?.storeMs ?? Infinity) < cutoffMs)
    if (due.length === 0) return { expired: 0, deleted: 0 }
    const trimmer = new FrontTrimmer(db, logs, this.ctx.onReadError)
    try {
      for (const priority of due) await trimmer.trimOlderThan(priority, cutoffMs, maxCount)
      const { ops, results } = await trimmer.finish()
      const fronts = [...results].map(([priority, trim]) => frontPut(priority, trim.newFirst?.offset ?? logs[priority].next))
      if (ops.length > 0) await writeBatch(db, [...ops, ...fronts])
      if (ops.length > 0) this.ctx.disk.noteDeleted()
      const { removed: expired, damaged } = applyTrims(logs, results)
      this.ctx.drops.add('expired', expired)
      this.ctx.drops.add('corrupt_entry', damaged)
      if (ops.length > 0) this.ctx.space.notify()
      return { expired, deleted: ops.length }
    } finally {
      await trimmer.close()
    }
  }
}

