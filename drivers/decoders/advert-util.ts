/**
 * Lookups on a {@link BleAdvert} that every family decoder needs.
 */
import type { BleAdvert, DecodeOptions } from './advert.js'
import { normaliseAddress, uuid16 } from './bytes.js'

/** The first service data whose UUID is the given 16-bit UUID (4 lower-case hex chars). */
export function serviceDataFor(advert: BleAdvert, uuid: string): Buffer | undefined {
  for (const entry of advert.serviceData) {
    if (uuid16(entry.uuid) === uuid) return entry.data
  }
  return undefined
}

/**
 * Manufacturer-specific data split into the 16-bit company id (little-endian on air, Core spec
 * Supplement Part A 1.4) and the rest. Undefined when absent or shorter than the company id.
 */
export function manufacturerPayload(advert: BleAdvert): { companyId: number; payload: Buffer } | undefined {
  const m = advert.manufacturerData
  if (!m || m.length < 2) return undefined
  return { companyId: m.readUInt16LE(0), payload: m.subarray(2) }
}

/** The bindkey configured for this address (keys are matched on the normalised MAC). */
export function bindkeyFor(opts: DecodeOptions, address: string): Buffer | undefined {
  const keys = opts.bindkeys
  if (!keys) return undefined
  return keys.get(normaliseAddress(address)) ?? keys.get(address)
}
