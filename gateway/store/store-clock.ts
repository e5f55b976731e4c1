/**
 * Store time: the clock expiry (maxAge) and queue ages are measured in. It never jumps.
 *
 * A Raspberry Pi has no RTC: it boots with the wall clock at 1970 or at the last fake-hwclock save
 * and steps when NTP syncs, possibly by years. Measuring age on the wall clock would expire the
 * whole backlog on a step forward and keep stale data forever after a step back. Store time is
 *
 *   the highest store time persisted in the DB  +  monotonic time elapsed since open()
 *
 * and is saved (key `M!c`) with every append, every CLOCK_SAVE_INTERVAL_MS and at close. Entries
 * carry the store time of their append; wall time stays in the entry for display only.
 *
 * Consequence, on purpose: time while the gateway is not running (powered off, crashed, stopped)
 * does not count as age. That is the safe direction: a clock problem can make data live longer
 * than maxAge (bounded by maxBytes anyway), never delete it early. A power cut may lose up to one
 * save interval of store time, which also only makes entries look younger.
 *
 * Queue order never depends on time: it is the offset order of the keys.
 */
import { crc32 } from 'node:zlib'

/** How often the store time is saved when no append saves it. */
export const CLOCK_SAVE_INTERVAL_MS = 60_000

export class StoreClock {
  private base = 0
  private monoAtResume: number
  private last = 0
  /** Store time as last written to disk. */
  savedMs = 0

  /** @param monotonicNow a monotonic ms clock (default performance.now); only its differences are used. */
  constructor(private readonly monotonicNow: () => number) {
    this.monoAtResume = monotonicNow()
  }

  /** Continues from `persistedMs`, the highest store time found on disk (0 for a new store). */
  resume(persistedMs: number): void {
    this.base = Number.isFinite(persistedMs) && persistedMs > 0 ? persistedMs : 0
    this.monoAtResume = this.monotonicNow()
    this.last = this.base
    this.savedMs = this.base
  }

  /** Store time now, ms. Never decreases, even if the monotonic source misbehaves. */
  now(): number {
    const t = this.base + (this.monotonicNow() - this.monoAtResume)
    if (t > this.last) this.last = t
    return this.last
  }

  /** True when the last save is older than CLOCK_SAVE_INTERVAL_MS of store time. */
  saveDue(): boolean {
    return this.now() - this.savedMs >= CLOCK_SAVE_INTERVAL_MS
  }
}

/**
 * `<ms>:<crc32 of ms>`. A damaged store time that read as too high would expire the whole queue,
 * so it carries its own checksum; a damaged one is ignored (open() then takes the newest entry's
 * store time: the safe direction).
 */
export function encodeStoreTime(ms: number): Buffer {
  const text = String(ms)
  return Buffer.from(`${text}:${crc32(text)}`, 'latin1')
}

/** The saved store time, or 0 when the key is missing or damaged. */
export function decodeStoreTime(value: Buffer | undefined): number {
  const [text, crc] = (value?.toString('latin1') ?? '').split(':')
  const ms = Number(text)
  return text && crc === String(crc32(text)) && Number.isFinite(ms) && ms > 0 ? ms : 0
}
