/**
 * Splits raw advertising data (a sequence of AD structures: length, type, data; Core spec Vol 3
 * Part C 11) into the {@link BleAdvert} fields noble would report. In production noble does this;
 * the CLI, the simulator and the vector tests (which carry raw `adv_hex`) use this one.
 *
 * Lenient like BlueZ: parsing stops at the first structure whose length runs past the end, keeping
 * the well-formed ones before it (`truncatedAt` says where). A zero length byte ends the data
 * (padding). Never throws.
 */
import type { BleAdvert, BleServiceData } from './advert.js'

/** The fields of a BleAdvert that raw advertising data carries, plus parse diagnostics. */
export interface ParsedAdvertisingData {
  flags?: number
  name?: string
  serviceUuids: string[]
  serviceData: BleServiceData[]
  manufacturerData?: Buffer
  /** Offset of a structure that ran past the end, if any. */
  truncatedAt?: number
}

// Assigned numbers, "Common Data Types".
const AD_FLAGS = 0x01
const AD_UUID16_INCOMPLETE = 0x02
const AD_UUID16_COMPLETE = 0x03
const AD_UUID128_INCOMPLETE = 0x06
const AD_UUID128_COMPLETE = 0x07
const AD_NAME_SHORT = 0x08
const AD_NAME_COMPLETE = 0x09
const AD_SERVICE_DATA16 = 0x16
const AD_SERVICE_DATA128 = 0x21
const AD_MANUFACTURER = 0xff

/** Parses raw AD structures. See the module header for the leniency rules. */
export function parseAdvertisingData(raw: Buffer): ParsedAdvertisingData {
  const out: ParsedAdvertisingData = { serviceUuids: [], serviceData: [] }
  let at = 0
  while (at < raw.length) {
    const len = raw[at]
    if (len === 0) break
    if (at + 1 + len > raw.length) {
      out.truncatedAt = at
      break
    }
    addStructure(out, raw[at + 1], raw.subarray(at + 2, at + 1 + len))
    at += 1 + len
  }
  return out
}

/** A BleAdvert from raw advertising data plus the metadata the radio adds. */
export function advertFromRaw(raw: Buffer, meta: { address: string; rssi?: number; timeMs: number; extended?: boolean }): BleAdvert {
  const p = parseAdvertisingData(raw)
  return {
    address: meta.address,
    rssi: meta.rssi,
    timeMs: meta.timeMs,
    extended: meta.extended,
    name: p.name,
    serviceData: p.serviceData,
    manufacturerData: p.manufacturerData,
    serviceUuids: p.serviceUuids,
  }
}

/** UUIDs are little-endian on air; noble prints them big-endian lower-case without dashes. */
const uuidText = (bytes: Buffer) => Buffer.from(bytes).reverse().toString('hex')

function addStructure(out: ParsedAdvertisingData, type: number, data: Buffer): void {
  switch (type) {
    case AD_FLAGS:
      if (data.length > 0) out.flags = data[0]
      break
    case AD_UUID16_INCOMPLETE:
    case AD_UUID16_COMPLETE:
      for (let i = 0; i + 2 <= data.length; i += 2) out.serviceUuids.push(uuidText(data.subarray(i, i + 2)))
      break
    case AD_UUID128_INCOMPLETE:
    case AD_UUID128_COMPLETE:
      for (let i = 0; i + 16 <= data.length; i += 16) out.serviceUuids.push(uuidText(data.subarray(i, i + 16)))
      break
    case AD_NAME_SHORT:
    case AD_NAME_COMPLETE:
      out.name = data.toString('utf8')
      break
    case AD_SERVICE_DATA16:
      if (data.length >= 2) out.serviceData.push({ uuid: uuidText(data.subarray(0, 2)), data: Buffer.from(data.subarray(2)) })
      break
    case AD_SERVICE_DATA128:
      if (data.length >= 16) out.serviceData.push({ uuid: uuidText(data.subarray(0, 16)), data: Buffer.from(data.subarray(16)) })
      break
    case AD_MANUFACTURER:
      out.manufacturerData = Buffer.from(data)
      break
  }
}
