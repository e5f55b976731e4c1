/**
 * RuuviTag manufacturer data (company id 0x0499), all fields big-endian:
 * - RAWv2, data format 5 (docs.ruuvi.com data-format-5-rawv2), 24 bytes.
 * - Cut-RAWv2, data format 0xC5 (data-format-c5-rawv2), 18 bytes: DF5 without acceleration.
 * - RAWv1, data format 3 (data-format-3-rawv1, deprecated), 14 bytes.
 * Other format bytes (Eddystone-URL formats 2/4 are not manufacturer data; E1/06 Ruuvi Air, F0...)
 * return undefined: not decoded here, counted as unrecognised by the caller.
 *
 * Decisions (../shared/vectors/ruuvi.json, theengs.json):
 * - Units follow the Ruuvi docs, not Theengs: acceleration in g (theengs.json crosscheck
 *   "DISAGREES: Ruuvi DF5 accz ... theengs divides mG by 10000, 10x too small").
 * - "Not available" markers (ruuvi.json not_available_rule) decode to null, never to a number.
 * - Bytes after the defined length are ignored: ruuvitag-sensor feeds DF5 with a trailing RSSI
 *   byte (case ruuvi-df5-ruuvitag-sensor-units) and Ruuvi may append fields in later firmware.
 * - The C5 doc vectors start with 0x05 (case descriptions: "DOC ERROR"); we decode the corrected
 *   0xC5 payloads. The as-documented 18-byte 0x05 payload is a truncated DF5 and throws.
 */
import type { BleAdvert } from './advert.js'
import { manufacturerPayload } from './advert-util.js'
import { formatMac, need } from './bytes.js'

/** Ruuvi Innovations Ltd. Bluetooth SIG company identifier. */
export const RUUVI_COMPANY_ID = 0x0499

/** A decoded RuuviTag advert. `null` = the tag reported "not available" for that field. */
export interface RuuviDecoded {
  format: 'ruuvi'
  dataFormat: 3 | 5 | 'C5'
  temperatureC: number | null
  humidityPct: number | null
  pressurePa: number | null
  /** Absent in format C5. */
  accelerationXG?: number | null
  accelerationYG?: number | null
  accelerationZG?: number | null
  batteryMv: number | null
  /** Formats 5 and C5 only. */
  txPowerDbm?: number | null
  movementCounter?: number | null
  measurementSequence?: number | null
  /** MAC the tag reports in the payload, lower-case colon form. */
  mac?: string | null
}

/**
 * Returns undefined unless the manufacturer data is Ruuvi's with format 3, 5 or 0xC5; throws
 * DecodeError `truncated` when such a payload is shorter than its format requires.
 */
export function decodeRuuvi(advert: BleAdvert): RuuviDecoded | undefined {
  const m = manufacturerPayload(advert)
  if (!m || m.companyId !== RUUVI_COMPANY_ID) return undefined
  return decodeRuuviPayload(m.payload)
}

/** Decodes the bytes after the company id. See {@link decodeRuuvi}. */
export function decodeRuuviPayload(p: Buffer): RuuviDecoded | undefined {
  need(p, 0, 1, 'Ruuvi data format byte')
  switch (p[0]) {
    case 0x05:
      return decodeDf5(p)
    case 0xc5:
      return decodeC5(p)
    case 0x03:
      return decodeDf3(p)
    default:
      return undefined
  }
}

const i16 = (p: Buffer, at: number) => p.readInt16BE(at)
const u16 = (p: Buffer, at: number) => p.readUInt16BE(at)
const orNull = (raw: number, invalid: number, f: (r: number) => number) => (raw === invalid ? null : f(raw))

// DF5/C5 shared fields. Temperature 0.005 °C, humidity 0.0025 %, pressure +50000 Pa.
const temp5 = (p: Buffer, at: number) => orNull(i16(p, at), -0x8000, (r) => (r * 5) / 1000)
const hum5 = (p: Buffer, at: number) => orNull(u16(p, at), 0xffff, (r) => (r * 25) / 10000)
const pres5 = (p: Buffer, at: number) => orNull(u16(p, at), 0xffff, (r) => r + 50000)
const accel = (p: Buffer, at: number) => orNull(i16(p, at), -0x8000, (r) => r / 1000)

/** Power info: upper 11 bits battery (+1600 mV), lower 5 bits TX power (-40 dBm + 2 dBm/step). */
function power(p: Buffer, at: number): { batteryMv: number | null; txPowerDbm: number | null } {
  const raw = u16(p, at)
  return {
    batteryMv: orNull(raw >> 5, 0x7ff, (r) => r + 1600),
    txPowerDbm: orNull(raw & 0x1f, 0x1f, (r) => -40 + 2 * r),
  }
}

function mac(p: Buffer, at: number): string | null {
  const bytes = p.subarray(at, at + 6)
  return bytes.every((b) => b === 0xff) ? null : formatMac(bytes)
}

function decodeDf5(p: Buffer): RuuviDecoded {
  need(p, 0, 24, 'Ruuvi data format 5')
  return {
    format: 'ruuvi',
    dataFormat: 5,
    temperatureC: temp5(p, 1),
    humidityPct: hum5(p, 3),
    pressurePa: pres5(p, 5),
    accelerationXG: accel(p, 7),
    accelerationYG: accel(p, 9),
    accelerationZG: accel(p, 11),
    ...power(p, 13),
    movementCounter: orNull(p[15], 0xff, (r) => r),
    measurementSequence: orNull(u16(p, 16), 0xffff, (r) => r),
    mac: mac(p, 18),
  }
}

function decodeC5(p: Buffer): RuuviDecoded {
  need(p, 0, 18, 'Ruuvi data format C5')
  return {
    format: 'ruuvi',
    dataFormat: 'C5',
    temperatureC: temp5(p, 1),
    humidityPct: hum5(p, 3),
    pressurePa: pres5(p, 5),
    ...power(p, 7),
    movementCounter: orNull(p[9], 0xff, (r) => r),
    measurementSequence: orNull(u16(p, 10), 0xffff, (r) => r),
    mac: mac(p, 12),
  }
}

/** RAWv1: humidity 0.5 %/bit; temperature = sign bit + integer byte, then 1/100 °C byte. */
function decodeDf3(p: Buffer): RuuviDecoded {
  need(p, 0, 14, 'Ruuvi data format 3')
  const whole = p[2] & 0x7f
  const sign = p[2] & 0x80 ? -1 : 1
  return {
    format: 'ruuvi',
    dataFormat: 3,
    humidityPct: p[1] / 2,
    temperatureC: (sign * (whole * 100 + p[3])) / 100,
    pressurePa: u16(p, 4) + 50000,
    accelerationXG: i16(p, 6) / 1000,
    accelerationYG: i16(p, 8) / 1000,
    accelerationZG: i16(p, 10) / 1000,
    batteryMv: u16(p, 12),
  }
}
