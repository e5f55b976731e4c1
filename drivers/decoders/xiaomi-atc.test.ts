/** ATC1441 / pvvx layouts beyond theengs.json: encrypted forms and the length rule. */
import { createCipheriv } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { DecodeError } from '../../gateway/core/errors.js'
import { decodeAdvert } from './advert.js'
import { advertToReadings } from './readings.js'
import { keys, svcAdvert } from './testing/vectors.js'
import { decodeXiaomiAtc } from './xiaomi-atc.js'

const MAC = 'a4:c1:38:8d:18:b2'

describe('pvvx encrypted custom format', () => {
  it('decodes the ble_monitor vector (custom-components/ble_monitor test_atc_custom_encrypted)', () => {
    const a = svcAdvert('181a', '11d603fbfa7b6dfb1e26fd', MAC, { rssi: -30 })
    const d = decodeXiaomiAtc(a, { bindkeys: keys(MAC, 'b9ea895fac7eea6d30532432a516f3a3') })
    expect(d).toEqual({ format: 'xiaomi_atc', variant: 'pvvx', encrypted: true, temperatureC: 23.45, humidityPct: 41.73, batteryPct: 61, frameCounter: 17, flags: 4 })
    expect(advertToReadings(a, d!)[0]).toMatchObject({ deviceId: 'a4c1388d18b2', kind: 'environment', data: { temperatureC: 23.45, rssiDbm: -30 } })
  })

  it('rejects a wrong key (bad_mic) and a missing one (missing_bindkey)', () => {
    const a = svcAdvert('181a', '11d603fbfa7b6dfb1e26fd', MAC)
    expect(() => decodeXiaomiAtc(a, { bindkeys: keys(MAC, 'b9ea895fac7eea6d30532432a516f3a4') })).toThrow(expect.objectContaining({ reason: 'bad_mic' }))
    expect(() => decodeXiaomiAtc(a)).toThrow(expect.objectContaining({ reason: 'missing_bindkey' }))
  })
})

describe('pvvx encrypted ATC1441 format (8 bytes)', () => {
  // No public capture found; this checks our reading of the pvvx layout against itself, built with
  // the same nonce rule the 11-byte vector above verifies.
  it('round-trips temperature (t+40)*2, humidity*2, battery % and the trigger bit', () => {
    const key = Buffer.from('00112233445566778899aabbccddeeff', 'hex')
    const counter = 0x42
    const plain = Buffer.from([(21.5 + 40) * 2, 55 * 2, 0x80 | 87])
    const nonce = Buffer.concat([Buffer.from('b2188d38c1a4', 'hex'), Buffer.from([8 + 3, 0x16, 0x1a, 0x18, counter])])
    const c = createCipheriv('aes-128-ccm', key, nonce, { authTagLength: 4 })
    c.setAAD(Buffer.from([0x11]), { plaintextLength: 3 })
    const body = Buffer.concat([Buffer.from([counter]), c.update(plain), c.final(), c.getAuthTag()])
    const d = decodeXiaomiAtc(svcAdvert('181a', body.toString('hex'), MAC), { bindkeys: new Map([[MAC, key]]) })
    expect(d).toEqual({ format: 'xiaomi_atc', variant: 'atc1441', encrypted: true, temperatureC: 21.5, humidityPct: 55, batteryPct: 87, frameCounter: 0x42, trigger: true })
  })
})

describe('0x181A is generic: only the four custom-firmware lengths are claimed', () => {
  it.each([0, 1, 7, 9, 10, 12, 14, 16, 18])('%i bytes -> undefined', (n) => {
    expect(decodeAdvert(svcAdvert('181a', '00'.repeat(n)))).toBeUndefined()
  })
  it('a bad address cannot build the nonce', () => {
    const a = svcAdvert('181a', '11d603fbfa7b6dfb1e26fd', MAC)
    let err: unknown
    try {
      decodeXiaomiAtc({ ...a, address: 'uuid-like-macos-id' }, { bindkeys: new Map([['uuid-like-macos-id', Buffer.alloc(16)]]) })
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(DecodeError)
    expect((err as DecodeError).reason).toBe('bad_address')
  })
})
