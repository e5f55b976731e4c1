/**
 * Wraps an uplink so every event it sends has its `time` corrected when it was read while the wall
 * clock was unsynchronized and the clock has synced since (same boot): see gateway/events/event-time.ts.
 * The stored event is never rewritten; the correction is applied to what goes on the wire, in place
 * on the Entry objects so the forwarder's identity-based bookkeeping (rejected entries) still holds.
 */
import type { Entry, SendResult, Uplink } from '../core/types.js'
import { correctEventTime } from '../events/event-time.js'
import { systemClockStatus, type ClockStatus } from '../events/clock-status.js'

export function correctingUplink(uplink: Uplink, clock: ClockStatus = systemClockStatus()): Uplink {
  return {
    get id() {
      return uplink.id
    },
    get type() {
      return uplink.type
    },
    get limits() {
      return uplink.limits
    },
    start: () => uplink.start(),
    stop: () => uplink.stop(),
    health: () => uplink.health(),
    send(batch: Entry[], signal: AbortSignal): Promise<SendResult> {
      const reading = clock.now()
      if (reading.synced) for (const e of batch) e.json = correctEventTime(e.json, reading)
      return uplink.send(batch, signal)
    },
  }
}
