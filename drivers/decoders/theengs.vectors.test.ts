/**
 * Every case of ../shared/vectors/theengs.json. Cases of our families must decode to Theengs'
 * values (or to our documented choice where the file records a disagreement); every other case
 * must NOT be claimed by any of our decoders (undefined, no throw): e.g. b-parasite shares 0x181A
 * and BlueCharm shares 0xFEAA.
 */
import { describe, expect, it } from 'vitest'
import { DecodeError } from '../../gateway/core/errors.js'
import { decodeAdvert, type BleAdvert, type DecodedAdvert } from './advert.js'
import { hexBuf, loadVectors, rows } from './testing/vectors.js'

const v = loadVectors('theengs')

function advertOf(c: any): BleAdvert {
  const n = c.noble_advertisement ?? {}
  const input = c.decoder_input
  const mac = n.address ?? input.id ?? c.expected_fields?.mac ?? '00:11:22:33:44:55'
  return {
    address: mac.toLowerCase(),
    name: n.localName,
    timeMs: 0,
    // '?' = Theengs matched these by content, not UUID; any non-family UUID gives the same answer.
    serviceData: (n.serviceData ?? []).map((s: any) => ({ uuid: s.uuid === '?' ? 'fe95' : s.uuid, data: hexBuf(s.data_hex) })),
    manufacturerData: n.manufacturerData_hex ? hexBuf(n.manufacturerData_hex) : undefined,
  }
}

/** Which of our formats should claim this case (undefined: none). */
function ourFormat(c: any): DecodedAdvert['format'] | undefined {
  const uuid = String(c.decoder_input.servicedatauuid ?? '').replace(/^0x/, '')
  const model = String(c.expected_decoder_output.model_id)
  if (uuid === 'fcd2') return 'bthome'
  if (uuid === '181a' && /ATC|PVVX/.test(model)) return 'xiaomi_atc'
  if (c.noble_advertisement?.company_id === '0x0499') return 'ruuvi'
  if (model === 'IBEACON') return 'ibeacon'
  return undefined
}

const close = (got: unknown, want: number) => expect(got).toBeCloseTo(want, 4)

function expectXiaomi(d: DecodedAdvert, f: any): void {
  if (d.format !== 'xiaomi_atc') throw new Error('not xiaomi_atc')
  close(d.temperatureC, f.tempc)
  close(d.humidityPct, f.hum)
  expect(d.batteryPct).toBe(f.batt)
  close((d.batteryMv as number) / 1000, f.volt)
  expect(d.mac?.toUpperCase()).toBe(f.mac)
}

function expectBthome(d: DecodedAdvert, f: any): void {
  if (d.format !== 'bthome') throw new Error('not bthome')
  const m = d.measurements
  expect(d.packetId).toBe(f.packet)
  expect(m.battery).toBe(f.batt)
  if (f.tempc !== undefined) close(m.temperature, f.tempc)
  if (f.hum !== undefined) close(m.humidity, f.hum)
  if (f.lux !== undefined) close(m.illuminance, f.lux)
  if (f.rot !== undefined) close(m.rotation, f.rot)
  if (f.open !== undefined) expect(d.states.window).toBe(f.open)
  if (f.motion !== undefined) expect(d.states.motion).toBe(f.motion)
  if (f.button === 1) expect(d.events).toMatchObject([{ device: 'button', event: 'press' }])
  // DELIBERATE DIFFERENCE (case crosscheck "DISAGREES"): Theengs maps 0xFE to 11 "hold";
  // bthome.io assigns 0xFE nothing, so we report `unknown` with the raw code.
  if (f.button === 11) expect(d.events).toMatchObject([{ device: 'button', event: 'unknown', code: 0xfe }])
}

function expectRuuvi(d: DecodedAdvert, f: any): void {
  if (d.format !== 'ruuvi') throw new Error('not ruuvi')
  close(d.temperatureC, f.tempc)
  close(d.humidityPct, f.hum)
  close((d.pressurePa as number) / 100, f.pres) // Theengs pres is hPa
  close((d.batteryMv as number) / 1000, f.volt)
  if (f.tx !== undefined) expect([d.txPowerDbm, d.movementCounter, d.measurementSequence]).toEqual([f.tx, f.mov, f.seq])
  if (f.mac !== undefined) expect(d.mac?.toUpperCase()).toBe(f.mac)
  // DELIBERATE DIFFERENCE (crosscheck "DISAGREES ... 10x too small"): we report g per the Ruuvi
  // docs. Theengs' number is our g * 9.80665 / 10, i.e. off by ten if read as m/s².
  for (const [ours, theirs] of [[d.accelerationXG, f.accx], [d.accelerationYG, f.accy], [d.accelerationZG, f.accz]]) {
    expect(((ours as number) * 9.80665) / 10).toBeCloseTo(theirs, 6)
  }
}

function expectIbeacon(d: DecodedAdvert, f: any): void {
  if (d.format !== 'ibeacon') throw new Error('not ibeacon')
  expect(d.uuid.replace(/-/g, '')).toBe(f.uuid)
  expect([d.major, d.minor, d.txPowerDbm]).toEqual([f.major, f.minor, f.txpower])
}

describe('theengs.json cases', () => {
  it.each(rows(v.cases))('%s', (_id, c: any) => {
    const advert = advertOf(c)
    const format = ourFormat(c)
    const f = c.expected_fields
    if (format === undefined) {
      expect(decodeAdvert(advert)).toBeUndefined()
      return
    }
    if (f.encr === 1) {
      // DELIBERATE DIFFERENCE: Theengs surfaces the undecrypted pieces; we refuse to produce a
      // reading without the bindkey (counted as missing_bindkey). The 11-byte layout is the one
      // Theengs splits: counter, 6 bytes ciphertext, 4 bytes MIC.
      expect(f.ctr + f.cipher + f.mic).toBe(c.decoder_input.servicedata)
      expect(() => decodeAdvert(advert)).toThrow(DecodeError)
      try {
        decodeAdvert(advert)
      } catch (err) {
        expect((err as DecodeError).reason).toBe('missing_bindkey')
      }
      return
    }
    const d = decodeAdvert(advert)
    expect(d?.format).toBe(format)
    const check = { xiaomi_atc: expectXiaomi, bthome: expectBthome, ruuvi: expectRuuvi, ibeacon: expectIbeacon, eddystone: () => {} }
    check[format](d as DecodedAdvert, f)
  })
})
