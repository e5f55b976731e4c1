/**
 * One advert in, readings (or a counted reason) out: the synchronous part of the `ble` source
 * that runs inside noble's `discover` callback. Order, and why:
 *
 *   1. noble peripheral -> BleAdvert       shape checks (noble-advert.ts)
 *   2. allow-list                          before any crypto: strangers cost a Set lookup
 *   3. decodeAdvert (bindkeys)             DecodeError -> rejected by its reason
 *   4. BTHome encryption counter guard     replays are refused before they can touch the
 *                                          packet-id state (a replay must not shadow a fresh id)
 *   5. BTHome packet-id dedup              bthome.io: equal id = repeat of the same data
 *   6. advertToReadings
 *   7. per-device minimum interval         alerts and trigger-based BTHome adverts bypass it
 *
 * Stateful (dedup, counter guard, gate), all bounded to a fixed number of devices. Times for the
 * gate and the counter guard are monotonic (see MinIntervalGate); reading times are wall clock.
 */
import { DecodeError } from '../../gateway/core/errors.js'
import type { Reading } from '../../gateway/core/types.js'
import { decodeAdvert, type BleAdvert, type DecodeOptions, type DecodedAdvert } from '../decoders/advert.js'
import { EncryptionCounterGuard } from '../decoders/encryption-counter-guard.js'
import { PacketIdDedup } from '../decoders/packet-id-dedup.js'
import { advertToReadings, deviceIdFromAddress } from '../decoders/readings.js'
import type { BleSourceConfig } from './config.js'
import { rawAdvertData, toBleAdvert } from './noble-advert.js'
import type { NoblePeripheral } from './noble-like.js'
import { AllowList, MinIntervalGate } from './scan-filter.js'

/** Devices each per-device table remembers (least recently heard evicted). */
const MAX_DEVICES = 4096
/**
 * A device whose encryption counter we have not accepted for this long may start over (it
 * rebooted and lost its counter). Trade-off: a replay of its old adverts is accepted once after
 * an hour of silence, instead of a rebooted sensor being refused until the gateway restarts.
 */
const COUNTER_FORGET_MS = 3_600_000

/** What became of one advert. */
export type AdvertOutcome =
  | { kind: 'forward'; readings: Reading[] }
  /** Not on the allow-list: somebody else's device. Not an error, not counted as rejected. */
  | { kind: 'ignored' }
  /** Counted under `reason`; logged (rate-limited) when `message` is set. */
  | { kind: 'rejected'; reason: string; message?: string; fields?: Record<string, unknown> }

const IGNORED: AdvertOutcome = { kind: 'ignored' }

export class AdvertProcessor {
  private readonly allow: AllowList
  private readonly decodeOpts: DecodeOptions
  private readonly dedup = new PacketIdDedup({ maxDevices: MAX_DEVICES })
  private readonly counterGuard = new EncryptionCounterGuard({ maxDevices: MAX_DEVICES, forgetAfterMs: COUNTER_FORGET_MS })
  private readonly gate: MinIntervalGate

  /** @param now monotonic clock, ms (performance.now in production). */
  constructor(
    private readonly config: BleSourceConfig,
    private readonly now: () => number,
  ) {
    this.allow = new AllowList(config.allow)
    const keys = new Map<string, Buffer>()
    for (const [mac, hex] of Object.entries(config.bindkeys)) keys.set(mac.toLowerCase(), Buffer.from(hex, 'hex'))
    this.decodeOpts = { bindkeys: keys, unknownObjectId: 'throw' }
    this.gate = new MinIntervalGate({ minIntervalMs: config.minIntervalMs, maxDevices: MAX_DEVICES })
  }

  /** Never throws: anything unexpected becomes `internal_error`. */
  process(p: NoblePeripheral, timeMs: number): AdvertOutcome {
    try {
      return this.processUnsafe(p, timeMs)
    } catch (err) {
      return { kind: 'rejected', reason: 'internal_error', message: `advert handling failed: ${(err as Error)?.message ?? String(err)}` }
    }
  }

  private processUnsafe(p: NoblePeripheral, timeMs: number): AdvertOutcome {
    const advert = toBleAdvert(p, timeMs, this.config.extended)
    if (!advert) return { kind: 'rejected', reason: 'bad_address', message: 'advert without a device address' }
    if (!this.allow.allows(advert.address, advert.name)) return IGNORED
    let decoded: DecodedAdvert | undefined
    let readings: Reading[]
    try {
      decoded = decodeAdvert(advert, this.decodeOpts)
      if (decoded === undefined) {
        // Unknown families are routine (phones, TVs, trackers): counted, never logged.
        if (!this.config.raw) return { kind: 'rejected', reason: 'unknown_advert' }
        readings = [this.rawReading(advert)]
      } else {
        const refused = this.bthomeGuards(advert, decoded)
        if (refused) return refused
        readings = advertToReadings(advert, decoded)
      }
    } catch (err) {
      if (!(err instanceof DecodeError)) throw err
      return { kind: 'rejected', reason: err.reason, message: `advert rejected: ${err.message}`, fields: describe(advert) }
    }
    return this.rateLimit(advert, decoded, readings)
  }

  private bthomeGuards(advert: BleAdvert, decoded: DecodedAdvert): AdvertOutcome | undefined {
    if (decoded.format !== 'bthome') return undefined
    const counter = decoded.encryptionCounter
    if (counter !== undefined && this.counterGuard.isReplay(advert.address, counter, this.now())) {
      return {
        kind: 'rejected',
        reason: 'replayed_counter',
        message: 'encrypted BTHome advert with an encryption counter that did not move forward (replay?)',
        fields: { ...describe(advert), counter },
      }
    }
    // Devices repeat each advert a few times; the packet id changes only with the data.
    if (decoded.packetId !== undefined && this.dedup.isDuplicate(advert.address, decoded.packetId)) {
      return { kind: 'rejected', reason: 'duplicate_packet_id' }
    }
    return undefined
  }

  private rateLimit(advert: BleAdvert, decoded: DecodedAdvert | undefined, readings: Reading[]): AdvertOutcome {
    if (readings.length === 0) return { kind: 'forward', readings }
    const now = this.now()
    // A press must reach the store now, and a trigger-based device only speaks when something
    // changed (a door opened): holding either back for the interval would lose the event.
    const bypass = readings.some((r) => r.priority === 'alert') || (decoded?.format === 'bthome' && decoded.triggerBased)
    if (bypass) {
      this.gate.touch(advert.address, now)
      return { kind: 'forward', readings }
    }
    if (!this.gate.admit(advert.address, now)) return { kind: 'rejected', reason: 'rate_limited' }
    return { kind: 'forward', readings }
  }

  private rawReading(advert: BleAdvert): Reading {
    return {
      deviceId: deviceIdFromAddress(advert.address),
      kind: 'ble.raw',
      priority: 'telemetry',
      timeMs: advert.timeMs,
      data: rawAdvertData(advert),
    }
  }
}

/** Log fields for a rejected advert: who and how big, never the bytes (they may be ciphertext or junk). */
function describe(advert: BleAdvert): Record<string, unknown> {
  return {
    address: advert.address,
    rssi: advert.rssi,
    serviceDataBytes: advert.serviceData.map((s) => `${s.uuid}:${s.data.length}`),
    manufacturerDataBytes: advert.manufacturerData?.length,
  }
}
