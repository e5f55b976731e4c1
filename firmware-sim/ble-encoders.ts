/**
 * Encoders for the BLE advert formats the gateway decodes, so the simulator puts the REAL on-air
 * bytes into noble (the inverse of drivers/decoders; test/ble-encoders.test.ts checks both ways
 * against the public vectors).
 *
 * Layers, bottom up:
 * - AD structures (Core spec Vol 3 Part C 11): `length | type | data`; an advert's payload is a
 *   sequence of them, at most 31 bytes legacy (Vol 6 Part B 2.3.1) or 255 in one extended field.
 * - Family payloads: BTHome v2 service data (bthome.io/format), RuuviTag RAWv2 manufacturer data
 *   (docs.ruuvi.com data-format-5-rawv2), ATC1441 / pvvx service data under 0x181A, iBeacon.
 * - Whole adverts (`bthomeAdvert`, `ruuviAdvert`...): flags + payload (+ name), ready for
 *   {@link SimulatedBleBinding.advertise}.
 *
 * Encoders do not validate ranges beyond what the field width forces: a simulator must be able to
 * send out-of-range or malformed data on purpose.
 */
import { encryptBthomePayload } from '../drivers/decoders/bthome-crypto.js'

// Assigned numbers, "Common Data Types".
export const AD_FLAGS = 0x01
export const AD_COMPLETE_NAME = 0x09
export const AD_SERVICE_DATA16 = 0x16
export const AD_MANUFACTURER = 0xff
/** LE General Discoverable + BR/EDR not supported: what sensor firmware advertises. */
export const FLAGS_LE_GENERAL = 0x06

/** One AD structure. Throws RangeError when `data` cannot fit a length byte. */
export function adStructure(type: number, data: Buffer): Buffer {
  if (data.length > 254) throw new RangeError(`AD data of ${data.length} bytes does not fit one length byte`)
  return Buffer.concat([Buffer.from([data.length + 1, type]), data])
}

/** Flags AD. */
export const flagsAd = (flags = FLAGS_LE_GENERAL): Buffer => adStructure(AD_FLAGS, Buffer.from([flags]))
/** Complete Local Name AD (UTF-8). */
export const nameAd = (name: string): Buffer => adStructure(AD_COMPLETE_NAME, Buffer.from(name, 'utf8'))
/** 16-bit Service Data AD; the UUID goes on air little-endian. */
export function serviceData16Ad(uuid16: number, data: Buffer): Buffer {
  const uuid = Buffer.alloc(2)
  uuid.writeUInt16LE(uuid16, 0)
  return adStructure(AD_SERVICE_DATA16, Buffer.concat([uuid, data]))
}
/** Manufacturer Specific Data AD; the company id goes on air little-endian. */
export function manufacturerAd(companyId: number, payload: Buffer): Buffer {
  const id = Buffer.alloc(2)
  id.writeUInt16LE(companyId, 0)
  return adStructure(AD_MANUFACTURER, Buffer.concat([id, payload]))
}

/** A 6-byte MAC in printed order from `aa:bb:cc:dd:ee:ff`. Throws TypeError for anything else. */
export function macToBytes(mac: string): Buffer {
  const clean = mac.replace(/[:-]/g, '')
  if (!/^[0-9a-fA-F]{12}$/.test(clean)) throw new TypeError(`not a MAC: '${mac}'`)
  return Buffer.from(clean, 'hex')
}

// ---- BTHome v2 -------------------------------------------------------------------------------

/** Button event ids (bthome.io "Events"). */
export const BTHOME_BUTTON = { none: 0x00, press: 0x01, double_press: 0x02, triple_press: 0x03, long_press: 0x04 } as const

/** Measurements a simulated BTHome device sends; objects go out in id order as bthome.io asks. */
export interface BthomeFields {
  packetId?: number
  batteryPct?: number
  temperatureC?: number
  humidityPct?: number
  /** Binary sensor 0x2D "window" (true = open). */
  windowOpen?: boolean
  button?: keyof typeof BTHOME_BUTTON
  /** Appended verbatim after the known objects (unknown ids, truncated objects...). */
  extraObjects?: Buffer
}

/** BTHome object bytes (what follows devinfo in a plain advert). */
export function bthomeObjects(f: BthomeFields): Buffer {
  const parts: Buffer[] = []
  const u8 = (id: number, v: number) => parts.push(Buffer.from([id, v & 0xff]))
  const i16 = (id: number, v: number, signed: boolean) => {
    const b = Buffer.alloc(3)
    b[0] = id
    if (signed) b.writeInt16LE(Math.round(v), 1)
    else b.writeUInt16LE(Math.round(v) & 0xffff, 1)
    parts.push(b)
  }
  if (f.packetId !== undefined) u8(0x00, f.packetId)
  if (f.batteryPct !== undefined) u8(0x01, f.batteryPct)
  if (f.temperatureC !== undefined) i16(0x02, f.temperatureC * 100, true)
  if (f.humidityPct !== undefined) i16(0x03, f.humidityPct * 100, false)
  if (f.windowOpen !== undefined) u8(0x2d, f.windowOpen ? 1 : 0)
  if (f.button !== undefined) u8(0x3a, BTHOME_BUTTON[f.button])
  if (f.extraObjects) parts.push(f.extraObjects)
  return Buffer.concat(parts)
}

/** Encryption of a BTHome advert: AES-128-CCM with the device's bindkey (bthome.io/encryption). */
export interface BthomeEncryption {
  /** 16-byte key (32 hex chars in config). */
  bindkey: Buffer
  /** 32-bit counter; must increase per advert or the gateway counts a replay. */
  counter: number
  /** Device MAC used in the nonce, printed order. */
  mac: string
}

/**
 * BTHome v2 service data (bytes after the 0xFCD2 UUID). devinfo: version 2 (0x40), bit 0 when
 * encrypted, bit 2 for a trigger-based device (sends on change, not periodically).
 */
export function bthomeServiceData(f: BthomeFields, opts: { encrypt?: BthomeEncryption; triggerBased?: boolean } = {}): Buffer {
  const objects = bthomeObjects(f)
  const info = 0x40 | (opts.triggerBased ? 0x04 : 0)
  if (!opts.encrypt) return Buffer.concat([Buffer.from([info]), objects])
  const { bindkey, counter, mac } = opts.encrypt
  return encryptBthomePayload(objects, macToBytes(mac), bindkey, counter, info | 0x01)
}

/** A whole BTHome advert: flags, service data 0xFCD2, optional name (if it fits). */
export function bthomeAdvert(f: BthomeFields, opts: { encrypt?: BthomeEncryption; triggerBased?: boolean; name?: string } = {}): Buffer {
  const parts = [flagsAd(), serviceData16Ad(0xfcd2, bthomeServiceData(f, opts))]
  if (opts.name) parts.push(nameAd(opts.name))
  return Buffer.concat(parts)
}

// ---- RuuviTag RAWv2 (data format 5) ----------------------------------------------------------

/** RuuviTag RAWv2 fields in the units of the Ruuvi docs. Omitted fields are sent as "not available". */
export interface RuuviDf5Fields {
  temperatureC?: number
  humidityPct?: number
  pressurePa?: number
  accelerationXG?: number
  accelerationYG?: number
  accelerationZG?: number
  batteryMv?: number
  txPowerDbm?: number
  movementCounter?: number
  measurementSequence?: number
  mac?: string
}

/** The 24-byte RAWv2 payload (after the company id). All fields big-endian. */
export function ruuviDf5Payload(f: RuuviDf5Fields): Buffer {
  const p = Buffer.alloc(24)
  p[0] = 0x05
  p.writeInt16BE(f.temperatureC === undefined ? -0x8000 : Math.round(f.temperatureC / 0.005), 1)
  p.writeUInt16BE(f.humidityPct === undefined ? 0xffff : Math.round(f.humidityPct / 0.0025), 3)
  p.writeUInt16BE(f.pressurePa === undefined ? 0xffff : Math.round(f.pressurePa - 50000), 5)
  const accel = (v: number | undefined) => (v === undefined ? -0x8000 : Math.round(v * 1000))
  p.writeInt16BE(accel(f.accelerationXG), 7)
  p.writeInt16BE(accel(f.accelerationYG), 9)
  p.writeInt16BE(accel(f.accelerationZG), 11)
  // Power info: 11 bits battery above 1600 mV, 5 bits TX power in 2 dBm steps above -40 dBm.
  const battery = f.batteryMv === undefined ? 0x7ff : Math.round(f.batteryMv - 1600)
  const tx = f.txPowerDbm === undefined ? 0x1f : Math.round((f.txPowerDbm + 40) / 2)
  p.writeUInt16BE(((battery & 0x7ff) << 5) | (tx & 0x1f), 13)
  p[15] = f.movementCounter === undefined ? 0xff : f.movementCounter
  p.writeUInt16BE(f.measurementSequence === undefined ? 0xffff : f.measurementSequence, 16)
  if (f.mac) macToBytes(f.mac).copy(p, 18)
  else p.fill(0xff, 18)
  return p
}

/** A whole RuuviTag advert: flags + manufacturer data 0x0499. */
export const ruuviAdvert = (f: RuuviDf5Fields): Buffer => Buffer.concat([flagsAd(), manufacturerAd(0x0499, ruuviDf5Payload(f))])

// ---- ATC1441 / pvvx (service data 0x181A) -----------------------------------------------------

/** Fields of the ATC_MiThermometer custom firmware adverts. */
export interface AtcFields {
  mac: string
  temperatureC: number
  humidityPct: number
  batteryPct: number
  batteryMv: number
  frameCounter: number
  /** pvvx only. @default 0 */
  flags?: number
}

/** ATC1441 format, 13 bytes big-endian: MAC, temp x10, humidity %, battery %, battery mV, counter. */
export function atc1441ServiceData(f: AtcFields): Buffer {
  const d = Buffer.alloc(13)
  macToBytes(f.mac).copy(d, 0)
  d.writeInt16BE(Math.round(f.temperatureC * 10), 6)
  d[8] = Math.round(f.humidityPct)
  d[9] = f.batteryPct
  d.writeUInt16BE(f.batteryMv, 10)
  d[12] = f.frameCounter & 0xff
  return d
}

/** pvvx custom format, 15 bytes little-endian: MAC reversed, temp x100, humidity x100, mV, %, counter, flags. */
export function pvvxServiceData(f: AtcFields): Buffer {
  const d = Buffer.alloc(15)
  Buffer.from(macToBytes(f.mac)).reverse().copy(d, 0)
  d.writeInt16LE(Math.round(f.temperatureC * 100), 6)
  d.writeUInt16LE(Math.round(f.humidityPct * 100), 8)
  d.writeUInt16LE(f.batteryMv, 10)
  d[12] = f.batteryPct
  d[13] = f.frameCounter & 0xff
  d[14] = f.flags ?? 0
  return d
}

/**
 * A whole ATC advert: flags + service data 0x181A (20 or 22 bytes). The firmware's `ATC_xxxxxx`
 * name does not fit next to it in 31 bytes: it goes in the scan response ({@link atcScanResponse}).
 */
export function atcAdvert(f: AtcFields, variant: 'atc1441' | 'pvvx' = 'atc1441'): Buffer {
  const data = variant === 'atc1441' ? atc1441ServiceData(f) : pvvxServiceData(f)
  return Buffer.concat([flagsAd(), serviceData16Ad(0x181a, data)])
}

/** Scan response of an ATC thermometer: its name, `ATC_` + the last 3 MAC bytes. */
export const atcScanResponse = (mac: string): Buffer => nameAd(`ATC_${mac.replace(/:/g, '').slice(6).toUpperCase()}`)

// ---- iBeacon ---------------------------------------------------------------------------------

/** iBeacon fields. */
export interface IbeaconFields {
  /** Proximity UUID, 8-4-4-4-12 hex (dashes optional). */
  uuid: string
  major: number
  minor: number
  /** Measured power at 1 m, dBm. */
  txPowerDbm: number
}

/** Apple iBeacon payload after the company id: 02 15 | UUID | major BE | minor BE | power int8. */
export function ibeaconPayload(f: IbeaconFields): Buffer {
  const p = Buffer.alloc(23)
  p[0] = 0x02
  p[1] = 0x15
  Buffer.from(f.uuid.replace(/-/g, ''), 'hex').copy(p, 2)
  p.writeUInt16BE(f.major, 18)
  p.writeUInt16BE(f.minor, 20)
  p.writeInt8(f.txPowerDbm, 22)
  return p
}

/** A whole iBeacon advert: flags (0x1A as Apple specifies) + manufacturer data 0x004C. Exactly 30 bytes. */
export const ibeaconAdvert = (f: IbeaconFields): Buffer => Buffer.concat([flagsAd(0x1a), manufacturerAd(0x004c, ibeaconPayload(f))])
