/**
 * LevelStore: the gateway's durable queue on LevelDB (`level` -> classic-level).
 *
 * Invariants
 * - One log per priority class (alert, telemetry). Offsets strictly increase per class and are
 *   never reused: open() takes the max of the meta key, the last key and every cursor.
 * - Live offsets of a class are contiguous [first, next): entries leave only from the front (acked
 *   by every uplink, evicted when full, expired), so counts and bytes are subtractions of offsets
 *   and of the cumulative byte counter stored in each value.
 * - Memory is O(classes + uplinks + sources + in-flight acks), never O(backlog): no entry index;
 *   open() reads the first and last entry of each class, not the log.
 * - Alerts are never evicted to make room for telemetry. Every drop is counted by DropReason.
 *
 * Key layout (utf8 keys; numbers zero-padded to 16 digits so key order is queue order)
 *   e!a!<offset>          alert entry      value: header + CloudEvent JSON (value-codec.ts)
 *   e!t!<offset>          telemetry entry
 *   m!a, m!t              "next,cumBytes" of the class, written with every append to it
 *   c!<uplink>!a|t        highest contiguous acked offset of the uplink in that class
 *   s!<source>            CloudEvent sequence counter of a source
 *   d!<uplink>!<seq>      dead letter (JSON: entry, reason, message, time)
 *
 * Append: resolves after ONE db.batch({ sync: true }) holding the evictions, the entries, the meta
 * keys and the counters, so counters are durable exactly with their events. Exception: with
 * whenFull=block, a batch that does not fit as a whole commits its alerts first and its telemetry
 * in parts once there is room.
 *
 * Ack: the peer confirmed. The uplink's cursor moves over the contiguous acked prefix (acks beyond
 * a gap wait in memory); what every configured uplink has acked is deleted in the same batch. An
 * offset that was evicted or expired counts as acked. Read positions are memory only.
 *
 * What a crash loses
 * - After append resolved: nothing, on kill -9 or power cut (fsync). An append in flight is all
 *   or nothing (LevelDB batches are atomic).
 * - Acks, expiry and collection are written without fsync: kill -9 loses none (the OS has the
 *   write); a power cut may undo the latest, and those entries are sent again with the same
 *   CloudEvent id (duplicates, never loss). Out-of-order acks held in memory are resent too.
 */
import { Level } from 'level'
import { GatewayError } from '../core/errors.js'
import { silentLogger, type Logger } from '../core/observability.js'
import { PRIORITIES, type AppendBatch, type AppendResult, type DeadLetter, type Entry, type Store, type StoreStats, type WhenFull } from '../core/types.js'
import { prepareEvents, type PreparedEvent } from './append-plan.js'
import { BlockingAppender } from './block-appender.js'
import { deadLetterEntries, purgeDeadLetterArea, requeueDeadLetterChunk } from './dead-letter-ops.js'
import { loadDeadLetterAreas, readDeadLetters } from './dead-letters.js'
import { DropCounter } from './drop-counter.js'
import { assertUplinkIds } from './keys.js'
import { effectiveAcked, type CursorState, type PerClass } from './log-state.js'
import { LogWriter, type CommitOptions, type StoreContext } from './log-writer.js'
import { loadState } from './open-state.js'
import { readClass, readQueue } from './reader.js'
import { Notifier, SerialLock } from './serial-lock.js'
import { computeStats } from './store-stats.js'
import { toStoreError } from './store-util.js'

/** Entries expired per class per locked step, so expiry never holds the lock for long. */
const EXPIRY_PAGE = 5_000
const REQUEUE_CHUNK = 256

export interface LevelStoreOptions {
  /** LevelDB directory; created if missing. One process at a time (LevelDB LOCK). */
  dir: string
  /** Most bytes (keys + values) of queued entries. Dead letters are bounded by count instead. */
  maxBytes: number
  /** Entries appended longer ago than this are deleted and counted `expired`. */
  maxAgeMs: number
  /** What append does when events do not fit. @default 'drop_oldest' */
  whenFull?: WhenFull
  /** Configured uplink ids ([A-Za-z0-9._-], unique). Cursors and dead letters of others are deleted on open. */
  uplinks: string[]
  /** Dead letters kept per uplink; beyond it the oldest are dropped. @default 10000 */
  maxDeadLetters?: number
  /** @default silentLogger */
  log?: Logger
  /** Wall clock, ms since epoch; injectable for tests. @default Date.now */
  now?: () => number
  /** How often expiry runs in the background. @default 5000 */
  expiryIntervalMs?: number
}

/** The durable store. Construct, then `open()`; every other method rejects with GW_ERR_STORE_CLOSED until then and after `close()`. */
export class LevelStore implements Store {
  private readonly whenFull: WhenFull
  private readonly log: Logger
  private readonly now: () => number
  private readonly drops: DropCounter
  private readonly lock = new SerialLock()
  private readonly readLocks = new Map<string, SerialLock>()
  private readonly inflight = new Set<Promise<unknown>>()
  private readonly blocking: BlockingAppender
  private readonly space = new Notifier()
  private readonly appended = new Notifier()
  private state: 'new' | 'opening' | 'open' | 'closing' | 'closed' = 'new'
  private ctx: StoreContext | undefined
  private writer: LogWriter | undefined
  private timer: NodeJS.Timeout | undefined
  private expiring = false

  /** @throws TypeError when an uplink id is invalid or repeated. Does no I/O. */
  constructor(private readonly opts: LevelStoreOptions) {
    assertUplinkIds(opts.uplinks)
    this.whenFull = opts.whenFull ?? 'drop_oldest'
    this.log = (opts.log ?? silentLogger).child({ component: 'store' })
    this.now = opts.now ?? Date.now
    this.drops = new DropCounter(this.log)
    this.blocking = new BlockingAppender({
      maxBytes: opts.maxBytes,
      commit: (events, counters, commitOpts) => this.commitLocked(events, counters, commitOpts),
      space: this.space,
      assertOpen: () => this.assertOpen(),
    })
  }

  /**
   * Opens the DB and rebuilds the in-memory view; may be called once.
   * @throws GatewayError GW_ERR_STORE_CORRUPT when LevelDB reports corruption (cause attached);
   * GW_ERR_STORE_CLOSED when the DB cannot be opened otherwise (e.g. another process holds it).
   */
  async open(): Promise<void> {
    if (this.state !== 'new') throw new GatewayError('GW_ERR_STORE_CLOSED', 'LevelStore.open() may be called only once')
    this.state = 'opening'
    // Small LevelDB buffers: a Pi has little RAM, and the queue is read once, in order, so a large
    // block cache buys nothing (defaults: 8 MiB cache, 4 MiB write buffer).
    const db = new Level<string, Buffer>(this.opts.dir, {
      keyEncoding: 'utf8',
      valueEncoding: 'buffer',
      cacheSize: 1024 * 1024,
      writeBufferSize: 2 * 1024 * 1024,
    })
    try {
      await db.open()
      const loaded = await loadState(db, this.opts.uplinks)
      const deadLetters = await loadDeadLetterAreas(db, this.opts.uplinks)
      const ctx = { db, ...loaded, deadLetters: deadLetters.areas, drops: this.drops, now: this.now, space: this.space, appended: this.appended }
      this.ctx = ctx
      this.writer = new LogWriter(ctx, { maxBytes: this.opts.maxBytes, maxAgeMs: this.opts.maxAgeMs, whenFull: this.whenFull })
      const removed = [...new Set([...loaded.removedUplinks, ...deadLetters.removed])]
      if (removed.length > 0) this.log.info({ removed }, 'store deleted cursors and dead letters of uplinks no longer configured')
      await this.writer.collect() // e.g. what only a removed uplink was holding back
    } catch (err) {
      this.state = 'closed'
      await db.close().catch(() => undefined)
      throw toStoreError(err, this.opts.dir)
    }
    this.state = 'open'
    this.timer = setInterval(() => this.expireInBackground(), this.opts.expiryIntervalMs ?? 5_000)
    this.timer.unref()
  }

  /** Waits for in-flight operations, wakes blocked appends (they reject GW_ERR_STORE_CLOSED), closes the DB. Idempotent. */
  async close(): Promise<void> {
    if (this.state !== 'open') {
      if (this.state === 'new') this.state = 'closed'
      return
    }
    this.state = 'closing'
    clearInterval(this.timer)
    this.space.notify()
    this.appended.notify()
    // Loop: a multi-step operation (expiry, requeue) may have queued its next step meanwhile.
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight])
    this.drops.flush()
    await this.ctx!.db.close()
    this.state = 'closed'
  }

  /**
   * Stores the events and `batch.counters` durably (see design block); events larger than maxBytes
   * are refused. With whenFull=block, waits for room; if `signal` aborts first it rejects with
   * GW_ERR_STORE_FULL (alerts of the batch may already be stored; retrying only duplicates them).
   */
  async append(batch: AppendBatch, signal?: AbortSignal): Promise<AppendResult> {
    this.assertOpen()
    const prepared = prepareEvents(batch.events, this.now())
    const fitting = prepared.filter((p) => p.sizeBytes <= this.opts.maxBytes)
    const oversize = prepared.length - fitting.length
    this.drops.add('store_full_rejected', oversize)
    if (fitting.length === 0 && batch.counters.size === 0) return { accepted: 0, rejected: oversize, evicted: 0 }
    const result = await this.track(
      this.whenFull === 'block'
        ? this.blocking.append(fitting, batch.counters, signal)
        : this.commitLocked(fitting, batch.counters, { allOrNothing: false, stopOnReject: false }).then((r) => r!),
    )
    return { ...result, rejected: result.rejected + oversize }
  }

  async counters(): Promise<Map<string, number>> {
    this.assertOpen()
    return new Map(this.ctx!.counters)
  }

  /** See Store.read. Reads of one uplink run one at a time. @throws TypeError for an unknown uplink. */
  async read(uplink: string, maxEvents: number, maxBytes: number): Promise<Entry[]> {
    this.assertOpen()
    const state = this.cursorsOf(uplink)
    let readLock = this.readLocks.get(uplink)
    if (!readLock) this.readLocks.set(uplink, (readLock = new SerialLock()))
    return this.track(readLock.run(() => readQueue(this.ctx!.db, this.ctx!.logs, state, { maxEvents, maxBytes })))
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

  /** See Store.ack. Acking an entry twice, or one already evicted, is harmless. */
  async ack(uplink: string, entries: Entry[]): Promise<void> {
    this.assertOpen()
    this.cursorsOf(uplink)
    return this.track(this.locked((w) => w.ack(uplink, entries)))
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

  /** Synchronous, from memory only. Before open everything is zero. */
  stats(): StoreStats {
    return computeStats(this.ctx, this.opts, this.now(), this.drops.drops())
  }

  /** Oldest `limit` dead letters of the uplink (operator CLI). @default limit 100 */
  async deadLetters(uplink: string, limit = 100): Promise<DeadLetter[]> {
    this.assertOpen()
    this.cursorsOf(uplink)
    return (await this.track(readDeadLetters(this.ctx!.db, uplink, limit))).map((r) => r.letter)
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
      const n = await this.track(this.locked((w) => requeueDeadLetterChunk(this.ctx!, w, uplink, REQUEUE_CHUNK)))
      requeued += n
      if (n < REQUEUE_CHUNK) return requeued
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
      const got = await this.track(readClass(this.ctx!.db, priority, after, { maxEvents: limit - out.length, maxBytes: Infinity, atLeastOne: true }))
      out.push(...got.entries)
    }
    return out
  }

  /** Runs expiry now until nothing is due (the timer does the same every expiryIntervalMs). Resolves with how many expired. */
  async expireNow(): Promise<number> {
    let total = 0
    for (let n = -1; n !== 0; total += n) {
      this.assertOpen()
      n = await this.track(this.locked((w) => w.expire(EXPIRY_PAGE)))
    }
    return total
  }

  /** Dead-letter copies dropped because an uplink's area was full (not a DropReason yet). */
  get deadLettersDiscarded(): number {
    return this.drops.total('dead_letter_overflow')
  }

  private expireInBackground(): void {
    if (this.state !== 'open' || this.expiring) return
    this.expiring = true
    this.expireNow()
      .catch((err: unknown) => {
        if ((err as GatewayError).code !== 'GW_ERR_STORE_CLOSED') this.log.error({ err }, 'store expiry failed')
      })
      .finally(() => (this.expiring = false))
  }

  /** Runs `fn` under the write lock, re-checking the store is still open when its turn comes. */
  private locked<T>(fn: (writer: LogWriter) => Promise<T>): Promise<T> {
    return this.lock.run(async () => {
      if (this.state === 'closed') this.assertOpen()
      return fn(this.writer!)
    })
  }

  /** One append attempt under the lock; expiry runs first so expired bytes count as free. */
  private commitLocked(events: PreparedEvent[], counters: ReadonlyMap<string, number>, opts: CommitOptions): Promise<AppendResult | undefined> {
    return this.locked(async (w) => {
      await w.expire(EXPIRY_PAGE)
      return w.commitAppend(events, counters, opts)
    })
  }

  private cursorsOf(uplink: string): PerClass<CursorState> {
    const state = this.ctx!.cursors.get(uplink)
    if (!state) throw new TypeError(`unknown uplink "${uplink}" (configured: ${this.opts.uplinks.join(', ') || 'none'})`)
    return state
  }

  private assertOpen(): void {
    if (this.state !== 'open') throw new GatewayError('GW_ERR_STORE_CLOSED', this.state === 'new' || this.state === 'opening' ? 'store is not open' : 'store is closed')
  }

  private track<T>(promise: Promise<T>): Promise<T> {
    this.inflight.add(promise)
    const forget = (): void => void this.inflight.delete(promise)
    promise.then(forget, forget)
    return promise
  }
}
