/**
 * Bad input is counted every time and logged at most once per interval per reason (principle 7:
 * a sensor stuck in a loop must not flood the journal). The log line carries the same stable
 * reason as the metric label, plus how many were suppressed since the last line.
 */
import type { InputCounters, Logger } from '../../gateway/core/observability.js'

export class RejectLog {
  private readonly last = new Map<string, { atMs: number; suppressed: number }>()

  /**
   * @param intervalMs least time between two log lines of one reason. @default 10000
   * @param now clock, injectable for tests. @default Date.now
   */
  constructor(
    private readonly log: Logger,
    private readonly counters: InputCounters,
    private readonly sourceId: string,
    private readonly intervalMs = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Counts one `reason` and maybe logs `msg` with `fields` (no payloads, sizes only). */
  reject(reason: string, fields: Record<string, unknown>, msg: string): void {
    this.counters.rejected(this.sourceId, reason)
    const t = this.now()
    const prev = this.last.get(reason)
    if (prev && t - prev.atMs < this.intervalMs) {
      prev.suppressed++
      return
    }
    this.last.set(reason, { atMs: t, suppressed: 0 })
    this.log.warn({ code: 'GW_ERR_INPUT_REJECTED', reason, suppressed: prev?.suppressed ?? 0, ...fields }, msg)
  }
}
