/**
 * noble `discover` peripheral -> the decoders' {@link BleAdvert}. Every field is checked: the
 * values come off the air through a binding we do not control, and one odd shape (a serviceData
 * entry without a Buffer, a numeric name) must cost one counted advert, not the source.
 *
 * Note: noble merges adverts per address (hci-socket gap.js keeps `manufacturerData` and
 * `localName` from earlier reports; noble.js "or"s fields into the Peripheral). We read the
 * peripheral synchronously inside the `discover` callback, so what we copy is what noble
 * reported for this event.
 */
import type { BleAdvert, BleServiceData } from '../decoders/advert.js'
import type { NoblePeripheral } from './noble-like.js'

/** HCI reports RSSI 127 for "not available" (Core spec Vol 4 Part E 7.7.65.2). */
const RSSI_UNAVAILABLE = 127

/**
 * Returns undefined when the peripheral has no string address (nothing to identify the device
 * by); the caller counts that as `bad_address`. Never throws.
 */
export function toBleAdvert(p: NoblePeripheral | null | undefined, timeMs: number, extended: boolean): BleAdvert | undefined {
  if (typeof p !== 'object' || p === null || typeof p.address !== 'string' || p.address === '') return undefined
  const ad = typeof p.advertisement === 'object' && p.advertisement !== null ? p.advertisement : {}
  const advert: BleAdvert = {
    address: p.address.toLowerCase(),
    serviceData: serviceDataOf(ad.serviceData),
    timeMs,
    extended,
  }
  if (typeof ad.localName === 'string') advert.name = ad.localName
  if (typeof p.rssi === 'number' && Number.isFinite(p.rssi) && p.rssi !== RSSI_UNAVAILABLE) advert.rssi = p.rssi
  if (Buffer.isBuffer(ad.manufacturerData)) advert.manufacturerData = ad.manufacturerData
  if (Array.isArray(ad.serviceUuids)) {
    const uuids = ad.serviceUuids.filter((u): u is string => typeof u === 'string').map((u) => u.toLowerCase())
    if (uuids.length > 0) advert.serviceUuids = uuids
  }
  return advert
}

function serviceDataOf(raw: unknown): BleServiceData[] {
  if (!Array.isArray(raw)) return []
  const out: BleServiceData[] = []
  for (const entry of raw) {
    const e = entry as { uuid?: unknown; data?: unknown } | null
    if (typeof e?.uuid === 'string' && Buffer.isBuffer(e.data)) out.push({ uuid: e.uuid.toLowerCase(), data: e.data })
  }
  return out
}

/** `ble.raw` reading data: the undecoded fields, bytes as base64 (sizes are bounded by the advert). */
export function rawAdvertData(advert: BleAdvert): Record<string, unknown> {
  const data: Record<string, unknown> = {
    serviceData: advert.serviceData.map((s) => ({ uuid: s.uuid, dataBase64: s.data.toString('base64') })),
  }
  if (advert.manufacturerData) data.manufacturerDataBase64 = advert.manufacturerData.toString('base64')
  if (advert.name !== undefined) data.name = advert.name
  if (advert.serviceUuids) data.serviceUuids = advert.serviceUuids
  if (advert.rssi !== undefined) data.rssiDbm = advert.rssi
  return data
}
