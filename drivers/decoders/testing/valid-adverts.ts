/**
 * Test support: every advert of our families that the shared vectors say is valid, with the
 * options needed to decode it. Feeds the prefix (truncation) and fuzz-seed tests.
 */
import type { BleAdvert, DecodeOptions } from '../advert.js'
import { hexBuf, keys, loadVectors, mfgAdvert, svcAdvert } from './vectors.js'

export interface ValidAdvert {
  name: string
  advert: BleAdvert
  opts: DecodeOptions
}

export function validAdverts(): ValidAdvert[] {
  const out: ValidAdvert[] = []
  const bthome = loadVectors('bthome')
  for (const c of bthome.test_cases) {
    const broken = (c.decoded_objects_crosscheck ?? []).some((x: any) => x.error)
    if (broken) continue
    out.push({ name: c.id, advert: svcAdvert('fcd2', c.service_data_hex, c.mac), opts: { bindkeys: c.bindkey ? keys(c.mac, c.bindkey) : undefined } })
  }
  for (const o of [...bthome.object_ids, ...bthome.binary_object_ids, ...bthome.event_object_ids, ...bthome.device_object_ids]) {
    out.push({ name: `bthome object ${o.example_object_hex}`, advert: svcAdvert('fcd2', `40${o.example_object_hex}`), opts: {} })
  }
  for (const c of loadVectors('ruuvi').cases) {
    const hex = c.manufacturer_data_hex ?? `9904${c.payload_hex}`
    out.push({ name: c.id, advert: mfgAdvert(hex), opts: {} })
  }
  for (const c of loadVectors('beacons').cases) {
    const n = c.noble_advertisement
    if (!n || c.expected === null || c.id.endsWith('etlm')) continue
    const advert: BleAdvert = {
      address: 'c0:ff:ee:00:00:01',
      timeMs: 0,
      serviceData: (n.serviceData ?? []).map((s: any) => ({ uuid: s.uuid, data: hexBuf(s.data_hex) })),
      manufacturerData: n.manufacturerData_hex ? hexBuf(n.manufacturerData_hex) : undefined,
    }
    out.push({ name: c.id, advert, opts: {} })
  }
  for (const c of loadVectors('theengs').cases) {
    const s = c.noble_advertisement?.serviceData?.[0]
    if (s && ['fcd2', '181a'].includes(s.uuid) && c.expected_fields.encr === undefined) {
      out.push({ name: c.id, advert: svcAdvert(s.uuid, s.data_hex), opts: {} })
    }
  }
  // pvvx encrypted custom (custom-components/ble_monitor test_atc_parser.py test_atc_custom_encrypted).
  out.push({
    name: 'ble_monitor pvvx encrypted',
    advert: svcAdvert('181a', '11d603fbfa7b6dfb1e26fd', 'a4:c1:38:8d:18:b2'),
    opts: { bindkeys: keys('a4:c1:38:8d:18:b2', 'b9ea895fac7eea6d30532432a516f3a3') },
  })
  return out
}

/** Every reason our decoders may throw with. */
export const KNOWN_REASONS = new Set([
  'truncated', 'unsupported_version', 'unknown_object_id', 'missing_bindkey', 'bad_bindkey', 'bad_mic',
  'encryption_downgrade', 'bad_format', 'bad_address', 'oversize',
])
