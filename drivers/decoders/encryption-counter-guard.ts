/**
 * Replay protection for encrypted BTHome adverts. The AES-CCM tag proves who sent an advert, not
 * when: anyone can re-broadcast a captured one. The 32-bit encryption counter must move forward
 * (bthome.json negative cases test_same_encryption_counter, test_decreasing_encryption_counter).
 *
 * "Forward" uses serial-number arithmetic (RFC 1982, SERIAL_BITS = 32), so the wrap
 * 0xFFFFFFFF -> 0 is accepted (test_reset_encryption_counter). A device that reboots and restarts
 * its counter at a small value is refused until its counter passes the old one, unless
 * `forgetAfterMs` is set: that trades some replay protection for recovery after reboots.
 *
 * Memory: at most `maxDevices` entries. An evicted device's next advert is accepted (a replay of
 * it would be too, once: the bound is what makes this safe to run unattended).
 */
import { BoundedLru } from './bounded-lru.js'
import { normaliseAddress } from './bytes.js'

/** Options for {@link EncryptionCounterGuard}. */
export interface EncryptionCounterGuardOptions {
  /** Devices remembered. @default 1024 */
  maxDevices?: number
  /** Accept any counter from a device not heard for this long. @default undefined (never) */
  forgetAfterMs?: number
}

const HALF = 2 ** 31
const MOD = 2 ** 32

/** True when `next` is after `prev` in 32-bit serial-number order (RFC 1982 3.2). */
export function counterIsNewer(prev: number, next: number): boolean {
  const diff = (next - prev + MOD) % MOD
  return diff !== 0 && diff < HALF
}

/** Tracks the last accepted encryption counter per device. */
export class EncryptionCounterGuard {
  private readonly last: BoundedLru<{ counter: number; atMs?: number }>
  private readonly forgetAfterMs: number | undefined

  constructor(opts: EncryptionCounterGuardOptions = {}) {
    this.last = new BoundedLru(opts.maxDevices ?? 1024)
    this.forgetAfterMs = opts.forgetAfterMs
  }

  /**
   * True when `counter` is not newer than the last accepted one from `address` (drop the advert).
   * Only accepted counters are recorded, so a replay cannot move the window.
   */
  isReplay(address: string, counter: number, nowMs?: number): boolean {
    const key = normaliseAddress(address)
    const prev = this.last.get(key)
    const stale =
      prev !== undefined && this.forgetAfterMs !== undefined && nowMs !== undefined && prev.atMs !== undefined &&
      nowMs - prev.atMs > this.forgetAfterMs
    if (prev !== undefined && !stale && !counterIsNewer(prev.counter, counter)) return true
    this.last.set(key, { counter, atMs: nowMs })
    return false
  }
}
