/**
 * The BLE advert as the decoders see it (noble's shape) and the dispatcher that tries each family.
 *
 * Contract shared by every family decoder (bthome.ts, ruuvi.ts, ibeacon.ts, eddystone.ts,
 * xiaomi-atc.ts): pure and synchronous; `undefined` = "not my family"; DecodeError = "my family,
 * but malformed / undecryptable". Nothing else is ever thrown (checked by fuzz tests).
 *
 * Family order in {@link decodeAdvert}, most specific signature first:
 *   1. BTHome     service data 0xFCD2 (a UUID registered for BTHome alone)
 *   2. Ruuvi      manufacturer data, company 0x0499 + format byte
 *   3. iBeacon    manufacturer data, company 0x004C + 02 15
 *   4. Eddystone  service data 0xFEAA + known frame type
 *   5. ATC/pvvx   service data 0x181A, recognised only by length (the UUID is generic), so last
 * The first family that claims the advert wins: it returns a result or its DecodeError propagates.
 * Adverts carrying two families (e.g. BTHome plus 0x181A, bthome.json test_bthome_multiple_uuids)
 * decode as the earlier one.
 */
import { DecodeError } from '../../gateway/core/errors.js'
import { decodeBthome, type BthomeDecoded } from './bthome.js'
import { decodeEddystone, type EddystoneDecoded } from './eddystone.js'
import { decodeIbeacon, type IbeaconDecoded } from './ibeacon.js'
import { decodeRuuvi, type RuuviDecoded } from './ruuvi.js'
import { decodeXiaomiAtc, type XiaomiAtcDecoded } from './xiaomi-atc.js'

/** One service data entry as noble reports it. */
export interface BleServiceData {
  /** Lower-case hex: 16-bit (`fcd2`) or 128-bit (with or without dashes). */
  uuid: string
  /** Bytes after the UUID. */
  data: Buffer
}

/** A received advertisement (advert + scan response merged, as noble delivers it). */
export interface BleAdvert {
  /** MAC, lower-case colon form. */
  address: string
  name?: string
  rssi?: number
  serviceData: BleServiceData[]
  /** Including the 2-byte little-endian company id, as noble gives it. */
  manufacturerData?: Buffer
  /** Service UUID list AD (noble `advertisement.serviceUuids`); only Eddystone looks at it. */
  serviceUuids?: string[]
  /** True when received as a Bluetooth 5 extended advert; selects the size limit. @default false */
  extended?: boolean
  /** Receive time, ms since epoch. */
  timeMs: number
}

/** Options for {@link decodeAdvert} and the family decoders. */
export interface DecodeOptions {
  /** AES-128 keys (16 bytes) by device MAC, lower-case colon form. BTHome and pvvx use them. */
  bindkeys?: ReadonlyMap<string, Buffer>
  /**
   * What to do at a BTHome object id we do not know. `throw` rejects the advert with
   * `unknown_object_id`; `stop` keeps the objects before it (bthome.io receiver rule) and adds a
   * warning. @default 'throw'
   */
  unknownObjectId?: 'throw' | 'stop'
}

/** Any decoded advert; switch on `format`. */
export type DecodedAdvert = BthomeDecoded | RuuviDecoded | IbeaconDecoded | EddystoneDecoded | XiaomiAtcDecoded

/** Legacy advertising PDU payload limit (Core spec Vol 6 Part B 2.3.1.x: AdvData 0-31 octets). */
export const LEGACY_ADV_MAX_BYTES = 31
/** One AD structure's length byte caps any extended-advert field at 255. */
export const EXTENDED_ADV_MAX_BYTES = 255

/**
 * Throws DecodeError `oversize` when a service data or the manufacturer data is longer than an
 * advert of this kind can carry (31 bytes legacy, 255 extended). Such input did not come off the
 * air intact; rejecting it early also bounds the work every decoder does.
 */
export function assertAdvertSize(advert: BleAdvert): void {
  const max = advert.extended ? EXTENDED_ADV_MAX_BYTES : LEGACY_ADV_MAX_BYTES
  const fields = [...advert.serviceData.map((s) => s.data), ...(advert.manufacturerData ? [advert.manufacturerData] : [])]
  for (const f of fields) {
    if (f.length > max) {
      throw new DecodeError('oversize', `advert field of ${f.length} bytes exceeds the ${max}-byte ${advert.extended ? 'extended' : 'legacy'} limit`)
    }
  }
}

const FAMILIES: ReadonlyArray<(a: BleAdvert, o: DecodeOptions) => DecodedAdvert | undefined> = [
  decodeBthome,
  decodeRuuvi,
  decodeIbeacon,
  decodeEddystone,
  decodeXiaomiAtc,
]

/**
 * Decodes an advert with the first family that recognises it (order in the module header).
 * Returns undefined when no family does. Throws DecodeError `oversize` (see
 * {@link assertAdvertSize}) or the claiming family's DecodeError; never anything else.
 */
export function decodeAdvert(advert: BleAdvert, opts: DecodeOptions = {}): DecodedAdvert | undefined {
  assertAdvertSize(advert)
  for (const decode of FAMILIES) {
    const decoded = decode(advert, opts)
    if (decoded !== undefined) return decoded
  }
  return undefined
}
