/** Every case of ../shared/vectors/ruuvi.json. */
import { describe, expect, it } from 'vitest'
import { DecodeError } from '../../gateway/core/errors.js'
import { advertFromRaw } from './ad-structures.js'
import { decodeAdvert } from './advert.js'
import { advertToReadings } from './readings.js'
import { decodeRuuviPayload, type RuuviDecoded } from './ruuvi.js'
import { hexBuf, loadVectors, mfgAdvert, rows } from './testing/vectors.js'

const v = loadVectors('ruuvi')

/** ruuvi.json `expected` key -> our field (and unit conversion). */
const FIELDS: Record<string, (d: RuuviDecoded) => unknown> = {
  data_format: (d) => d.dataFormat,
  temperature_c: (d) => d.temperatureC,
  humidity_pct: (d) => d.humidityPct,
  pressure_pa: (d) => d.pressurePa,
  acceleration_x_g: (d) => d.accelerationXG,
  acceleration_y_g: (d) => d.accelerationYG,
  acceleration_z_g: (d) => d.accelerationZG,
  battery_v: (d) => (d.batteryMv === null ? null : d.batteryMv / 1000),
  tx_power_dbm: (d) => d.txPowerDbm,
  movement_counter: (d) => d.movementCounter,
  measurement_sequence: (d) => d.measurementSequence,
  mac: (d) => (d.mac ? d.mac.toUpperCase() : d.mac),
}

function expectFields(d: RuuviDecoded, expected: Record<string, unknown>): void {
  for (const [k, want] of Object.entries(expected)) {
    const got = FIELDS[k](d)
    if (typeof want === 'number') expect(got).toBeCloseTo(want, 6)
    else expect(got).toEqual(want)
  }
}

describe('ruuvi.json cases', () => {
  it.each(rows(v.cases))('%s', (_id, c: any) => {
    if (c.expected_library_output) {
      // ruuvitag-sensor's own units (hPa, mG, mV, bare mac) and a trailing RSSI byte it appends
      // to the payload; we ignore bytes after the 24 DF5 bytes and take RSSI from the radio.
      const o = c.expected_library_output
      const d = decodeAdvert(mfgAdvert(`9904${c.payload_hex}`)) as RuuviDecoded
      expect(d.temperatureC).toBeCloseTo(o.temperature, 6)
      expect(d.humidityPct).toBeCloseTo(o.humidity, 6)
      expect((d.pressurePa as number) / 100).toBeCloseTo(o.pressure, 6)
      expect((d.accelerationXG as number) * 1000).toBeCloseTo(o.acceleration_x, 6)
      expect((d.accelerationYG as number) * 1000).toBeCloseTo(o.acceleration_y, 6)
      expect((d.accelerationZG as number) * 1000).toBeCloseTo(o.acceleration_z, 6)
      expect([d.txPowerDbm, d.batteryMv, d.movementCounter, d.measurementSequence]).toEqual([
        o.tx_power, o.battery, o.movement_counter, o.measurement_sequence_number,
      ])
      expect(d.mac?.replace(/:/g, '')).toBe(o.mac)
      return
    }
    const d = decodeAdvert(mfgAdvert(c.manufacturer_data_hex)) as RuuviDecoded
    expect(d.format).toBe('ruuvi')
    expectFields(d, c.expected)
    if (c.payload_hex_as_documented) {
      // DOC ERROR noted in the case: the documented bytes start 0x05 but are the 18-byte C5
      // layout, i.e. a truncated DF5. We refuse them rather than guess.
      const err = (() => {
        try {
          decodeRuuviPayload(hexBuf(c.payload_hex_as_documented))
        } catch (e) {
          return e
        }
      })()
      expect(err).toBeInstanceOf(DecodeError)
      expect((err as DecodeError).reason).toBe('truncated')
    }
    if (c.raw_hex) {
      // hcidump style: total length byte, AD structures, trailing RSSI byte.
      const raw = hexBuf(c.raw_hex)
      const advert = advertFromRaw(raw.subarray(1, raw.length - 1), { address: 'aa:bb:cc:dd:ee:ff', rssi: raw.readInt8(raw.length - 1), timeMs: 0 })
      expect(advert.rssi).toBe(c.rssi_dbm)
      expectFields(decodeAdvert(advert) as RuuviDecoded, c.expected)
    }
  })

  it('readings carry pressure in hPa and omit not-available fields', () => {
    const valid = v.cases.find((c: any) => c.id === 'ruuvi-df5-valid')
    const advert = mfgAdvert(valid.manufacturer_data_hex, 'cb:b8:33:4c:88:4f', { rssi: -58 })
    const [r] = advertToReadings(advert, decodeAdvert(advert)!)
    expect(r).toMatchObject({ deviceId: 'cbb8334c884f', kind: 'environment', priority: 'telemetry' })
    expect(r.data).toMatchObject({ temperatureC: 24.3, humidityPct: 53.49, pressureHpa: 1000.44, batteryMv: 2977, rssiDbm: -58 })
    const invalid = v.cases.find((c: any) => c.id === 'ruuvi-df5-invalid')
    const a2 = mfgAdvert(invalid.manufacturer_data_hex)
    expect(advertToReadings(a2, decodeAdvert(a2)!)[0].data).toEqual({ dataFormat: 5 })
  })
})

describe('ruuvi.json field_examples (patched into the DF5 valid vector)', () => {
  const base = hexBuf(v.cases.find((c: any) => c.id === 'ruuvi-df5-valid').payload_hex)
  it.each(rows(v.field_examples, (f: any, i: number) => `${i} ${f.field}`))('%s', (_n, f: any) => {
    const p = Buffer.from(base)
    const raw = f.raw !== undefined ? parseInt(f.raw, 16) : f.raw_decimal
    const field = f.field.split(' ')[0] === 'movement' || f.field.startsWith('measurement') ? f.field : f.field.split(' ')[0]
    let got: unknown
    const d = () => decodeRuuviPayload(p) as RuuviDecoded
    if (field === 'temperature') (p.writeUInt16BE(raw, 1), (got = d().temperatureC))
    else if (field === 'humidity') (p.writeUInt16BE(raw, 3), (got = d().humidityPct))
    else if (field === 'pressure') (p.writeUInt16BE(raw, 5), (got = d().pressurePa))
    else if (field === 'acceleration') (p.writeUInt16BE(raw, 7), (got = d().accelerationXG))
    else if (field === 'battery') (p.writeUInt16BE((raw << 5) | (p.readUInt16BE(13) & 0x1f), 13), (got = d().batteryMv))
    else if (field === 'tx') (p.writeUInt16BE((p.readUInt16BE(13) & ~0x1f) | raw, 13), (got = d().txPowerDbm))
    else if (field === 'movement counter') (p.writeUInt8(raw, 15), (got = d().movementCounter))
    else if (field === 'measurement sequence') (p.writeUInt16BE(raw, 16), (got = d().measurementSequence))
    else throw new Error(`unmapped field example ${f.field}`)
    const want = f.expected !== undefined ? f.expected : f.expected_mg !== undefined ? f.expected_mg / 1000 : f.expected_mv ?? f.expected_dbm
    if (want === null) expect(got).toBeNull()
    else expect(got).toBeCloseTo(want, 6)
  })
})
