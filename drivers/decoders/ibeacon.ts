/**
 * Apple iBeacon (manufacturer data, company id 0x004C):
 *
 *   4C 00 | 02 (type: beacon) | 15 (remaining length 21) | proximity UUID (16) | major (BE) | minor (BE) | measured power (int8, dBm at 1 m)
 *
 * Other Apple manufacturer data (AirPods, Nearby, Find My use other type bytes) is not ours:
 * undefined. Decisions (../shared/vectors/beacons.json):
 * - Measured power is always the signed iBeacon field, even when a vendor reuses the byte
 *   (case theengs-ibeacon-nrf51822 note: Theengs reads 0x1A as 2.6 V for that device name; the
 *   standard field gives +26 dBm). We decode the standard; vendor meaning is the consumer's call.
 * - Vendor data packed into major/minor (case beacontools-ibeacon-cypress) is left as raw numbers.
 * - Bytes after the 23-byte beacon body are ignored (some beacons append a battery byte).
 */
import type { BleAdvert } from './advert.js'
import { manufacturerPayload } from './advert-util.js'
import { need } from './bytes.js'

/** Apple, Inc. Bluetooth SIG company identifier. */
export const APPLE_COMPANY_ID = 0x004c
const IBEACON_TYPE = 0x02
const IBEACON_LENGTH = 0x15

/** A decoded iBeacon. */
export interface IbeaconDecoded {
  format: 'ibeacon'
  /** Proximity UUID, lower-case 8-4-4-4-12 form. */
  uuid: string
  major: number
  minor: number
  /** Calibrated RSSI at 1 m, dBm. */
  txPowerDbm: number
}

/**
 * Returns undefined unless the manufacturer data starts 4C 00 02 15; throws DecodeError
 * `truncated` when such data is shorter than the 25-byte iBeacon frame.
 */
export function decodeIbeacon(advert: BleAdvert): IbeaconDecoded | undefined {
  const m = manufacturerPayload(advert)
  if (!m || m.companyId !== APPLE_COMPANY_ID) return undefined
  const p = m.payload
  if (p.length < 2 || p[0] !== IBEACON_TYPE || p[1] !== IBEACON_LENGTH) return undefined
  need(p, 2, IBEACON_LENGTH, 'iBeacon body')
  const u = p.subarray(2, 18).toString('hex')
  return {
    format: 'ibeacon',
    uuid: `${u.slice(0, 8)}-${u.slice(8, 12)}-${u.slice(12, 16)}-${u.slice(16, 20)}-${u.slice(20)}`,
    major: p.readUInt16BE(18),
    minor: p.readUInt16BE(20),
    txPowerDbm: p.readInt8(22),
  }
}
