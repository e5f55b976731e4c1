/**
 * At most one warn per key per interval, with the number of suppressed ones since the last line.
 * A noisy UART (wrong baud, loose ground) can produce thousands of bad lines a second; the metric
 * counts every one, the journal gets a sample.
 */
import type { Logger } from '../../gateway/core/observability.js'

export class RateLimitedLog {
  /** One entry per key; keys are stable reason codes, so the map stays small. */
  private readonly last = new Map<string, { atMs: number; suppressed: number }>()

  /** @param intervalMs @default 10000 */
  constructor(
    private readonly log: Logger,
    private readonly intervalMs = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Logs `msg` at warn unless `key` was logged less than intervalMs ago. Never throws. */
  warn(key: string, fields: Record<string, unknown>, msg: string): void {
    const t = this.now()
    const entry = this.last.get(key)
    if (entry && t - entry.atMs < this.intervalMs) {
      entry.suppressed++
      return
    }
    this.log.warn({ ...fields, suppressed: entry?.suppressed ?? 0 }, msg)
    this.last.set(key, { atMs: t, suppressed: 0 })
  }
}
