/**
 * BTHome packet-id de-duplication (bthome.io/format "Packet id"): a device repeats an advert
 * several times to improve the chance it arrives and increments the 8-bit packet id only when the
 * data changes; "receivers should only process the advertisement if the packet id is different
 * compared to the previous one". Stateful, so it lives here and not in the pure decoder.
 *
 * Decision (../shared/vectors/bthome.json parsing_rules[5] and stateful case
 * test_identical_packet_id): bthome-ble also drops "older" ids within 4 s. An 8-bit id that wraps
 * cannot tell "older" from "device rebooted", so we implement the bthome.io rule only (equal to the
 * previous id = duplicate). `forgetAfterMs` reproduces bthome-ble's "more than 4 seconds since the
 * last packet: do not filter" when wanted.
 *
 * Memory: at most `maxDevices` entries (least recently heard device evicted). An evicted device's
 * next advert is treated as new: at worst one duplicate reading, never a lost one.
 */
import { BoundedLru } from './bounded-lru.js'
import { normaliseAddress } from './bytes.js'

/** Options for {@link PacketIdDedup}. */
export interface PacketIdDedupOptions {
  /** Devices remembered. @default 1024 */
  maxDevices?: number
  /**
   * After this long without hearing a device, an equal packet id counts as new (needs `nowMs`
   * in {@link PacketIdDedup.isDuplicate}). @default undefined (never forget)
   */
  forgetAfterMs?: number
}

interface Seen {
  packetId: number
  lastHeardMs?: number
}

/** Remembers the last BTHome packet id per device. Not thread-shared; one per BLE source. */
export class PacketIdDedup {
  private readonly seen: BoundedLru<Seen>
  private readonly forgetAfterMs: number | undefined

  constructor(opts: PacketIdDedupOptions = {}) {
    this.seen = new BoundedLru(opts.maxDevices ?? 1024)
    this.forgetAfterMs = opts.forgetAfterMs
  }

  /**
   * True when `packetId` equals the last id heard from `address` (the advert should be dropped).
   * Records `packetId` as the device's latest either way. `nowMs` only matters with `forgetAfterMs`.
   */
  isDuplicate(address: string, packetId: number, nowMs?: number): boolean {
    const key = normaliseAddress(address)
    const prev = this.seen.get(key)
    const stale =
      this.forgetAfterMs !== undefined &&
      nowMs !== undefined &&
      prev?.lastHeardMs !== undefined &&
      nowMs - prev.lastHeardMs > this.forgetAfterMs
    this.seen.set(key, { packetId, lastHeardMs: nowMs })
    return prev !== undefined && prev.packetId === packetId && !stale
  }

  /** Devices currently remembered. */
  get size(): number {
    return this.seen.size
  }
}
