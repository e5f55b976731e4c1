/**
 * Notices sends that wait without any confirmation, so health says so while it happens.
 *
 * Why: the SDK retries a lost connection inside one `sendBatch` (up to `sendTimeoutMs`, 30 s by
 * default) before it reports anything. Health built only from finished operations would say
 * "connected" for that whole time. Here, an uplink whose oldest outstanding send has waited longer
 * than `stallMs` while nothing at all was confirmed is reported disconnected, with a reason.
 *
 * Invariants:
 * - Every `begin()` is followed by exactly one `end()` with its token; memory is one entry per
 *   outstanding send (bounded by the forwarder's maxInFlight).
 * - Any confirmed send counts as progress: one slow partition key among healthy ones is not a
 *   stall of the uplink.
 * - Durations are on the monotonic clock (a wall-clock jump is not a stall).
 */
import type { UplinkHealth } from '../../core/types.js'

/** Outstanding sends with no confirmation for this long make the uplink "not connected". */
export const DEFAULT_STALL_MS = 5_000

export class SendWatch {
  private readonly started = new Map<number, number>()
  private nextToken = 1
  private lastConfirmedMs = performance.now()

  constructor(private readonly stallMs: number = DEFAULT_STALL_MS) {}

  begin(): number {
    const token = this.nextToken++
    this.started.set(token, performance.now())
    return token
  }

  end(token: number, confirmed: boolean): void {
    this.started.delete(token)
    if (confirmed) this.lastConfirmedMs = performance.now()
  }

  /** How long sends have waited with nothing confirmed, when that is at least `stallMs`; else 0. */
  stalledForMs(now = performance.now()): number {
    let oldest = Number.POSITIVE_INFINITY
    for (const t of this.started.values()) oldest = Math.min(oldest, t)
    if (oldest === Number.POSITIVE_INFINITY) return 0
    const waited = now - Math.max(oldest, this.lastConfirmedMs)
    return waited >= this.stallMs ? waited : 0
  }

  /** `health`, or "not connected" with the reason while sends are stalled. */
  apply(health: UplinkHealth): UplinkHealth {
    const stalled = this.stalledForMs()
    if (!health.connected || stalled === 0) return health
    return {
      connected: false,
      detail: `no send confirmed for ${Math.round(stalled / 1000)} s (${this.started.size} outstanding); the SDK is still trying`,
    }
  }
}
