import { describe, expect, it } from 'vitest'
import { rawAdvertData, toBleAdvert } from './noble-advert.js'
import { NobleCacheTrim } from './noble-cache-trim.js'

describe('toBleAdvert', () => {
  it('lower-cases address and service data UUIDs, keeps Buffers, drops RSSI 127 (not available)', () => {
    const data = Buffer.from([0x40, 0x02, 0xc4, 0x09])
    const mfg = Buffer.from([0x99, 0x04])
    const a = toBleAdvert(
      { address: 'A4:C1:38:8D:18:B2', rssi: 127, advertisement: { localName: 'x', serviceData: [{ uuid: 'FCD2', data }], manufacturerData: mfg, serviceUuids: ['FEAA', 3] } },
      5,
      false,
    )
    expect(a).toEqual({ address: 'a4:c1:38:8d:18:b2', name: 'x', timeMs: 5, extended: false, serviceData: [{ uuid: 'fcd2', data }], manufacturerData: mfg, serviceUuids: ['feaa'] })
  })

  it('ignores fields of the wrong type and needs a string address', () => {
    const a = toBleAdvert({ address: 'aa:bb:cc:dd:ee:ff', rssi: Number.NaN, advertisement: { localName: 5, serviceData: [{ uuid: 1, data: Buffer.alloc(1) }, null, { uuid: 'fcd2', data: 'x' }], manufacturerData: [1, 2] } }, 0, true)
    expect(a).toEqual({ address: 'aa:bb:cc:dd:ee:ff', serviceData: [], timeMs: 0, extended: true })
    expect(toBleAdvert({ address: '' }, 0, false)).toBeUndefined()
    expect(toBleAdvert({ address: 7 }, 0, false)).toBeUndefined()
    expect(toBleAdvert(null, 0, false)).toBeUndefined()
  })

  it('rawAdvertData carries bytes as base64 and no Buffers', () => {
    const a = toBleAdvert({ address: 'aa:bb:cc:dd:ee:ff', rssi: -50, advertisement: { serviceData: [{ uuid: 'abcd', data: Buffer.from([1, 2]) }], manufacturerData: Buffer.from([3]) } }, 0, false)!
    expect(rawAdvertData(a)).toEqual({ serviceData: [{ uuid: 'abcd', dataBase64: 'AQI=' }], manufacturerDataBase64: 'Aw==', rssiDbm: -50 })
  })
})

describe('NobleCacheTrim', () => {
  it("deletes a handled peripheral from noble's per-id tables and caps the GAP table", () => {
    const noble = {
      _peripherals: { a: 1, b: 2 },
      _services: { a: {} },
      _characteristics: { a: {} },
      _descriptors: { a: {} },
      _bindings: { _addresses: { a: 'x' }, _gap: { _discoveries: Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`m${i}`, {}])) } },
    }
    const trim = new NobleCacheTrim(noble, 10)
    trim.forget('a')
    expect(noble).toMatchObject({ _peripherals: { b: 2 }, _services: {}, _characteristics: {}, _descriptors: {}, _bindings: { _addresses: {} } })
    for (let i = 0; i < 1023; i++) trim.forget('zz')
    expect(Object.keys(noble._bindings._gap._discoveries)).toHaveLength(0)
  })

  it('never throws on a noble without those fields', () => {
    expect(() => new NobleCacheTrim(undefined).forget('a')).not.toThrow()
    expect(() => new NobleCacheTrim({ _bindings: null }).forget(3)).not.toThrow()
  })
})
