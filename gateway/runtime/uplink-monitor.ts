/**
 * Samples each uplink's connection state once a second so health and status can say for how long
 * an uplink has been down (a brief reconnect is not an incident; minutes are).
 */
import type { Uplink } from '../core/types.js'

export class UplinkMonitor {
  private readonly downSince = new Map<string, number>()
  private timer: NodeJS.Timeout | undefined

  constructor(private readonly uplinks: readonly Uplink[]) {}

  start(): void {
    this.sample()
    this.timer = setInterval(() => this.sample(), 1000)
    this.timer.unref()
  }

  stop(): void {
    clearInterval(this.timer)
  }

  /** Milliseconds the uplink has been continuously disconnected; 0 when connected. */
  disconnectedForMs(id: string, now = performance.now()): number {
    const since = this.downSince.get(id)
    return since === undefined ? 0 : now - since
  }

  private sample(): void {
    const now = performance.now()
    for (const u of this.uplinks) {
      if (u.health().connected) this.downSince.delete(u.id)
      else if (!this.downSince.has(u.id)) this.downSince.set(u.id, now)
    }
  }
}
