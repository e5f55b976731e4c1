/**
 * Every case of ../shared/vectors/bthome.json. Where we decode differently from bthome-ble the
 * test asserts our value and says why (only where the file's notes record a disagreement).
 */
import { describe, expect, it } from 'vitest'
import { DecodeError } from '../../gateway/core/errors.js'
import { advertFromRaw } from './ad-structures.js'
import { decodeAdvert, type DecodeOptions } from './advert.js'
import { decodeBthomeServiceData, type BthomeDecoded } from './bthome.js'
import { PacketIdDedup } from './packet-id-dedup.js'
import { hexBuf, keys, loadVectors, svcAdvert, rows } from './testing/vectors.js'

const v = loadVectors('bthome')
const DEFAULT_MAC = 'a4:c1:38:8d:18:b2'

function decode(dataHex: string, mac = DEFAULT_MAC, bindkey?: string | null, opts: DecodeOptions = {}): BthomeDecoded {
  const bindkeys = bindkey ? keys(mac, bindkey) : undefined
  const d = decodeAdvert(svcAdvert('fcd2', dataHex, mac), { bindkeys, ...opts })
  if (d?.format !== 'bthome') throw new Error(`not decoded as bthome: ${dataHex}`)
  return d
}

function reasonOf(fn: () => unknown): string {
  try {
    fn()
  } catch (err) {
    expect(err).toBeInstanceOf(DecodeError)
    return (err as DecodeError).reason
  }
  return 'no error'
}

function expectValue(actual: unknown, expected: unknown): void {
  if (typeof expected === 'number') expect(actual).toBeCloseTo(expected, 6)
  else expect(actual).toEqual(expected)
}

/** Compares our decode with a bthome-ble expectation ({sensors, binary_sensors, events}). */
function expectLikeBthomeBle(d: BthomeDecoded, sensors: Record<string, unknown>, binary: Record<string, boolean>, events: Record<string, any>): void {
  const s: Record<string, unknown> = { ...sensors }
  const unwrap = (x: unknown) => (x !== null && typeof x === 'object' && 'value' in x ? (x as { value: unknown }).value : x)
  if ('packet_id' in s) expect(d.packetId).toBe(unwrap(s.packet_id))
  delete s.packet_id
  delete s.signal_strength // from the test fixture's RSSI, not the payload (file notes[0])
  expect(Object.keys(d.measurements).sort()).toEqual(Object.keys(s).sort())
  for (const [k, x] of Object.entries(s)) expectValue(d.measurements[k], unwrap(x))
  expect(d.states).toEqual(binary)
  const ours = Object.fromEntries(d.events.map((e) => [e.name, { event_type: e.event, event_properties: e.steps !== undefined ? { steps: e.steps } : null }]))
  // stateful_cases abbreviate an event as {"button": "press"}.
  const want = Object.fromEntries(
    Object.entries(events).map(([k, x]) => [k, typeof x === 'string' ? { event_type: x, event_properties: null } : x]),
  )
  expect(ours).toEqual(want)
}

describe('bthome.json object tables', () => {
  it.each(rows(v.object_ids, (o: any) => o.object_id))('sensor object %s', (_id, o: any) => {
    const d = decode(`40${o.example_object_hex}`)
    expect(d.objects).toHaveLength(1)
    if (o.property === 'timestamp') expect(Date.parse(d.objects[0].value as string)).toBe(Date.parse(o.example_result_value))
    else expectValue(d.objects[0].value, o.example_result_value)
  })

  it.each(rows(v.binary_object_ids, (o: any) => o.object_id))('binary object %s', (_id, o: any) => {
    const d = decode(`40${o.example_object_hex}`)
    expect(d.objects[0]).toMatchObject({ binary: true, value: o.example_value })
  })

  it.each(rows(v.event_object_ids, (o: any) => o.example_object_hex))('event object %s', (_hex, o: any) => {
    const d = decode(`40${o.example_object_hex}`)
    if (o.event_type === null) {
      expect(d.events).toEqual([]) // event id 0x00 "None" fires nothing
      return
    }
    expect(d.events).toHaveLength(1)
    expect(d.events[0]).toMatchObject({ device: o.device_type, event: o.event_type.replace(/ /g, '_') })
    const steps = /(\d+) steps/.exec(o.result_doc ?? '')
    if (steps) expect(d.events[0].steps).toBe(Number(steps[1]))
  })

  it.each(rows(v.device_object_ids, (o: any) => o.example_object_hex))('device object %s (bthome-ble does not parse these; bthome.io does)', (_hex, o: any) => {
    const d = decode(`40${o.example_object_hex}`)
    const got = o.object_id === '0xF0' ? String(d.device.deviceTypeId) : d.device.firmwareVersion
    expect(got).toBe(o.result)
  })

  it('packet id object', () => {
    const o = v.misc_object_ids[0]
    expect(decode(`40${o.example_object_hex}`).packetId).toBe(o.result)
  })
})

describe('bthome.json worked examples', () => {
  it('full advertisement (raw AD structures)', () => {
    const ex = v.full_advertisement_example
    const advert = advertFromRaw(hexBuf(ex.adv_hex), { address: DEFAULT_MAC, timeMs: 0 })
    expect(advert.name).toBe('DIY-sensor')
    const d = decodeAdvert(advert) as BthomeDecoded
    expect(d).toMatchObject({ format: 'bthome', encrypted: false, triggerBased: false, version: 2 })
    expect(d.measurements).toEqual({ temperature: ex.expected.temperature, humidity: ex.expected.humidity })
  })

  it('encryption example (bthome.io/encryption)', () => {
    const ex = v.encryption_example
    const d = decode(ex.service_data_hex, ex.mac, ex.key)
    expect(d.encryptionCounter).toBe(ex.counter)
    expect(d.measurements).toEqual(ex.expected)
  })
})

describe('bthome.json test_cases (bthome-ble test_parser_v2.py)', () => {
  it.each(rows(v.test_cases))('%s', (_id, c: any) => {
    const errors: string[] = (c.decoded_objects_crosscheck ?? []).map((x: any) => x.error).filter(Boolean)
    const advert = svcAdvert('fcd2', c.service_data_hex, c.mac, { name: c.local_name, rssi: c.rssi_input })
    if (c.all_service_data) {
      advert.serviceData = Object.entries(c.all_service_data).map(([uuid, h]) => ({ uuid, data: hexBuf(h as string) }))
    }
    const bindkeys = c.bindkey ? keys(c.mac, c.bindkey) : undefined
    const e = c.expected
    if (errors.some((x) => x.startsWith('decryption/MIC'))) {
      expect(reasonOf(() => decodeAdvert(advert, { bindkeys }))).toBe('bad_mic')
      return
    }
    if (errors.some((x) => x.startsWith('unknown object id'))) {
      // Our default rejects the advert (brief: no half-decoded data); 'stop' is bthome-ble's result.
      expect(reasonOf(() => decodeAdvert(advert, { bindkeys }))).toBe('unknown_object_id')
      const d = decodeAdvert(advert, { bindkeys, unknownObjectId: 'stop' }) as BthomeDecoded
      expectLikeBthomeBle(d, e.sensors, e.binary_sensors, e.events)
      expect(d.warnings.join()).toContain('unknown BTHome object id')
      return
    }
    const d = decodeAdvert(advert, { bindkeys }) as BthomeDecoded
    expect(d.format).toBe('bthome')
    if (c.encryption_counter !== undefined) expect(d.encryptionCounter).toBe(c.encryption_counter)
    if (errors.some((x) => x.startsWith('unknown button event'))) {
      // DELIBERATE DIFFERENCE (theengs.json test_uuid_name_svcdata[25] "DISAGREES"): bthome-ble
      // drops event 0xFE, Theengs calls it hold. We report it as `unknown` with the raw code.
      expect(d.events).toEqual([{ device: 'button', name: 'button', event: 'unknown', code: 0xfe }])
      expectLikeBthomeBle({ ...d, events: [] }, e.sensors, e.binary_sensors, e.events)
      return
    }
    if (errors.some((x) => x.startsWith('invalid utf-8'))) expect(d.warnings.join()).toContain('not valid UTF-8')
    expectLikeBthomeBle(d, e.sensors, e.binary_sensors, e.events)
  })
})

describe('bthome.json negative_and_flag_cases', () => {
  /** Our outcome for one step, derived from what the step says about itself. */
  function expectedReason(caseId: string, step: any, bindkey: string | undefined, failing: Set<string>): string {
    const info = hexBuf(step.service_data_hex)[0]
    if (info >> 5 !== 2) return 'unsupported_version'
    if (bindkey && bindkey.length !== 32) return 'bad_bindkey'
    if (info & 1 && !bindkey) return 'missing_bindkey'
    if (!(info & 1) && bindkey) return 'encryption_downgrade'
    // bthome-ble logs "Invalid data length (for decryption)": fewer bytes than counter + MIC.
    if (caseId.endsWith('test_too_short_encryption_advertisement')) return 'truncated'
    // A later step re-feeding bytes an earlier step marked as failing fails the same way.
    if (String(step.decrypt ?? '').startsWith('fails')) failing.add(step.service_data_hex)
    if (failing.has(step.service_data_hex)) return 'bad_mic'
    if (caseId.endsWith('invalid_object_payload_data_length')) return 'truncated'
    return 'no error'
  }

  it.each(rows(v.negative_and_flag_cases))('%s', (id: string, c: any) => {
    let mac = DEFAULT_MAC
    let bindkey: string | undefined
    const failing = new Set<string>()
    for (const step of c.steps.filter((s: any) => s.service_data_hex !== undefined)) {
      mac = step.mac ? step.mac.toLowerCase() : mac
      bindkey = step.bindkey ?? bindkey
      const want = expectedReason(id, step, bindkey, failing)
      const run = () => decode(step.service_data_hex, mac, bindkey)
      expect(reasonOf(run)).toBe(want)
      if (want !== 'no error') continue
      const d = run()
      if (step.encryption_counter !== undefined) {
        expect(d.encryptionCounter).toBe(step.encryption_counter)
        expect(d.measurements).toEqual(decodeBthomeServiceData(hexBuf(`40${step.decrypted_objects_hex}`), mac).measurements)
      }
      if (id.endsWith('not_sending_object_ids_in_numerical_order')) expect(d.warnings.join()).toContain('numerical order')
      if (id.endsWith('test_sleepy_device')) expect(d.triggerBased).toBe(true)
      if (id.endsWith('test_no_sleepy_device')) expect(d.triggerBased).toBe(false)
    }
  })
})

describe('bthome.json stateful_cases, with PacketIdDedup', () => {
  // Which feeds we accept. test_identical_packet_id: bthome-ble drops 8 after 9 as "older";
  // DELIBERATE DIFFERENCE (parsing_rules[5]): we only drop an id equal to the previous one.
  const accepted: Record<string, boolean[]> = {
    'bthome-ble:test_identical_packet_id': [true, false, true, true],
    'bthome-ble:test_increasing_packet_id': [true, true, true, true],
    'bthome-ble:test_bthome_shelly_button_no_press': [true, true],
  }
  it.each(rows(v.stateful_cases))('%s', (id: string, c: any) => {
    const dedup = new PacketIdDedup()
    const feeds = c.steps.filter((s: any) => s.feed_service_data_hex ?? s.service_data_hex)
    const got = feeds.map((s: any) => {
      const d = decode(s.feed_service_data_hex ?? s.service_data_hex)
      if (s.expected_sensors) expectLikeBthomeBle(d, s.expected_sensors, s.expected_binary, s.expected_events)
      return !dedup.isDuplicate(DEFAULT_MAC, d.packetId as number)
    })
    expect(got).toEqual(accepted[id])
  })
})
