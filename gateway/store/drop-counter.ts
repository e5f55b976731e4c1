/**
 * Counts dropped events by reason and logs them without flooding the journal: at most one line per
 * reason per interval, carrying the count since the previous line. The log field `reason` is the
 * same label as the metric, so a dashboard value can be grepped in the journal.
 */
import type { Logger } from '../core/observability.js'
import type { DropReason } from '../core/types.js'

/** Drop reasons plus store-internal ones that have no DropReason yet. */
export type StoreDropReason = DropReason | 'dead_letter_overflow'

export class DropCounter {
  private readonly totals = new Map<StoreDropReason, number>()
  private readonly unlogged = new Map<StoreDropReason, number>()
  private readonly lastLogMs = new Map<StoreDropReason, number>()

  /** Rate limiting uses the real clock: a test's frozen clock must not silence the log. */
  constructor(
    private readonly log: Logger,
    private readonly intervalMs = 10_000,
  ) {}

  add(reason: StoreDropReason, count: number): void {
    if (count <= 0) return
    this.totals.set(reason, this.total(reason) + count)
    this.unlogged.set(reason, (this.unlogged.get(reason) ?? 0) + count)
    const nowMs = Date.now()
    if (nowMs - (this.lastLogMs.get(reason) ?? -Infinity) >= this.intervalMs) this.logReason(reason, nowMs)
  }

  total(reason: StoreDropReason): number {
    return this.totals.get(reason) ?? 0
  }

  drops(): Record<DropReason, number> {
    return {
      store_full_oldest: this.total('store_full_oldest'),
      store_full_rejected: this.total('store_full_rejected'),
      expired: this.total('expired'),
      dead_letter: this.total('dead_letter'),
      corrupt_entry: this.total('corrupt_entry'),
    }
  }

  /** Logs what was counted since the last line of each reason (at close). */
  flush(): void {
    for (const reason of this.unlogged.keys()) this.logReason(reason, Date.now())
  }

  private logReason(reason: StoreDropReason, nowMs: number): void {
    const dropped = this.unlogged.get(reason) ?? 0
    if (dropped === 0) return
    this.unlogged.set(reason, 0)
    this.lastLogMs.set(reason, nowMs)
    this.log.warn({ reason, dropped, total: this.total(reason) }, `store dropped events: ${reason}`)
  }
}
