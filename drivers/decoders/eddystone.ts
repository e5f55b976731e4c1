/**
 * Google Eddystone (service data under 16-bit UUID 0xFEAA; github.com/google/eddystone),
 * all multi-byte fields big-endian:
 * - UID 0x00: tx power @0 m (int8), namespace (10), instance (6), RFU (2, optional: legacy 0x15 length).
 * - URL 0x10: tx power, scheme prefix, encoded URL (eddystone-url/README.md expansion codes).
 * - TLM 0x20: version 0x00 plain (VBATT mV, TEMP 8.8 signed, ADV_CNT, SEC_CNT 0.1 s);
 *   version 0x01 encrypted eTLM (12 bytes ciphertext, salt, MIC; decrypting needs the EIK).
 * - EID 0x30: tx power, 8-byte ephemeral id.
 * Other frame types (vendor frames such as BlueCharm's 0x21, beacons.json beacontools-bad-5)
 * are not Eddystone: undefined.
 *
 * Decisions (../shared/vectors/beacons.json):
 * - TLM SEC_CNT has 0.1 s resolution (case beacontools-eddystone-tlm note: beacontools calls the raw
 *   count seconds; the Google spec wins): `uptimeS` = raw / 10, raw kept as `secCountRaw`.
 * - eTLM salt and MIC are big-endian per the spec (case beacontools-eddystone-etlm: beacontools
 *   reads them little-endian and past the AD length). A 14-byte eTLM is truncated and throws.
 * - An advert whose 16-bit UUID list is present and lacks 0xFEAA is not Eddystone (case
 *   beacontools-bad-4); an absent or empty list is tolerated (many cheap beacons omit it).
 */
import { DecodeError } from '../../gateway/core/errors.js'
import type { BleAdvert } from './advert.js'
import { serviceDataFor } from './advert-util.js'
import { hex, need, uuid16 } from './bytes.js'

/** Eddystone service UUID. */
export const EDDYSTONE_UUID16 = 'feaa'

/** A decoded Eddystone frame. */
export type EddystoneDecoded =
  | { format: 'eddystone'; frame: 'uid'; txPowerDbm: number; namespace: string; instance: string }
  | { format: 'eddystone'; frame: 'url'; txPowerDbm: number; url: string }
  | {
      format: 'eddystone'
      frame: 'tlm'
      version: 0
      /** null: beacon reports 0 (not battery powered / not supported). */
      batteryMv: number | null
      /** null: 0x8000 "not supported". */
      temperatureC: number | null
      advCount: number
      secCountRaw: number
      uptimeS: number
    }
  | { format: 'eddystone'; frame: 'etlm'; version: 1; encryptedTlmHex: string; salt: number; mic: number }
  | { format: 'eddystone'; frame: 'eid'; txPowerDbm: number; eidHex: string }

/**
 * Returns undefined unless the advert carries 0xFEAA service data with a known frame type;
 * throws DecodeError `truncated`, `bad_format` (bad URL scheme/characters) or
 * `unsupported_version` (TLM version other than 0 or 1).
 */
export function decodeEddystone(advert: BleAdvert): EddystoneDecoded | undefined {
  const data = serviceDataFor(advert, EDDYSTONE_UUID16)
  if (data === undefined || data.length === 0) return undefined
  const listed = advert.serviceUuids
  if (listed && listed.length > 0 && !listed.some((u) => uuid16(u) === EDDYSTONE_UUID16)) return undefined
  switch (data[0]) {
    case 0x00:
      need(data, 0, 18, 'Eddystone-UID')
      return {
        format: 'eddystone',
        frame: 'uid',
        txPowerDbm: data.readInt8(1),
        namespace: hex(data.subarray(2, 12)),
        instance: hex(data.subarray(12, 18)),
      }
    case 0x10:
      need(data, 0, 3, 'Eddystone-URL')
      return { format: 'eddystone', frame: 'url', txPowerDbm: data.readInt8(1), url: decodeUrl(data.subarray(2)) }
    case 0x20:
      return decodeTlm(data)
    case 0x30:
      need(data, 0, 10, 'Eddystone-EID')
      return { format: 'eddystone', frame: 'eid', txPowerDbm: data.readInt8(1), eidHex: hex(data.subarray(2, 10)) }
    default:
      return undefined
  }
}

function decodeTlm(data: Buffer): EddystoneDecoded {
  need(data, 0, 2, 'Eddystone-TLM version')
  const version = data[1]
  if (version === 0x00) {
    need(data, 0, 14, 'Eddystone-TLM')
    const vbatt = data.readUInt16BE(2)
    const temp = data.readInt16BE(4)
    const secCountRaw = data.readUInt32BE(10)
    return {
      format: 'eddystone',
      frame: 'tlm',
      version: 0,
      batteryMv: vbatt === 0 ? null : vbatt,
      temperatureC: temp === -0x8000 ? null : temp / 256,
      advCount: data.readUInt32BE(6),
      secCountRaw,
      uptimeS: secCountRaw / 10,
    }
  }
  if (version === 0x01) {
    need(data, 0, 18, 'Eddystone-eTLM')
    return {
      format: 'eddystone',
      frame: 'etlm',
      version: 1,
      encryptedTlmHex: hex(data.subarray(2, 14)),
      salt: data.readUInt16BE(14),
      mic: data.readUInt16BE(16),
    }
  }
  throw new DecodeError('unsupported_version', `Eddystone-TLM version 0x${version.toString(16)}`)
}

const SCHEMES = ['http://www.', 'https://www.', 'http://', 'https://']
const EXPANSIONS = ['.com/', '.org/', '.edu/', '.net/', '.info/', '.biz/', '.gov/', '.com', '.org', '.edu', '.net', '.info', '.biz', '.gov']

/** eddystone-url/README.md: scheme byte, then printable ASCII or expansion codes 0x00-0x0D. */
function decodeUrl(body: Buffer): string {
  const scheme = SCHEMES[body[0]]
  if (scheme === undefined) throw new DecodeError('bad_format', `Eddystone-URL scheme 0x${body[0].toString(16)} is reserved`)
  let url = scheme
  for (const b of body.subarray(1)) {
    if (b < EXPANSIONS.length) url += EXPANSIONS[b]
    else if (b > 0x20 && b < 0x7f) url += String.fromCharCode(b)
    else throw new DecodeError('bad_format', `Eddystone-URL byte 0x${b.toString(16)} is reserved`)
  }
  return url
}
