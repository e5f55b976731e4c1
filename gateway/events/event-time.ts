/**
 * Events timed by an unsynchronized wall clock, and fixing their `time` once the clock is right.
 *
 * At ingest the builder cannot know the true time, only that the clock is not synced
 * (ClockStatus). Such an event carries CloudEvents extension attributes (lower-case a-z0-9, <= 20
 * characters); synced events carry none:
 *
 *   clocksynced   false     `time` came from a wall clock that was not synchronized
 *   bootid        string    /proc/sys/kernel/random/boot_id of the boot the reading was taken in
 *   monotonicms   string    the boot's monotonic clock at the reading, decimal ms. A string, not a
 *                           CloudEvents Integer: that type is 32-bit and a Pi's uptime passes
 *                           2^31 ms after 24.8 days.
 *   timecorrected true      set by correctEventTime: `time` was recomputed after the clock synced
 *
 * bootid and monotonicms are left out when the reading's time cannot be on this boot's clock (a
 * device-supplied timestamp in the future of the gateway's clock, or before boot): such a time is
 * not the gateway's to correct. The stored event is never rewritten: the correction is applied
 * to what is sent, every time it is sent, so a resend before the sync is uncorrected and one after
 * it is corrected, with the same id.
 */
import type { ClockReading } from './clock-status.js'

export type ClockAttributes = { clocksynced: false; bootid?: string; monotonicms?: string }

const UNSYNCED_MARK = '"clocksynced":false'

/** Extension attributes for a reading taken at wall time `timeMs` under `clock`; undefined when synced. */
export function clockAttributes(timeMs: number, clock: ClockReading): ClockAttributes | undefined {
  if (clock.synced) return undefined
  // The monotonic time of the reading, assuming timeMs was stamped by this wall clock and it did
  // not step since (readings reach the builder within moments).
  const monotonicAtReading = Math.round(clock.monotonicMs - (clock.wallMs - timeMs))
  if (!(monotonicAtReading >= 0 && monotonicAtReading <= clock.monotonicMs)) return { clocksynced: false }
  return { clocksynced: false, bootid: clock.bootId, monotonicms: String(monotonicAtReading) }
}

/**
 * Pure. Returns `json` with `time` = now - (monotonic now - monotonic at reading) and
 * `timecorrected: true` when the event is marked `clocksynced: false`, was read on this boot
 * (`bootid`), is not corrected yet, and `clock` is synced now. Anything else, including JSON it
 * cannot parse, comes back unchanged. Cheap for the usual event: one substring search.
 */
export function correctEventTime(json: string, clock: ClockReading): string {
  if (!clock.synced || !json.includes(UNSYNCED_MARK)) return json
  let ev: Record<string, unknown>
  try {
    ev = JSON.parse(json) as Record<string, unknown>
  } catch {
    return json
  }
  if (typeof ev !== 'object' || ev === null || ev.clocksynced !== false || ev.timecorrected === true) return json
  if (ev.bootid !== clock.bootId || typeof ev.monotonicms !== 'string' || !/^\d{1,16}$/.test(ev.monotonicms)) return json
  const elapsedMs = clock.monotonicMs - Number(ev.monotonicms)
  if (elapsedMs < 0) return json
  const time = new Date(Math.round(clock.wallMs - elapsedMs))
  if (Number.isNaN(time.getTime())) return json
  ev.time = time.toISOString()
  ev.timecorrected = true
  return JSON.stringify(ev)
}
