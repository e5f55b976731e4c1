/**
 * Decoded adverts -> gateway Readings.
 *
 * Conventions:
 * - deviceId: the advert MAC without colons, lower-case (`a4c1388d18b2`), for beacons too (a
 *   beacon's UUID/major/minor or namespace/instance travel in `data`).
 * - Units live in data keys: `temperatureC`, `humidityPct`, `pressureHpa`, `batteryPct`,
 *   `batteryMv`, `rssiDbm`, `txPowerDbm` ... BTHome keys come from bthome-objects.ts.
 * - Fields a device reports as "not available" (Ruuvi, Eddystone-TLM) are omitted, never null.
 * - Kinds and priorities: `environment` (climate, air quality, battery), `measurement` (other
 *   BTHome numbers, text, device info), `state` (BTHome binary sensors), `beacon.ibeacon`,
 *   `beacon.eddystone.<frame>` are `telemetry`; BTHome events become `<device>.<event>`
 *   (`button.press`, `dimmer.rotate_left`, `command.toggle`, `button.unknown`) with priority `alert`.
 */
import { DecodeError } from '../../gateway/core/errors.js'
import type { Reading } from '../../gateway/core/types.js'
import type { BleAdvert, DecodedAdvert } from './advert.js'
import type { BthomeDecoded } from './bthome.js'
import { BTHOME_OBJECTS } from './bthome-objects.js'
import type { EddystoneDecoded } from './eddystone.js'
import { macBytes } from './bytes.js'

/** Options for {@link advertToReadings}. */
export interface ReadingOptions {
  /** Add the advert RSSI as `rssiDbm` to every reading. @default true */
  includeRssi?: boolean
}

/** BTHome object names that describe the environment (or the device's battery). */
const ENVIRONMENT_NAMES = new Set([
  'temperature', 'humidity', 'pressure', 'battery', 'dew_point', 'illuminance', 'carbon_dioxide',
  'volatile_organic_compounds', 'pm25', 'pm10', 'moisture', 'uv_index',
])

type Data = Record<string, unknown>

/** `a4:c1:38:8d:18:b2` -> `a4c1388d18b2`; throws DecodeError `bad_address` for a non-MAC. */
export function deviceIdFromAddress(address: string): string {
  const bytes = macBytes(address)
  if (!bytes) throw new DecodeError('bad_address', `advert address '${address}' is not a MAC`)
  return bytes.toString('hex')
}

/**
 * Converts one decoded advert to readings (possibly several: BTHome splits environment,
 * measurements, states and one reading per event). Pure; throws DecodeError `bad_address` only.
 */
export function advertToReadings(advert: BleAdvert, decoded: DecodedAdvert, opts: ReadingOptions = {}): Reading[] {
  const deviceId = deviceIdFromAddress(advert.address)
  const extra: Data = opts.includeRssi !== false && advert.rssi !== undefined ? { rssiDbm: advert.rssi } : {}
  const reading = (kind: string, data: Data, priority: Reading['priority'] = 'telemetry'): Reading => ({
    deviceId,
    kind,
    priority,
    timeMs: advert.timeMs,
    data: compact({ ...data, ...extra }),
  })
  switch (decoded.format) {
    case 'bthome':
      return bthomeReadings(decoded, reading)
    case 'ruuvi': {
      const { format: _f, pressurePa, ...rest } = decoded
      return [reading('environment', { ...rest, pressureHpa: pressurePa === null ? null : pressurePa / 100 })]
    }
    case 'ibeacon': {
      const { format: _f, ...rest } = decoded
      return [reading('beacon.ibeacon', rest)]
    }
    case 'eddystone':
      return [reading(`beacon.eddystone.${decoded.frame}`, eddystoneData(decoded))]
    case 'xiaomi_atc': {
      const { format: _f, ...rest } = decoded
      return [reading('environment', rest)]
    }
  }
}

function eddystoneData(d: EddystoneDecoded): Data {
  const { format: _f, frame: _k, ...rest } = d
  return rest
}

function bthomeReadings(d: BthomeDecoded, reading: (kind: string, data: Data, p?: Reading['priority']) => Reading): Reading[] {
  const env: Data = {}
  const other: Data = { ...d.device }
  const states: Data = {}
  for (const o of d.objects) {
    const base = BTHOME_OBJECTS.get(o.objectId)?.name ?? o.name
    if (o.binary) states[o.key] = o.value
    else if (ENVIRONMENT_NAMES.has(base)) env[o.key] = o.value
    else other[o.key] = o.value
  }
  const common: Data = { packetId: d.packetId, encrypted: d.encrypted }
  const out: Reading[] = []
  if (Object.keys(env).length > 0) out.push(reading('environment', { ...env, ...common }))
  if (Object.keys(compact(other)).length > 0) out.push(reading('measurement', { ...other, ...common }))
  if (Object.keys(states).length > 0) out.push(reading('state', { ...states, ...common }))
  for (const e of d.events) {
    const { device, event, ...rest } = e
    out.push(reading(`${device}.${event}`, { ...rest, ...common }, 'alert'))
  }
  return out
}

/** Drops null/undefined values so the CloudEvent data has no "not available" placeholders. */
function compact(data: Data): Data {
  const out: Data = {}
  for (const [k, v] of Object.entries(data)) if (v !== null && v !== undefined) out[k] = v
  return out
}
