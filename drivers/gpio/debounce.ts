/**
 * Contact-bounce filter for one input line, pure (time is passed in) so it is testable without
 * timers.
 *
 * Why not onoff's `debounceTimeout`: it is a trailing debounce. Every press is delayed by the
 * timeout, only the value read after the line went quiet is reported (a tap shorter than the
 * timeout on a `rising` line reads 0 afterwards and is lost), and the swallowed edges are not
 * counted. A doorbell wants the opposite: report the FIRST edge at once, then ignore the chatter.
 *
 * Algorithm (leading edge + quiet period):
 *  - An edge that arrives after the line was quiet for `quietMs` is accepted immediately.
 *  - Edges within `quietMs` of the previous edge are suppressed and extend the quiet period.
 *  - When the burst ends (`settle`), the suppressed edges are reported as one `bounce` count. With
 *    `reconcile` (edge mode `both`) a burst that ENDED on the other level than the one reported
 *    (a tap shorter than `quietMs`) also yields that final level, so a release is never lost.
 */
import type { LineValue } from './gpio-line.js'

export type DebounceEvent =
  | { type: 'edge'; value: LineValue; /** true when reported at the end of a burst */ settled: boolean }
  | { type: 'bounce'; count: number }

export interface EdgeDebouncerOptions {
  /** Quiet time that ends a burst, ms; 0 accepts every edge. */
  quietMs: number
  /** Report the settled level when it differs from the last reported one (edge mode `both`). */
  reconcile: boolean
  /** Line level before the first edge. */
  initial: LineValue
}

export class EdgeDebouncer {
  private reported: LineValue
  private lastEdgeMs = Number.NEGATIVE_INFINITY
  private suppressed = 0
  private lastSeen: LineValue

  constructor(private readonly opts: EdgeDebouncerOptions) {
    this.reported = opts.initial
    this.lastSeen = opts.initial
  }

  /** Feeds one edge seen at `atMs` (monotonic). Returns what to report now, in order. */
  edge(value: LineValue, atMs: number): DebounceEvent[] {
    // A late settle timer must not merge two bursts: close the previous one first.
    const out = this.settle(atMs)
    if (this.opts.quietMs > 0 && atMs - this.lastEdgeMs < this.opts.quietMs) {
      this.suppressed++
      this.lastSeen = value
      this.lastEdgeMs = atMs
      return out
    }
    this.lastEdgeMs = atMs
    this.lastSeen = value
    this.reported = value
    out.push({ type: 'edge', value, settled: false })
    return out
  }

  /** When `settle` has something to do, or undefined when no burst is open. */
  settleDueMs(): number | undefined {
    return this.suppressed > 0 ? this.lastEdgeMs + this.opts.quietMs : undefined
  }

  /** Closes the current burst if the line has been quiet for `quietMs` at `atMs`. */
  settle(atMs: number): DebounceEvent[] {
    const due = this.settleDueMs()
    if (due === undefined || atMs < due) return []
    const out: DebounceEvent[] = []
    let bounces = this.suppressed
    this.suppressed = 0
    if (this.opts.reconcile && this.lastSeen !== this.reported) {
      this.reported = this.lastSeen
      bounces-- // that edge was real, not bounce
      out.push({ type: 'edge', value: this.lastSeen, settled: true })
    }
    if (bounces > 0) out.unshift({ type: 'bounce', count: bounces })
    return out
  }
}
