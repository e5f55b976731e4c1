/** Counters the runtime reads (via MqttUplink.stats()) to export as metrics. */
import type { RejectedEntry } from './cloudevents-binding.js'

/** A snapshot of an MQTT uplink's counters; all totals since construction. */
export interface MqttUplinkStats {
  connected: boolean
  /** Successful CONNACKs. */
  connects: number
  /** Successful CONNACKs after the first one. */
  reconnects: number
  /** Attempts that never got a successful CONNACK (refused, timeout, TCP/TLS error). */
  connectFailures: number
  /** Established connections lost (not counting stop()). */
  disconnects: number
  /** PUBLISH packets confirmed with PUBACK < 0x80. */
  publishes: number
  /** PUBACKs with a reason code >= 0x80 (retriable or not). */
  pubackErrors: number
  /** Sends failed because no PUBACK came within ackTimeoutMs. */
  ackTimeouts: number
  /** Entries returned in `rejected`, by reason (`packet_too_large`, `not_authorized`, ...). */
  rejected: Record<string, number>
}

/** Mutable totals behind MqttUplink.stats(); the uplink increments the public fields directly. */
export class UplinkCounters {
  connects = 0
  connectFailures = 0
  disconnects = 0
  publishes = 0
  pubackErrors = 0
  ackTimeouts = 0
  private readonly rejected = new Map<string, number>()

  countRejected(entries: RejectedEntry[]): void {
    for (const r of entries) this.rejected.set(r.reason, (this.rejected.get(r.reason) ?? 0) + 1)
  }

  /** Count per reason in `entries`, for one log line. */
  summarize(entries: RejectedEntry[]): Record<string, number> {
    const out: Record<string, number> = {}
    for (const r of entries) out[r.reason] = (out[r.reason] ?? 0) + 1
    return out
  }

  snapshot(connected: boolean): MqttUplinkStats {
    return {
      connected,
      connects: this.connects,
      reconnects: Math.max(0, this.connects - 1),
      connectFailures: this.connectFailures,
      disconnects: this.disconnects,
      publishes: this.publishes,
      pubackErrors: this.pubackErrors,
      ackTimeouts: this.ackTimeouts,
      rejected: Object.fromEntries(this.rejected),
    }
  }
}
