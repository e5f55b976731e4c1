/**
 * Counts every rejected advert and logs at most one line per reason per interval (ARCHITECTURE
 * 2.7: a device stuck sending garbage, or a wrong bindkey, would otherwise write a line per advert,
 * several a second). The line carries the metric's reason and how many were suppressed since the
 * previous line of that reason. Reasons are stable snake_case codes, so the map stays small.
 */
import type { InputCounters, Logger } from '../../gateway/core/observability.js'

export class BleRejectLog {
  private readonly last = new Map<string, { atMs: number; suppressed: number }>()

  /**
   * @param intervalMs least time between two lines of one reason. @default 10000
   * @param now monotonic clock, ms. @default performance.now
   */
  constructor(
    private readonly log: Logger,
    private readonly counters: InputCounters,
    private readonly sourceId: string,
    private readonly intervalMs = 10_000,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Counts `n` of `reason` without logging (expected, high-volume: repeats, rate limit). */
  count(reason: string, n = 1): void {
    this.counters.rejected(this.sourceId, reason, n)
  }

  /** Counts `n` (default 1) of `reason` and maybe logs `msg` at warn. `fields`: sizes and addresses, never payloads or keys. */
  reject(reason: string, fields: Record<string, unknown>, msg: string, level: 'warn' | 'error' = 'warn', n = 1): void {
    this.counters.rejected(this.sourceId, reason, n)
    const t = this.now()
    const prev = this.last.get(reason)
    if (prev && t - prev.atMs < this.intervalMs) {
      prev.suppressed++
      return
    }
    this.last.set(reason, { atMs: t, suppressed: 0 })
    this.log[level]({ code: 'GW_ERR_INPUT_REJECTED', reason, suppressed: prev?.suppressed ?? 0, ...fields }, msg)
  }
}
