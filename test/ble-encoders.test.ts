/**
 * The simulator's encoders produce the public vectors' bytes (so the simulated adverts are the
 * real wire format), and what they produce decodes back to what went in.
 */
import { describe, expect, it } from 'vitest'
import { advertFromRaw, decodeAdvert } from '../drivers/decoders/index.js'
import { hexBuf, keys, loadVectors } from '../drivers/decoders/testing/vectors.js'
import {
  atc1441ServiceData,
  atcAdvert,
  bthomeAdvert,
  bthomeServiceData,
  flagsAd,
  ibeaconAdvert,
  manufacturerAd,
  ibeaconPayload,
  nameAd,
  pvvxServiceData,
  ruuviAdvert,
  ruuviDf5Payload,
  serviceData16Ad,
} from '../firmware-sim/ble-encoders.js'

const bthome = loadVectors('bthome')
const ruuvi = loadVectors('ruuvi')
const theengs = loadVectors('theengs')
const beacons = loadVectors('beacons')
const hex = (b: Buffer) => b.toString('hex')

describe('encoders reproduce the public vectors', () => {
  it('BTHome full advertisement example (bthome.io/format)', () => {
    const ex = bthome.full_advertisement_example
    const adv = Buffer.concat([flagsAd(), nameAd('DIY-sensor'), serviceData16Ad(0xfcd2, bthomeServiceData({ temperatureC: 25, humidityPct: 50.55 }))])
    expect(hex(adv)).toBe(ex.adv_hex.toLowerCase())
  })

  it('BTHome encryption example (bthome.io/encryption)', () => {
    const ex = bthome.encryption_example
    const data = bthomeServiceData(
      { temperatureC: 25.06, humidityPct: 50.55 },
      { encrypt: { bindkey: hexBuf(ex.key), counter: ex.counter, mac: ex.mac } },
    )
    expect(hex(data)).toBe(ex.service_data_hex)
  })

  it('Ruuvi RAWv2 official valid vector', () => {
    const c = ruuvi.cases.find((x: any) => x.id === 'ruuvi-df5-valid')
    const e = c.expected
    const p = ruuviDf5Payload({
      temperatureC: e.temperature_c,
      humidityPct: e.humidity_pct,
      pressurePa: e.pressure_pa,
      accelerationXG: e.acceleration_x_g,
      accelerationYG: e.acceleration_y_g,
      accelerationZG: e.acceleration_z_g,
      batteryMv: Math.round(e.battery_v * 1000),
      txPowerDbm: e.tx_power_dbm,
      movementCounter: e.movement_counter,
      measurementSequence: e.measurement_sequence,
      mac: e.mac,
    })
    expect(hex(p)).toBe(c.payload_hex.toLowerCase())
  })

  it('ATC1441 and pvvx (Theengs test_uuid_name_svcdata[14], [16])', () => {
    const atc = theengs.cases.find((x: any) => x.id === 'theengs:test_uuid_name_svcdata[14]')
    const pvvx = theengs.cases.find((x: any) => x.id === 'theengs:test_uuid_name_svcdata[16]')
    expect(hex(atc1441ServiceData({ mac: 'a4:c1:38:d5:d4:98', temperatureC: 32.5, humidityPct: 62, batteryPct: 81, batteryMv: 2939, frameCounter: 0x62 }))).toBe(
      atc.decoder_input.servicedata,
    )
    expect(hex(pvvxServiceData({ mac: 'a4:c1:38:cf:01:56', temperatureC: 21.12, humidityPct: 50.53, batteryPct: 100, batteryMv: 3143, frameCounter: 0xcc, flags: 0x0f }))).toBe(
      pvvx.decoder_input.servicedata,
    )
  })

  it('iBeacon (beacontools test_ibeacon)', () => {
    const c = beacons.cases.find((x: any) => x.id === 'beacontools-ibeacon')
    const ad = manufacturerAd(0x004c, ibeaconPayload({ uuid: '41424344-4546-4748-4940-414243444546', major: 1, minor: 2, txPowerDbm: -8 }))
    expect(c.adv_hex.endsWith(hex(ad))).toBe(true)
  })
})

describe('whole adverts fit a legacy PDU and decode back', () => {
  const mac = 'a4:c1:38:8d:18:b2'
  const decode = (raw: Buffer, opts = {}) => decodeAdvert(advertFromRaw(raw, { address: mac, timeMs: 0 }), opts)

  it.each([
    ['bthome', bthomeAdvert({ packetId: 7, batteryPct: 90, temperatureC: -3.25, humidityPct: 81.5, button: 'press' }, { name: 'BTH' })],
    ['ruuvi', ruuviAdvert({ temperatureC: 1.5, humidityPct: 20, pressurePa: 99_000, batteryMv: 3000, txPowerDbm: 4, mac: 'cb:b8:33:4c:88:4f' })],
    ['atc1441', atcAdvert({ mac, temperatureC: 22.1, humidityPct: 45, batteryPct: 77, batteryMv: 2900, frameCounter: 3 })],
    ['pvvx', atcAdvert({ mac, temperatureC: 22.13, humidityPct: 45.21, batteryPct: 77, batteryMv: 2900, frameCounter: 3 }, 'pvvx')],
    ['ibeacon', ibeaconAdvert({ uuid: 'fda50693-a4e2-4fb1-afcf-c6eb07647825', major: 10, minor: 20, txPowerDbm: -59 })],
  ])('%s is at most 31 bytes', (_name, raw) => {
    expect(raw.length).toBeLessThanOrEqual(31)
    expect(decode(raw)).toBeDefined()
  })

  it('BTHome values and the encrypted form round-trip', () => {
    const key = '231d39c1d7cc1ab1aee224cd096db932'
    expect(decode(bthomeAdvert({ packetId: 7, temperatureC: -3.25, humidityPct: 81.5 }))).toMatchObject({
      packetId: 7,
      measurements: { temperature: -3.25, humidity: 81.5 },
    })
    const enc = bthomeAdvert({ temperatureC: 19.99 }, { encrypt: { bindkey: hexBuf(key), counter: 5, mac } })
    expect(decode(enc, { bindkeys: keys(mac, key) })).toMatchObject({ encrypted: true, encryptionCounter: 5, measurements: { temperature: 19.99 } })
  })
})
