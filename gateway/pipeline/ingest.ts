/**
 * Ingest: the bounded hand-off between sources and the store, and the group commit.
 *
 * Invariants:
 * - At most `maxPending` readings wait in memory (plus `alertHeadroom` for alert-only pushes, so a
 *   doorbell is not stuck behind telemetry). A push that does not fit waits: that wait is the
 *   backpressure that pauses sources.
 * - Two committer lanes, alert and telemetry, each take up to `maxChunk` readings, give each its
 *   CloudEvent identity and sequence, and write them with ONE `store.append` (one synced
 *   db.batch) together with the sequence counters. While a commit is in flight, new readings
 *   accumulate, so under load each fsync carries many readings (group commit). The alert lane
 *   exists so a doorbell is never stuck behind a telemetry commit that a full store
 *   (whenFull=block) holds up; the store keeps counters monotonic across the lanes.
 * - A receipt's `durable` promise resolves only after the commit that holds its readings returned;
 *   it never rejects (errors are reported in the outcome).
 * - Every reading of a commit is counted once: ingested if the store holds it, else dropped by
 *   reason. A failed commit may have stored part of itself (PartialAppendError, of which
 *   AppendAbortedError is one): that part is ingested, never `store_error`.
 * - Each push is credited with exactly its own readings (the source's `ingested`, the receipt's
 *   counts), wherever in the commit the store refused or lost events: the store says which, by
 *   index (commit-fate.ts). A receipt's `lost` counts only readings lost to a store error, which
 *   nobody else counted; invalid and policy-dropped readings are counted where they are dropped.
 * - Readings the CloudEvents SDK refuses are counted (`invalid_reading`) and never stored.
 *
 * On a crash, readings still in the buffer are lost; none of them had been reported durable.
 */
import type { AppendOutcome, AppendResult, IngestReceipt, Reading, ReadingSink, Store } from '../core/types.js'
import { DecodeError, GatewayError, settledBeforeFailure } from '../core/errors.js'
import { fateOfFailure, IndexCursor, type CommitFate } from './commit-fate.js'
import type { Logger } from '../core/observability.js'
import type { CloudEventBuilder } from '../events/cloudevent-builder.js'
import type { PipelineMetrics } from './pipeline-metrics.js'
import { PRIORITIES, type NewEvent, type Priority } from '../core/types.js'

export interface IngestOptions {
  store: Store
  builder: CloudEventBuilder
  metrics: PipelineMetrics
  log: Logger
  /** Readings buffered between sources and the store. @default 10000 */
  maxPending?: number
  /** Readings per group commit. @default 1000 */
  maxChunk?: number
  /** Extra room for alert-only pushes beyond maxPending. @default 1000 */
  alertHeadroom?: number
}

interface PendingItem {
  sourceId: string
  readings: Reading[]
  resolve: (outcome: AppendOutcome) => void
}

interface SpaceWaiter {
  size: number
  alertsOnly: boolean
  resolve: () => void
  reject: (err: Error) => void
}

export class Ingest implements ReadingSink {
  private readonly maxPending: number
  private readonly maxChunk: number
  private readonly alertHeadroom: number
  private readonly queues: Record<Priority, PendingItem[]> = { alert: [], telemetry: [] }
  private readonly wake: Record<Priority, (() => void) | undefined> = { alert: undefined, telemetry: undefined }
  private readonly spaceWaiters: SpaceWaiter[] = []
  private pendingReadings = 0
  private closing = false
  private loops: Promise<void[]> | undefined
  private readonly commitAbort = new AbortController()
  /** Time of the committer's last sign of life, for the watchdog. */
  lastHeartbeatMs = performance.now()
  private lastStoreErrorLogMs = -Infinity
  private suppressedStoreErrors = 0

  constructor(private readonly opts: IngestOptions) {
    this.maxPending = opts.maxPending ?? 10_000
    this.maxChunk = opts.maxChunk ?? 1000
    this.alertHeadroom = opts.alertHeadroom ?? 1000
  }

  /** Readings waiting for their commit. */
  get pending(): number {
    return this.pendingReadings
  }

  start(): void {
    this.loops ??= Promise.all(PRIORITIES.map((lane) => this.commitLoop(lane)))
  }

  async push(sourceId: string, readings: Reading[]): Promise<IngestReceipt> {
    if (this.closing) throw new GatewayError('GW_ERR_STORE_CLOSED', 'gateway is stopping; reading not accepted')
    if (readings.length === 0) return { durable: Promise.resolve({ accepted: 0, dropped: 0, lost: 0, invalid: 0 }) }
    const alertsOnly = readings.every((r) => r.priority === 'alert')
    if (this.spaceWaiters.length === 0 && this.fits(readings.length, alertsOnly)) {
      this.pendingReadings += readings.length
    } else {
      // Space is reserved by releaseSpace() when this waiter is admitted.
      await new Promise<void>((resolve, reject) => {
        this.spaceWaiters.push({ size: readings.length, alertsOnly, resolve, reject })
        if (alertsOnly) this.releaseSpace()
      })
    }
    const outcomes: Promise<AppendOutcome>[] = []
    for (const lane of PRIORITIES) {
      const part = alertsOnly && lane === 'alert' ? readings : readings.filter((r) => r.priority === lane)
      if (part.length === 0) continue
      outcomes.push(new Promise<AppendOutcome>((resolve) => this.queues[lane].push({ sourceId, readings: part, resolve })))
      this.wake[lane]?.()
    }
    return { durable: Promise.all(outcomes).then(sumOutcomes) }
  }

  /**
   * Stops accepting, commits everything already buffered, and ends the committer loop.
   * `graceMs` bounds how long a blocked store (whenFull=block) may hold the stop up; readings
   * still buffered after it are reported to their sources as not durable.
   */
  async stop(graceMs = 5000): Promise<void> {
    this.closing = true
    for (const w of this.spaceWaiters.splice(0)) w.reject(new GatewayError('GW_ERR_STORE_CLOSED', 'gateway is stopping'))
    for (const lane of PRIORITIES) this.wake[lane]?.()
    const timer = setTimeout(() => this.commitAbort.abort(), graceMs)
    await this.loops
    clearTimeout(timer)
  }

  private fits(size: number, alertsOnly: boolean): boolean {
    const limit = this.maxPending + (alertsOnly ? this.alertHeadroom : 0)
    // An oversized push is let in when the buffer is empty, so it cannot wait forever.
    return this.pendingReadings + size <= limit || this.pendingReadings === 0
  }

  /** Admits waiting pushers while they fit: a waiting alert first, then first-come first-served. */
  private releaseSpace(): void {
    for (;;) {
      let idx = this.spaceWaiters.findIndex((w) => w.alertsOnly && this.fits(w.size, true))
      if (idx < 0 && this.spaceWaiters.length > 0 && this.fits(this.spaceWaiters[0]!.size, false)) idx = 0
      if (idx < 0) return
      const [w] = this.spaceWaiters.splice(idx, 1)
      // Reserve before resolving, so the next waiter sees the room this one takes.
      this.pendingReadings += w!.size
      w!.resolve()
    }
  }

  private async commitLoop(lane: Priority): Promise<void> {
    const queue = this.queues[lane]
    for (;;) {
      this.lastHeartbeatMs = performance.now()
      if (queue.length === 0) {
        if (this.closing) return
        await this.idle(lane, 1000)
        continue
      }
      const chunk = this.takeChunk(queue)
      await this.commit(chunk)
      this.releaseSpace()
    }
  }

  /** Waits for a push or for `ms` (so the heartbeat keeps ticking while idle). */
  private idle(lane: Priority, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms)
      const wake = this.wake
      function done(): void {
        clearTimeout(timer)
        wake[lane] = undefined
        resolve()
      }
      wake[lane] = done
    })
  }

  private takeChunk(queue: PendingItem[]): PendingItem[] {
    const chunk: PendingItem[] = []
    let size = 0
    while (queue.length > 0 && (chunk.length === 0 || size + queue[0]!.readings.length <= this.maxChunk)) {
      const item = queue.shift()!
      size += item.readings.length
      chunk.push(item)
    }
    return chunk
  }

  private async commit(chunk: PendingItem[]): Promise<void> {
    const { store, builder, metrics, log } = this.opts
    const events: NewEvent[] = []
    const perItem: Array<{ item: PendingItem; built: number; invalid: number }> = []
    const sources = new Set<string>()
    for (const item of chunk) {
      let built = 0
      let invalid = 0
      for (const reading of item.readings) {
        try {
          const ev = builder.build(item.sourceId, reading)
          events.push(ev)
          sources.add(ev.source)
          built++
        } catch (err) {
          if (!(err instanceof DecodeError)) throw err
          invalid++
          metrics.rejected(item.sourceId, err.reason)
          log.warn({ code: err.code, reason: err.reason, source: item.sourceId, err }, 'reading refused at ingest')
        }
      }
      perItem.push({ item, built, invalid })
    }
    let outcomeError: Error | undefined
    let fate: CommitFate = {}
    try {
      if (events.length > 0) {
        const result = await store.append({ events, counters: builder.countersFor(sources) }, this.commitAbort.signal)
        fate = { refused: result.refused }
        this.countStoreDrops(result)
      }
    } catch (err) {
      outcomeError = err instanceof Error ? err : new Error(String(err))
      fate = this.countFailedAppend(err, events.length)
    }
    this.settle(perItem, fate, outcomeError)
  }

  private countStoreDrops(result: AppendResult): void {
    if (result.rejected > 0) this.opts.metrics.dropped('store_full_rejected', result.rejected)
    if (result.evicted > 0) this.opts.metrics.dropped('store_full_oldest', result.evicted)
  }

  /**
   * Counts a failed append and returns which of its events are stored anyway: a blocked append
   * aborted at stop or failing later (PartialAppendError) may have committed part of them, which is
   * durable and will be delivered, so counting it `store_error` would report drops that did not
   * happen.
   */
  private countFailedAppend(err: unknown, events: number): CommitFate {
    const committed = settledBeforeFailure(err)
    this.countStoreDrops(committed)
    const fate = fateOfFailure(err, events)
    const lost = fate.lost?.length ?? 0
    this.opts.metrics.dropped('store_error', lost)
    // A full disk fails every commit: log a sample, count them all.
    if (performance.now() - this.lastStoreErrorLogMs >= 10_000) {
      const fields = { err, code: (err as GatewayError).code, events: lost, stored: committed.accepted, suppressed: this.suppressedStoreErrors }
      this.opts.log.error(fields, 'store append failed; readings not stored')
      this.lastStoreErrorLogMs = performance.now()
      this.suppressedStoreErrors = 0
    } else {
      this.suppressedStoreErrors++
    }
    return fate
  }

  /**
   * Resolves receipts. Push i's events are the i-th run of `built` events of the commit; `fate`
   * says which of them the store refused or lost, the rest are stored. A failed commit's error
   * goes only to receipts that lost readings to it: sources treat `error` as "not stored", and a
   * push whose readings were all stored (or refused, already counted) lost nothing to it.
   */
  private settle(perItem: Array<{ item: PendingItem; built: number; invalid: number }>, fate: CommitFate, error?: Error): void {
    const refusedAt = new IndexCursor(fate.refused)
    const lostAt = new IndexCursor(fate.lost)
    let end = 0
    for (const { item, built, invalid } of perItem) {
      end += built
      const refused = refusedAt.countBelow(end)
      const lost = lostAt.countBelow(end)
      const ok = built - refused - lost
      this.pendingReadings -= item.readings.length
      if (ok > 0) this.opts.metrics.ingested(item.sourceId, ok)
      item.resolve({ accepted: ok, dropped: built - ok + invalid, lost, invalid, ...(error && lost > 0 ? { error } : {}) })
    }
  }
}

function sumOutcomes(parts: AppendOutcome[]): AppendOutcome {
  const out: AppendOutcome = { accepted: 0, dropped: 0, lost: 0, invalid: 0 }
  for (const p of parts) {
    out.accepted += p.accepted
    out.dropped += p.dropped
    out.lost += p.lost
    out.invalid += p.invalid
    if (p.error) out.error = p.error
  }
  return out
}
