/**
 * The lifecycle half of LevelStore (see the design block in level-store.ts): options, open with
 * salvage, close, background expiry and store-time saves, the write lock, and damage reporting.
 * LevelStore adds the Store API on top.
 *
 * Invariants
 * - Every use of the LevelDB handle runs inside the DbGate (shared): write-lock sections via
 *   `locked`, reads via `reading`. Only WriteRecovery takes it exclusively, to reopen the handle.
 * - A write that fails for lack of disk space puts the store in "broken" mode (write-recovery.ts):
 *   writes fail fast with GW_ERR_STORE_FULL until LevelDB was reopened.
 * - The emergency disk reserve (reserve-file.ts, `<dir>.reserve`) is made after open and again
 *   after it was used, in the background, only while a fresh free-space sample has room for it
 *   twice over (so making it never makes the store full by itself, nor takes the space LevelDB
 *   just got back from it on a stale estimate). Only WriteRecovery deletes it, and
 *   open() when LevelDB cannot open for lack of space (a restart on a full disk).
 */
import { GatewayError } from '../core/errors.js'
import { silentLogger, type Logger } from '../core/observability.js'
import { PRIORITIES, type AppendResult, type WhenFull } from '../core/types.js'
import type { PreparedEvent } from './append-plan.js'
import { BlockingAppender } from './block-appender.js'
import { DbGate } from './db-gate.js'
import { DiskSpaceGuard, type StatFs } from './disk-space-guard.js'
import { DropCounter } from './drop-counter.js'
import { FLUSH_ONLY_RANGE, KEY_AREAS, assertUplinkIds, entryKey, entryPrefix, prefixRange } from './keys.js'
import type { CursorState, PerClass } from './log-state.js'
import type { CommitOptions, LogWriter, StoreContext } from './log-writer.js'
import { requestRepair, type SalvageReport } from './salvage.js'
import { Notifier, SerialLock } from './serial-lock.js'
import { StoreClock } from './store-clock.js'
import { openStoreContext } from './store-open.js'
import { ReserveFile, reserveFileBytes, reserveFilePath } from './reserve-file.js'
import { causedByOutOfSpace, existingAncestor, isDamage } from './store-util.js'
import { WriteRecovery } from './write-recovery.js'

/** What the store uses of classic-level beyond the `level` API (absent in browser-level). */
interface ClassicLevelExtras {
  compactRange?: (start: string, end: string) => Promise<void>
  approximateSize?: (start: string, end: string) => Promise<number>
}

const ENTRY_AREAS = PRIORITIES.map(entryPrefix)

function rangeOf(prefix: string): [string, string] {
  const { gte, lt } = prefixRange(prefix)
  return [gte, lt]
}

/** After a failed attempt to make the emergency reserve, the next one waits this long. */
const RESERVE_RETRY_MS = 10 * 60_000
/**
 * A background failure repeats on every tick while its cause lasts (a clear that keeps failing):
 * the first is logged, then at most one line a minute, with how many were not.
 */
const BACKGROUND_ERROR_LOG_MS = 60_000

/** Entries expired per class per locked step, so expiry never holds the lock for long. */
const EXPIRY_PAGE = 5_000
export const REQUEUE_CHUNK = 256

export interface LevelStoreOptions {
  /** LevelDB directory; created if missing. One process at a time (LevelDB LOCK). */
  dir: string
  /** Most bytes (keys + values) of queued entries. Dead letters are bounded by count instead. */
  maxBytes: number
  /** Entries appended longer ago than this, in store time (see design block), are deleted and counted `expired`. */
  maxAgeMs: number
  /** What append does when events do not fit. @default 'drop_oldest' */
  whenFull?: WhenFull
  /** Configured uplink ids ([A-Za-z0-9._-], unique). Cursors and dead letters of others are deleted on open. */
  uplinks: string[]
  /** Dead letters kept per uplink; beyond it the oldest are dropped. @default 10000 */
  maxDeadLetters?: number
  /** @default silentLogger */
  log?: Logger
  /** Wall clock, ms since epoch, for display fields only (Entry.appendedMs, dead letters). @default Date.now */
  now?: () => number
  /** Monotonic ms clock that store time advances with; injectable for tests. @default performance.now */
  monotonicNow?: () => number
  /** How often expiry runs in the background. @default 5000 */
  expiryIntervalMs?: number
  /**
   * Free space kept on the data directory's filesystem: below it the store counts as full and
   * whenFull applies (disk-space-guard.ts). @default min(64 MiB, half the filesystem)
   */
  minFreeBytes?: number
  /** Free-space probe; injectable for tests. @default fs.promises.statfs */
  statfs?: StatFs
  /** Free-space sample period, and the retry period of a reopen after a failed write. @default 1000 */
  diskCheckIntervalMs?: number
  /**
   * Size of the emergency disk reserve beside the store (reserve-file.ts); 0: none.
   * @default min(8 MiB, 1/32 of the filesystem); none on a filesystem under 64 MiB
   */
  emergencyReserveBytes?: number
}

/** Lifecycle and shared machinery of LevelStore; not used on its own. */
export abstract class StoreCore {
  protected readonly whenFull: WhenFull
  protected readonly log: Logger
  protected readonly now: () => number
  protected readonly clock: StoreClock
  protected readonly drops: DropCounter
  protected readonly lock = new SerialLock()
  protected readonly inflight = new Set<Promise<unknown>>()
  protected readonly blocking: BlockingAppender
  protected readonly space = new Notifier()
  protected readonly appended = new Notifier()
  protected readonly gate = new DbGate()
  protected readonly disk: DiskSpaceGuard
  protected recovery: WriteRecovery | undefined
  protected reserve: ReserveFile | undefined
  private reserving = false
  /** No attempt to make the reserve before this (performance.now() ms): set after a failed one. */
  private reserveRetryAtMs = 0
  protected state: 'new' | 'opening' | 'open' | 'closing' | 'closed' = 'new'
  protected ctx: StoreContext | undefined
  protected writer: LogWriter | undefined
  private timer: NodeJS.Timeout | undefined
  private expiring = false
  private readonly monotonicNow: () => number
  private backgroundErrors = { loggedAtMs: -Infinity, suppressed: 0 }
  protected report: SalvageReport = { repaired: false, repairOnNextOpen: false }

  /** @throws TypeError when an uplink id is invalid or repeated. Does no I/O. */
  constructor(protected readonly opts: LevelStoreOptions) {
    assertUplinkIds(opts.uplinks)
    this.whenFull = opts.whenFull ?? 'drop_oldest'
    this.log = (opts.log ?? silentLogger).child({ component: 'store' })
    this.now = opts.now ?? Date.now
    this.monotonicNow = opts.monotonicNow ?? (() => performance.now())
    this.clock = new StoreClock(this.monotonicNow)
    this.drops = new DropCounter(this.log)
    this.disk = new DiskSpaceGuard({ dir: opts.dir, minFreeBytes: opts.minFreeBytes, log: this.log, statfs: opts.statfs, intervalMs: opts.diskCheckIntervalMs })
    this.disk.onRoom = () => this.space.notify()
    this.disk.reclaim = (compactionFits) => this.reclaimSpace(compactionFits)
    this.blocking = new BlockingAppender({
      maxBytes: opts.maxBytes,
      commit: (events, counters, commitOpts) => this.commitLocked(events, counters, commitOpts),
      space: this.space,
      assertOpen: () => this.assertOpen(),
    })
  }

  /**
   * What open() had to do to a damaged DB (repaired / moved aside), and whether damage seen since
   * asks for a repair at the next open. Read it after open() for a metric.
   */
  get salvage(): Readonly<SalvageReport> {
    return this.report
  }

  /**
   * Opens the DB (salvaging a damaged one, see design block: the outcome is in `salvage`) and
   * rebuilds the in-memory view; may be called once.
   * @throws GatewayError GW_ERR_STORE_CLOSED when the DB cannot be opened for a reason salvage must
   * not touch (e.g. another process holds its LOCK, disk full); GW_ERR_STORE_CORRUPT when even the
   * damaged directory could not be moved aside. Cause attached.
   */
  async open(): Promise<void> {
    if (this.state !== 'new') throw new GatewayError('GW_ERR_STORE_CLOSED', 'LevelStore.open() may be called only once')
    this.state = 'opening'
    try {
      // The first free-space sample comes before LevelDB opens: the write buffer depends on the filesystem.
      await this.disk.start(existingAncestor(this.opts.dir))
      const config = { ...this.opts, whenFull: this.whenFull, writeBufferSize: this.disk.writeBufferBytes() }
      const deps = {
        log: this.log, drops: this.drops, now: this.now, clock: this.clock, space: this.space, appended: this.appended, disk: this.disk,
        onReadError: (err: unknown) => this.noteReadError(err),
        // Keys missing from the log mean damaged files, which LevelDB's compaction will trip over;
        // right after a repair or a salvage they are just what could not be saved.
        onLostEntries: (count: number) => {
          if (!this.report.repaired && !this.report.movedAside) this.noteDamage(new Error(`LevelDB lost ${count} entries (offsets missing from the log)`))
        },
      }
      const bytes = this.opts.emergencyReserveBytes ?? reserveFileBytes(this.disk.filesystemSize)
      const reserve = (this.reserve = new ReserveFile(reserveFilePath(this.opts.dir), bytes, this.log))
      await reserve.load()
      const opened = await openStoreContext(config, deps).catch(async (err: unknown) => {
        // Restarted on a disk the store itself filled: LevelDB needs room to open at all.
        if (!causedByOutOfSpace(err) || !reserve.present) throw err
        const freedBytes = await reserve.release()
        await this.disk.roomNow() // a fresh sample, not the last one plus the freed bytes
        this.log.error({ code: 'GW_ERR_STORE_FULL', err, path: reserve.path, freedBytes },
          'store: LevelDB could not open for lack of disk space; deleted the emergency disk reserve and opening again (it is made again once there is room)')
        return openStoreContext(config, deps)
      })
      this.ctx = opened.ctx
      this.writer = opened.writer
      this.report = opened.report
      await this.disk.start() // again: opening (a salvage copy, say) may have written a lot
      this.recovery = new WriteRecovery({
        db: opened.ctx.db, gate: this.gate, disk: this.disk, log: this.log, retryMs: this.opts.diskCheckIntervalMs, reserve,
        onReopened: async () => {
          await this.locked((w) => w.rewriteCursors())
          this.space.notify()
        },
      })
    } catch (err) {
      this.state = 'closed'
      throw err
    }
    this.state = 'open'
    this.timer = setInterval(() => this.inBackground(), this.opts.expiryIntervalMs ?? 5_000)
    this.timer.unref()
    this.maintainReserve()
  }

  /** Waits for in-flight operations, wakes blocked appends (they reject GW_ERR_STORE_CLOSED), closes the DB. Idempotent. */
  async close(): Promise<void> {
    if (this.state !== 'open') {
      if (this.state === 'new') this.state = 'closed'
      return
    }
    this.state = 'closing'
    clearInterval(this.timer)
    this.disk.stop()
    await this.recovery!.stop()
    this.space.notify()
    this.appended.notify()
    this.blocking.parked.notify() // waitForBlockedAppends resolves at close
    // Loop: a multi-step operation (expiry, requeue) may have queued its next step meanwhile.
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight])
    this.drops.flush()
    await this.writer!.saveClock(true).catch((err: unknown) => this.log.warn({ err }, 'store could not save its clock at close'))
    await this.ctx!.db.close()
    this.state = 'closed'
  }

  /** Runs expiry now until nothing is due (the timer does the same every expiryIntervalMs). Resolves with how many expired. */
  async expireNow(): Promise<number> {
    let total = 0
    for (;;) {
      this.assertOpen()
      const { expired, deleted } = await this.track(this.locked((w) => w.expire(EXPIRY_PAGE)))
      total += expired
      if (deleted === 0) return total
    }
  }

  /** Dead-letter copies dropped because an uplink's area was full (not a DropReason yet). */
  get deadLettersDiscarded(): number {
    return this.drops.total('dead_letter_overflow')
  }

  /**
   * The timer: expiry, saving the store time when no append saved it for a while, and retrying a
   * clear of acked entries that failed (an idle uplink may not ack again for long, and the
   * leftovers hold disk space meanwhile). Last, so a clear that keeps failing delays nothing else.
   */
  private inBackground(): void {
    this.maintainReserve()
    if (this.state !== 'open' || this.expiring) return
    this.expiring = true
    this.expireNow()
      .then(() => (this.state === 'open' && this.clock.saveDue() ? this.track(this.locked((w) => w.saveClock(false))) : undefined))
      .then(() => (this.state === 'open' && this.writer!.leftoversPending ? this.track(this.locked((w) => w.clearLeftovers())) : undefined))
      .catch((err: unknown) => {
        if ((err as GatewayError).code !== 'GW_ERR_STORE_CLOSED') this.logBackgroundError(err)
      })
      .finally(() => (this.expiring = false))
  }

  private logBackgroundError(err: unknown): void {
    const t = this.monotonicNow()
    const last = this.backgroundErrors
    if (t - last.loggedAtMs < BACKGROUND_ERROR_LOG_MS) {
      last.suppressed++
      return
    }
    this.log.error({ err, suppressed: last.suppressed }, 'store background work failed (expiry, store time save or clearing acked entries); retried on every tick, logged at most once a minute')
    this.backgroundErrors = { loggedAtMs: t, suppressed: 0 }
  }

  /**
   * Makes the emergency reserve when it is missing and a fresh sample has room for it twice over; in
   * the background (tracked: close() stops it between chunks and waits).
   */
  private maintainReserve(): void {
    const reserve = this.reserve
    if (!reserve || reserve.present || reserve.bytes === 0 || this.reserving || this.state !== 'open') return
    // Not while LevelDB is broken (that space is LevelDB's first), nor soon after a failed attempt
    // (not a write and a warning at every tick). A quota that statfs does not show can still let
    // a remade reserve break the store again: a known gap (no back-off after the reserve was used).
    if (this.recovery?.broken || performance.now() < this.reserveRetryAtMs) return
    this.reserving = true
    const making = (async () => {
      const room = await this.disk.roomNow()
      if (room.level !== 'room' || room.headroomBytes < 2 * reserve.bytes) return
      // Charged before it is written, so the guard's estimate errs towards fuller meanwhile (its
      // next sample corrects it if the file could not be made).
      this.disk.noteOtherFileWritten(reserve.bytes)
      if (await reserve.create(() => this.state !== 'open')) {
        this.log.info({ path: reserve.path, bytes: reserve.bytes }, 'store: emergency disk reserve in place')
      } else if (this.state === 'open') {
        this.reserveRetryAtMs = performance.now() + RESERVE_RETRY_MS
      }
    })().finally(() => (this.reserving = false))
    this.track(making).catch((err: unknown) => this.log.warn({ err }, 'store could not make its emergency disk reserve'))
  }

  /**
   * A read error LevelDB reported while running (the scanners survive it). Only damage schedules a
   * repair: an error of the machine (EMFILE, ENOMEM...) is gone after a restart, and a repair would
   * not help (or, failing, move a sound store aside).
   */
  protected noteReadError(err: unknown): void {
    if (isDamage(err)) this.noteDamage(err)
    else this.log.warn({ err }, 'LevelDB read failed (not damage, no repair scheduled); retried at the next read')
  }

  /** LevelDB reported damage while running: skip what it cannot read now, repair at the next open. */
  protected noteDamage(err: unknown): void {
    if (this.report.repairOnNextOpen) return
    this.report.repairOnNextOpen = true
    const marked = requestRepair(this.opts.dir, err instanceof Error ? err.message : String(err))
    this.log.error({ code: 'GW_ERR_STORE_CORRUPT', err, marked }, 'LevelDB reported damage while running; unreadable entries are skipped, the store is repaired at the next start')
  }

  /** Runs `fn` under the write lock, re-checking the store is still open when its turn comes. */
  protected locked<T>(fn: (writer: LogWriter) => Promise<T>): Promise<T> {
    return this.gate.shared(() =>
      this.lock.run(async () => {
        if (this.state === 'closed') this.assertOpen()
        this.recovery!.assertWritable()
        try {
          return await fn(this.writer!)
        } catch (err) {
          this.recovery!.noteWriteFailure(err)
          throw err
        }
      }),
    )
  }

  /** Runs a read of the DB inside the gate (never while the handle is being reopened). */
  protected reading<T>(fn: () => Promise<T>): Promise<T> {
    return this.gate.shared(fn)
  }

  /**
   * Short of disk space: has LevelDB give space back now instead of when more writes make it.
   * First a flush of the memtable alone (its log, which holds values uncompressed, is then
   * deleted); then, if the guard finds room for it (compacting may rewrite all live data twice,
   * see disk-space-guard.ts), compacting the deleted front of each class drops the deleted
   * entries' data.
   */
  private async reclaimSpace(compactionFits: (liveBytes: number) => Promise<boolean>): Promise<void> {
    if (this.state !== 'open') return
    await this.reading(async () => {
      const db = this.ctx!.db as unknown as ClassicLevelExtras
      if (typeof db.compactRange !== 'function' || typeof db.approximateSize !== 'function') return
      const compact = (start: string, end: string): Promise<void> => db.compactRange!.call(this.ctx!.db, start, end)
      await compact(...FLUSH_ONLY_RANGE)
      // Entries are sized in memory; the other areas (dead letters above all) are not, so their
      // bytes in the tables (the memtable was just flushed) are asked of LevelDB.
      let liveBytes = this.writer!.usedBytes()
      for (const area of KEY_AREAS.filter((a) => !ENTRY_AREAS.includes(a))) liveBytes += await db.approximateSize!.call(this.ctx!.db, ...rangeOf(area))
      if (!(await compactionFits(liveBytes))) return
      for (const priority of PRIORITIES) {
        const log = this.ctx!.logs[priority]
        const front = log.first?.offset ?? log.next
        if (front > 0) await compact(entryPrefix(priority), entryKey(priority, front))
      }
    })
  }

  /** One append attempt under the lock; expiry runs first so expired bytes count as free. */
  protected commitLocked(events: PreparedEvent[], counters: ReadonlyMap<string, number>, opts: CommitOptions): Promise<AppendResult | undefined> {
    return this.locked(async (w) => {
      await w.expire(EXPIRY_PAGE)
      return w.commitAppend(events, counters, opts)
    })
  }

  protected cursorsOf(uplink: string): PerClass<CursorState> {
    const state = this.ctx!.cursors.get(uplink)
    if (!state) throw new TypeError(`unknown uplink "${uplink}" (configured: ${this.opts.uplinks.join(', ') || 'none'})`)
    return state
  }

  protected assertOpen(): void {
    if (this.state !== 'open') throw new GatewayError('GW_ERR_STORE_CLOSED', this.state === 'new' || this.state === 'opening' ? 'store is not open' : 'store is closed')
  }

  /** Tracks an operation for close(); a LevelDB damage error it fails with schedules a repair. */
  protected track<T>(promise: Promise<T>): Promise<T> {
    this.inflight.add(promise)
    const forget = (): void => void this.inflight.delete(promise)
    promise.then(forget, (err: unknown) => {
      forget()
      if (!(err instanceof GatewayError) && isDamage(err)) this.noteDamage(err)
    })
    return promise
  }

}
