/**
 * Custom firmware for Xiaomi LYWSD03MMC / MJWSD05MMC, Qingping CGG1 and friends, advertising
 * service data under the SIG Environmental Sensing UUID 0x181A. The UUID is generic (b-parasite
 * uses it too), so the layout is recognised by exact length; other lengths return undefined.
 *
 * - 13 bytes, ATC1441 (github.com/atc1441/ATC_MiThermometer "Advertising format"), big-endian:
 *   MAC(6) temp int16 /10 °C, humidity %, battery %, battery mV uint16, frame counter.
 * - 15 bytes, pvvx custom (github.com/pvvx/ATC_MiThermometer "Custom format"), little-endian:
 *   MAC(6, reversed) temp int16 /100, humidity uint16 /100, battery mV, battery %, counter, flags.
 * - 11 bytes, pvvx encrypted custom: counter(1) ciphertext(6: temp, humidity, battery %, flags) MIC(4).
 * - 8 bytes, pvvx encrypted ATC1441: counter(1) ciphertext(3: (t+40)*2, humidity*2, battery % | trigger<<7) MIC(4).
 *   Encrypted forms: AES-128-CCM, tag 4, AAD 0x11, nonce = MAC (reversed, 6) | AD length | 0x16 |
 *   1A 18 | counter (layout checked against custom-components/ble_monitor test_atc_custom_encrypted).
 *
 * Decision (../shared/vectors/theengs.json test_uuid_name_svcdata[77]): Theengs reports the
 * encrypted pieces undecoded; without a bindkey we throw `missing_bindkey` instead, so encrypted
 * bytes are counted and never stored as if they were a reading.
 */
import { DecodeError } from '../../gateway/core/errors.js'
import type { BleAdvert, DecodeOptions } from './advert.js'
import { bindkeyFor, serviceDataFor } from './advert-util.js'
import { MIC_BYTES, decryptAesCcm } from './aes-ccm.js'
import { formatMac, macBytes } from './bytes.js'

/** Environmental Sensing service UUID (Bluetooth SIG assigned numbers). */
export const ENVIRONMENTAL_SENSING_UUID16 = '181a'

/** A decoded ATC1441 or pvvx advert. */
export interface XiaomiAtcDecoded {
  format: 'xiaomi_atc'
  variant: 'atc1441' | 'pvvx'
  encrypted: boolean
  /** MAC from the payload (unencrypted layouts only), lower-case colon form. */
  mac?: string
  temperatureC: number
  humidityPct: number
  batteryPct: number
  /** Not sent in the encrypted layouts. */
  batteryMv?: number
  /** Increments on each new measurement; usable for de-duplication like a BTHome packet id. */
  frameCounter: number
  /** pvvx flags byte (bit0 reed switch, bit1 GPIO trigger output, bit2 trigger controlled, bit3/4 temp/humidity trigger). */
  flags?: number
  /** ATC1441 encrypted: trigger output bit. */
  trigger?: boolean
}

/**
 * Returns undefined unless the advert has 0x181A service data of length 13, 15, 11 or 8. Throws
 * DecodeError `missing_bindkey`, `bad_bindkey`, `bad_mic` or `bad_address` for the encrypted
 * layouts.
 */
export function decodeXiaomiAtc(advert: BleAdvert, opts: DecodeOptions = {}): XiaomiAtcDecoded | undefined {
  const d = serviceDataFor(advert, ENVIRONMENTAL_SENSING_UUID16)
  if (d === undefined) return undefined
  switch (d.length) {
    case 13:
      return {
        format: 'xiaomi_atc',
        variant: 'atc1441',
        encrypted: false,
        mac: formatMac(d.subarray(0, 6)),
        temperatureC: d.readInt16BE(6) / 10,
        humidityPct: d[8],
        batteryPct: d[9],
        batteryMv: d.readUInt16BE(10),
        frameCounter: d[12],
      }
    case 15:
      return {
        format: 'xiaomi_atc',
        variant: 'pvvx',
        encrypted: false,
        mac: formatMac(Buffer.from(d.subarray(0, 6)).reverse()),
        temperatureC: d.readInt16LE(6) / 100,
        humidityPct: d.readUInt16LE(8) / 100,
        batteryMv: d.readUInt16LE(10),
        batteryPct: d[12],
        frameCounter: d[13],
        flags: d[14],
      }
    case 11:
    case 8:
      return decodeEncrypted(d, advert.address, opts)
    default:
      return undefined
  }
}

function decodeEncrypted(d: Buffer, address: string, opts: DecodeOptions): XiaomiAtcDecoded {
  const key = bindkeyFor(opts, address)
  if (!key) throw new DecodeError('missing_bindkey', `encrypted pvvx advert from ${address} and no bindkey is configured`)
  const mac = macBytes(address)
  if (!mac) throw new DecodeError('bad_address', `cannot build the pvvx nonce: '${address}' is not a MAC`)
  // The AD length byte (type + UUID + data) is part of the nonce, as is the 0x16 AD type.
  const header = Buffer.from([d.length + 3, 0x16, 0x1a, 0x18, d[0]])
  const nonce = Buffer.concat([Buffer.from(mac).reverse(), header])
  const plain = decryptAesCcm(key, nonce, d.subarray(1, d.length - MIC_BYTES), d.subarray(d.length - MIC_BYTES), Buffer.from([0x11]))
  if (d.length === 11) {
    return {
      format: 'xiaomi_atc',
      variant: 'pvvx',
      encrypted: true,
      temperatureC: plain.readInt16LE(0) / 100,
      humidityPct: plain.readUInt16LE(2) / 100,
      batteryPct: plain[4],
      frameCounter: d[0],
      flags: plain[5],
    }
  }
  return {
    format: 'xiaomi_atc',
    variant: 'atc1441',
    encrypted: true,
    temperatureC: plain[0] / 2 - 40,
    humidityPct: plain[1] / 2,
    batteryPct: plain[2] & 0x7f,
    frameCounter: d[0],
    trigger: (plain[2] & 0x80) !== 0,
  }
}
