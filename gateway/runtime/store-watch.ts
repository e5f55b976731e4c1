/**
 * Bridges what the store notices on its own to the rest of the gateway, once a second:
 * - drops the store makes without an append to report them through (maxAge expiry, corrupt
 *   entries) become `edge_gateway_events_dropped_total` increments, like every other drop;
 * - a salvage at open (repaired, moved aside) is logged and counted once;
 * - damage that LevelDB can only repair at the next open resolves `restartNeeded`, so the process
 *   stops gracefully and the supervisor (systemd Restart=on-failure) starts it again, rather than
 *   running on with a store that refuses writes.
 */
import type { DropReason } from '../core/types.js'
import type { Logger } from '../core/observability.js'
import type { LevelStore } from '../store/index.js'
import type { GatewayMetrics } from '../telemetry/metrics.js'

/** Drop reasons only the store itself can report. */
const STORE_OWN_DROPS: readonly DropReason[] = ['expired', 'corrupt_entry']

export class StoreWatch {
  private timer: NodeJS.Timeout | undefined
  private readonly reported = new Map<DropReason, number>()
  private resolveRestart!: (reason: string) => void
  /** Resolves (once) when the store needs the process restarted to repair itself. */
  readonly restartNeeded = new Promise<string>((resolve) => (this.resolveRestart = resolve))
  private restartRequested = false

  constructor(
    private readonly store: LevelStore,
    private readonly metrics: GatewayMetrics,
    private readonly log: Logger,
  ) {}

  start(): void {
    const salvage = this.store.salvage
    if (salvage.repaired || salvage.movedAside) {
      this.metrics.storeSalvaged(salvage.movedAside ? 'moved_aside' : 'repaired')
      this.log.error({ code: 'GW_ERR_STORE_CORRUPT', ...salvage }, 'the store was damaged and has been salvaged at open')
    }
    // Nothing reported yet: what open() counted (damaged or lost entries found at open) is
    // reported by the first tick like every later drop.
    for (const reason of STORE_OWN_DROPS) this.reported.set(reason, 0)
    this.timer = setInterval(() => this.tick(), 1000)
    this.timer.unref()
  }

  stop(): void {
    clearInterval(this.timer)
    this.tick()
  }

  private tick(): void {
    const drops = this.store.stats().drops
    for (const reason of STORE_OWN_DROPS) {
      const now = drops[reason] ?? 0
      const delta = now - (this.reported.get(reason) ?? 0)
      if (delta > 0) this.metrics.dropped(reason, delta)
      this.reported.set(reason, now)
    }
    if (!this.restartRequested && this.store.salvage.repairOnNextOpen) {
      this.restartRequested = true
      this.log.error({ code: 'GW_ERR_STORE_CORRUPT' }, 'store damage needs a repair at the next open; restarting')
      this.resolveRestart('store damage needs a repair at the next open')
    }
  }
}
