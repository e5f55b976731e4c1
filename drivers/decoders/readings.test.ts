/** advertToReadings: kinds, priorities, unit-suffixed keys, device ids. */
import { describe, expect, it } from 'vitest'
import { DecodeError } from '../../gateway/core/errors.js'
import { decodeAdvert } from './advert.js'
import { advertToReadings, deviceIdFromAddress } from './readings.js'
import { svcAdvert } from './testing/vectors.js'

const readingsOf = (hex: string, extra = {}) => {
  const a = svcAdvert('fcd2', hex, 'A4:C1:38:8D:18:B2', { rssi: -61, ...extra })
  return advertToReadings(a, decodeAdvert(a)!)
}

describe('BTHome readings', () => {
  it('splits environment, measurement and state; events are alerts', () => {
    // packet 0x21, battery 94 %, temp 23.97, voltage 3.074 V, window open, button press
    const rs = readingsOf('440021015e025d090c020c2d013a01')
    expect(rs.map((r) => [r.kind, r.priority])).toEqual([
      ['environment', 'telemetry'],
      ['measurement', 'telemetry'],
      ['state', 'telemetry'],
      ['button.press', 'alert'],
    ])
    expect(rs[0]).toMatchObject({ deviceId: 'a4c1388d18b2', timeMs: 1_700_000_000_000, data: { batteryPct: 94, temperatureC: 23.97, packetId: 0x21, encrypted: false, rssiDbm: -61 } })
    expect(rs[1].data).toEqual({ voltageV: 3.074, packetId: 0x21, encrypted: false, rssiDbm: -61 })
    expect(rs[2].data).toMatchObject({ window: true })
    expect(rs[3].data).toEqual({ code: 1, name: 'button', packetId: 0x21, encrypted: false, rssiDbm: -61 })
  })

  it('numbers repeated objects and multi-button events like bthome-ble', () => {
    const rs = readingsOf('4002ca0902cf093a003a04')
    expect(rs[0].data).toMatchObject({ temperatureC_1: 25.06, temperatureC_2: 25.11 })
    expect(rs[1]).toMatchObject({ kind: 'button.long_press', priority: 'alert', data: { name: 'button_2' } })
  })

  it('dimmer steps, command opcodes and unknown event codes', () => {
    expect(readingsOf('403b010305').map((r) => [r.kind, r.data])).toEqual([['command.step_up', { code: 3, name: 'command', steps: 5, argsHex: '05', encrypted: false, rssiDbm: -61 }]])
    expect(readingsOf('403c020a')[0]).toMatchObject({ kind: 'dimmer.rotate_right', data: { steps: 10 } })
    expect(readingsOf('403afe')[0]).toMatchObject({ kind: 'button.unknown', priority: 'alert', data: { code: 0xfe } })
  })

  it('device info and text go to measurement; rssi can be left out', () => {
    const a = svcAdvert('fcd2', '40530548656c6c6ff00100f2000106', 'a4:c1:38:8d:18:b2', { rssi: -70 })
    const [r] = advertToReadings(a, decodeAdvert(a)!, { includeRssi: false })
    expect(r).toMatchObject({ kind: 'measurement', data: { text: 'Hello', deviceTypeId: 1, firmwareVersion: '6.1.0' } })
    expect(r.data).not.toHaveProperty('rssiDbm')
  })

  it('an advert with only a packet id yields no readings', () => {
    expect(readingsOf('400009')).toEqual([])
  })
})

describe('deviceIdFromAddress', () => {
  it('strips separators and lower-cases', () => {
    expect(deviceIdFromAddress('A4:C1:38:8D:18:B2')).toBe('a4c1388d18b2')
    expect(deviceIdFromAddress('a4-c1-38-8d-18-b2')).toBe('a4c1388d18b2')
  })
  it('rejects non-MAC addresses with bad_address', () => {
    expect(() => deviceIdFromAddress('4f2e9c1a-...')).toThrow(DecodeError)
  })
})
