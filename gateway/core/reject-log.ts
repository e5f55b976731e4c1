/**
 * Bad input at the edge: counted every time, logged at most once per reason per interval
 * (ARCHITECTURE 2.7). A sensor stuck sending garbage, a wrong bindkey or a noisy UART can produce
 * thousands of bad frames a second; the metric counts every one, the journal gets a sample. The
 * line carries the metric's stable reason and how many were suppressed since the previous line of
 * that reason. Reasons are stable snake_case codes, so the map stays small.
 */
import type { InputCounters, Logger } from './observability.js'

export class RejectLog {
  private readonly last = new Map<string, { atMs: number; suppressed: number }>()

  /**
   * @param intervalMs least time between two lines of one reason. @default 10000
   * @param now monotonic clock, ms (a wall-clock jump must not silence or flood the log). @default performance.now
   */
  constructor(
    private readonly log: Logger,
    private readonly counters: InputCounters,
    private readonly sourceId: string,
    private readonly intervalMs = 10_000,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Counts `n` of `reason` without logging (expected, high-volume: repeats, rate limits). */
  count(reason: string, n = 1): void {
    this.counters.rejected(this.sourceId, reason, n)
  }

  /**
   * Counts `n` (default 1) of `reason` and logs `msg` unless this reason was logged less than
   * intervalMs ago. `fields`: sizes and addresses, never payloads or keys. Never throws.
   */
  reject(reason: string, fields: Record<string, unknown>, msg: string, level: 'warn' | 'error' = 'warn', n = 1): void {
    this.counters.rejected(this.sourceId, reason, n)
    this.logSample(reason, fields, msg, level)
  }

  /**
   * Logs like `reject` but counts nothing here: for input another component already counted
   * under its own metric (a reading the store's whenFull policy refused is
   * `dropped{store_full_rejected}`), so one reading is not counted in two families.
   */
  logUncounted(reason: string, fields: Record<string, unknown>, msg: string, level: 'warn' | 'error' = 'warn'): void {
    this.logSample(reason, fields, msg, level)
  }

  private logSample(reason: string, fields: Record<string, unknown>, msg: string, level: 'warn' | 'error'): void {
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
