import { readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { DecodeError } from '../../gateway/core/errors.js'
import { coordinate } from './nmea-fields.js'
import { nmeaChecksum, nmeaToReadings, parseNmeaSentence, splitNmeaSentence, type GsvSentence, type NmeaSentence } from './nmea.js'

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
interface Vector { id: string; sentence: string; checksum_valid: boolean | null; sentence_id: string; expected: Record<string, unknown>; checksum_computed?: string }
const vectors = JSON.parse(readFileSync(path.resolve(repoRoot, '../shared/vectors/nmea.json'), 'utf8')) as {
  cases: Vector[]; coordinate_conversion_examples: Array<{ input: string; expected_degrees: number }>
}
const ctx = { deviceId: 'gps-1', priority: 'telemetry' as const, timeMs: 1_700_000_000_000 }

function reasonOf(fn: () => unknown): string {
  try {
    fn()
  } catch (err) {
    expect(err).toBeInstanceOf(DecodeError)
    return (err as DecodeError).reason
  }
  throw new Error('expected a DecodeError')
}

type Get = (s: NmeaSentence & Record<string, unknown>, raw: string[]) => unknown
const at = (i: number): Get => (_s, raw) => raw[i]
const prop = (name: string): Get => (s) => s[name]
// Vector key → where our parse result holds it. Both sources' names map to our one name; raw
// pynmea2 strings map to the raw field. A vector key without an entry fails the test.
const KEYS: Record<string, Record<string, Get>> = {
  GGA: {
    time_utc: prop('timeUtc'), latitude: prop('latitude'), longitude: prop('longitude'), latitude_derived: prop('latitude'),
    longitude_derived: prop('longitude'), fixType: prop('fixType'), fix_quality: prop('fixQuality'), gps_qual: prop('fixQuality'),
    satellites: prop('satellites'), num_sats: prop('satellites'), hdop: prop('hdop'), horizontal_dil: prop('hdop'),
    altitude_m: prop('altitudeM'), altitude: prop('altitudeM'), geoidal_separation_m: prop('geoidalSeparationM'),
    geo_sep: prop('geoidalSeparationM'), age_gps_data: prop('dgpsAgeS'), ref_station_id: prop('dgpsStationId'),
    lat_raw: at(1), lat_dir: at(2), lon_raw: at(3), lon_dir: at(4), altitude_units: at(9), geo_sep_units: at(11),
  },
  RMC: {
    datetime: prop('datetime'), datetime_derived: prop('datetime'), status: prop('status'), latitude: prop('latitude'),
    longitude: prop('longitude'), latitude_derived: prop('latitude'), longitude_derived: prop('longitude'),
    speed_knots: prop('speedKnots'), track_true: prop('courseTrueDeg'), magnetic_variation: prop('magneticVariationDeg'),
    variation_direction: prop('variationDirection'), is_valid: (s) => s.status === 'valid',
    datetime_milliseconds: (s) => Number(String(s.timeUtc).slice(-3)),
  },
  GLL: {
    latitude: prop('latitude'), longitude: prop('longitude'), latitude_derived: prop('latitude'), longitude_derived: prop('longitude'),
    time_utc: prop('timeUtc'), status: prop('status'), faaMode: prop('faaMode'), is_valid: (s) => s.status === 'valid',
  },
  GNS: {
    time_utc: prop('timeUtc'), latitude: prop('latitude'), longitude: prop('longitude'), modeIndicator: prop('modeIndicator'),
    satellites: prop('satellites'), hdop: prop('hdop'), altitude_m: prop('altitudeM'), geoidal_separation_m: prop('geoidalSeparationM'),
  },
  GSA: {
    selectionMode: prop('selectionMode'), fixMode: prop('fixMode'), satellites: prop('satellites'), satellites_derived: prop('satellites'),
    PDOP: prop('pdop'), HDOP: prop('hdop'), VDOP: prop('vdop'), pdop: prop('pdop'), hdop: prop('hdop'), vdop: prop('vdop'),
    is_valid: (s) => s.fixMode === '2D' || s.fixMode === '3D',
  },
  GST: {
    time_utc: prop('timeUtc'), totalRms: prop('rmsM'), semiMajorError: prop('semiMajorM'), semiMinorError: prop('semiMinorM'),
    orientationOfSemiMajorError: prop('orientationDeg'), latitudeError: prop('latitudeErrorM'),
    longitudeError: prop('longitudeErrorM'), altitudeError: prop('altitudeErrorM'),
  },
  GSV: {
    numberOfMessages: prop('numberOfMessages'), messageNumber: prop('messageNumber'), satellitesInView: prop('satellitesInView'),
    satellites: (s) => (s as GsvSentence).satellites
      .map((v) => ({ prn: v.prn, elevation: v.elevationDeg, azimuth: v.azimuthDeg, snr: v.snrDb })),
  },
  VTG: {
    trackTrue: prop('courseTrueDeg'), trackMagnetic: prop('courseMagneticDeg'), speedKnots: prop('speedKnots'),
    speedKmph: prop('speedKmh'), faaMode: prop('faaMode'),
  },
  ZDA: { datetime: prop('datetime'), localZoneHours: prop('localZoneHours'), localZoneMinutes: prop('localZoneMinutes') },
}
// Where the sources disagree with each other we follow the vector notes, not the source value.
const OVERRIDES: Record<string, Record<string, unknown>> = {
  // nmea-simple returns 0 for the EMPTY km/h field; the note prefers null (0 km/h would be a false reading).
  'nmea-simple:VTG': { speedKmph: null },
}

function msOfDay(t: string): number {
  const [h, m, s] = t.split(':').map(Number) as [number, number, number]
  return Math.round(((h * 60 + m) * 60 + s) * 1000)
}

function expectSame(key: string, actual: unknown, expected: unknown): void {
  if (key === 'time_utc') {
    // Sources print "12:35:19", "14:41:27.000" or "18:43:53.070"; we always print ms. Compare instants.
    expect(msOfDay(actual as string)).toBe(msOfDay(expected as string))
  } else if (key.startsWith('datetime') && typeof expected === 'string') {
    // pynmea2 datetimes are naive but UTC (no zone printed).
    expect(Date.parse(actual as string)).toBe(Date.parse(/Z$/.test(expected) ? expected : `${expected}Z`))
  } else if (typeof expected === 'number' && typeof actual === 'number') {
    // The collector derived some values with another float order; 1e-9 degrees is ~0.1 mm.
    expect(actual).toBeCloseTo(expected, 9)
  } else if (typeof expected === 'string' && typeof actual === 'number') {
    expect(actual).toBeCloseTo(Number(expected), 9) // pynmea2 keeps numeric fields as raw strings
  } else if (expected === '') {
    expect(actual ?? '').toBe('')
  } else {
    expect(actual).toEqual(expected)
  }
}

describe('NMEA vectors (../shared/vectors/nmea.json)', () => {
  for (const v of vectors.cases) {
    it(v.id, () => {
      if (v.checksum_computed) expect(nmeaChecksum(v.sentence.slice(1, v.sentence.lastIndexOf('*')))).toBe(v.checksum_computed)
      if (v.checksum_valid !== true) {
        // false: wrong checksum. null: no checksum at all (pynmea2:ZDA parses it only with
        // check=False); our policy rejects both, since a UART bit flip would go unnoticed.
        expect(reasonOf(() => parseNmeaSentence(v.sentence))).toBe('bad_checksum')
        return
      }
      const raw = splitNmeaSentence(v.sentence)
      expect(raw.talker).toBe(v.sentence.slice(1, 3))
      expect(raw.sentenceId).toBe(v.sentence_id)
      const keys = KEYS[v.sentence_id]
      if (!keys) {
        // Not modelled (HDG, MWV, TXT, ODD...): counted as unsupported, yet the envelope is parsed.
        expect(reasonOf(() => parseNmeaSentence(v.sentence))).toBe('unsupported_sentence')
        if (v.expected.data_fields) expect(raw.fields).toEqual(v.expected.data_fields)
        if (v.expected.text) expect(raw.fields[3]).toBe(v.expected.text)
        return
      }
      const parsed = parseNmeaSentence(v.sentence) as NmeaSentence & Record<string, unknown>
      const expected = { ...v.expected, ...OVERRIDES[v.id] }
      for (const [key, value] of Object.entries(expected)) {
        const get = keys[key]
        if (!get) throw new Error(`${v.id}: vector key ${key} has no mapping in KEYS.${v.sentence_id}`)
        expectSame(key, get(parsed, raw.fields), value)
      }
    })
  }

  it('coordinate conversion examples', () => {
    for (const c of vectors.coordinate_conversion_examples) expect(coordinate('x', c.input, 180)).toBeCloseTo(c.expected_degrees, 12)
  })
})

describe('NMEA envelope and fields', () => {
  it('accepts lower-case checksum hex and surrounding whitespace', () => {
    expect(parseNmeaSentence(' $GPGLL,4916.45,N,12311.12,W,225444,A,*1d ').sentenceId).toBe('GLL')
  })

  it('rejects missing checksum, non-ASCII and broken addresses by reason', () => {
    expect(reasonOf(() => parseNmeaSentence('$GPGGA,123519,4807.04,N'))).toBe('bad_checksum')
    expect(reasonOf(() => parseNmeaSentence('GPGGA,1*00'))).toBe('bad_sentence')
    const body = 'GPGLL,49\u00e916.45,N,12311.12,W,225444,A,'
    expect(reasonOf(() => parseNmeaSentence(`$${body}*${nmeaChecksum(body)}`))).toBe('bad_sentence')
    expect(reasonOf(() => parseNmeaSentence(`$gpgll,1*${nmeaChecksum('gpgll,1')}`))).toBe('bad_sentence')
    expect(reasonOf(() => parseNmeaSentence(`$PUBX,00*${nmeaChecksum('PUBX,00')}`))).toBe('unsupported_sentence')
  })

  it('rejects out-of-range values with a valid checksum as bad_field', () => {
    const wrap = (b: string): string => `$${b}*${nmeaChecksum(b)}`
    expect(reasonOf(() => parseNmeaSentence(wrap('GPGLL,4960.00,N,12311.12,W,225444,A,')))).toBe('bad_field') // 60 minutes
    expect(reasonOf(() => parseNmeaSentence(wrap('GPGLL,4916.45,X,12311.12,W,225444,A,')))).toBe('bad_field')
    expect(reasonOf(() => parseNmeaSentence(wrap('GPRMC,225446,A,4916.45,N,12311.12,W,000.5,054.7,310294,020.3,E')))).toBe('bad_field') // 31 Feb
    expect(reasonOf(() => parseNmeaSentence(wrap('GPZDA,250012.71,11,03,2004,-1,00')))).toBe('bad_field')
  })
})

describe('NMEA readings', () => {
  const readings = (s: string): ReturnType<typeof nmeaToReadings> => nmeaToReadings(parseNmeaSentence(s), ctx)

  it('maps sentences to gnss.* kinds with receive time', () => {
    const [fix] = readings('$GPGGA,184353.07,1929.045,S,02410.506,E,1,04,2.6,100.00,M,-33.9,M,,0000*6D')
    expect(fix).toMatchObject({ deviceId: 'gps-1', kind: 'gnss.fix', priority: 'telemetry', timeMs: ctx.timeMs })
    expect(fix!.data).toMatchObject({ sentence: 'GGA', talker: 'GP', satellites: 4, hdop: 2.6, altitudeM: 100 })
    expect((fix!.data as { latitude: number }).latitude).toBeCloseTo(-19.484083333333334, 9)
    expect(readings('$GPRMC,123519,A,4807.038,N,01131.000,E,022.4,084.4,230394,003.1,W*6A').map((r) => r.kind)).toEqual(['gnss.fix', 'gnss.course'])
    expect(readings('$IIVTG,210.43,T,210.43,M,5.65,N,,,A*67')[0]!.data).toMatchObject({ speedKnots: 5.65, speedKmh: null })
    expect(readings('$GPGSA,A,3,12,05,25,29,,,,,,,,,9.4,7.6,5.6*37')[0]).toMatchObject({ kind: 'gnss.dop', data: { fixMode: '3D', pdop: 9.4 } })
    expect(readings('$GPZDA,160012.71,11,03,2004,-1,00*7D')[0]).toMatchObject({ kind: 'gnss.time', data: { datetime: '2004-03-11T16:00:12.710Z' } })
    expect(readings('$GPGST,172814.0,0.006,0.023,0.020,273.6,0.023,0.020,0.031*6A')[0]!.kind).toBe('gnss.accuracy')
  })

  it('gives no reading for void data or satellite views', () => {
    expect(readings('$GPRMC,123409.886,V,,,,,16.10,145.36,040223,,,N,V*08')).toEqual([])
    expect(readings('$GPGSV,3,3,11,14,25,170,00,16,57,208,39,18,67,296,40*49')).toEqual([])
    const b = 'GPGGA,123519,4807.04,N,01131.00,E,0,00,,,M,,M,,'
    expect(readings(`$${b}*${nmeaChecksum(b)}`)).toEqual([])
  })
})

describe('NMEA fuzz: nothing but DecodeError escapes', () => {
  const valid = vectors.cases.filter((v) => v.checksum_valid === true).map((v) => v.sentence)
  // Replace one field of a real sentence and fix up the checksum, so the fuzz reaches the parsers.
  const mutated = fc.tuple(fc.constantFrom(...valid), fc.nat(), fc.string({ unit: 'binary-ascii', maxLength: 12 })).map(([s, i, junk]) => {
    const parts = s.slice(1, s.lastIndexOf('*')).split(',')
    parts[1 + (i % Math.max(1, parts.length - 1))] = junk
    const body = parts.join(',')
    return `$${body}*${nmeaChecksum(body)}`
  })
  const arbitrary = fc.string({ unit: 'binary', maxLength: 120 }).map((b) => `$${b}*${nmeaChecksum(b)}`)

  it('mutated and arbitrary sentences', () => {
    fc.assert(
      fc.property(fc.oneof(mutated, arbitrary, fc.string({ maxLength: 100 })), (line) => {
        try {
          for (const r of nmeaToReadings(parseNmeaSentence(line), ctx)) JSON.stringify(r)
        } catch (err) {
          if (!(err instanceof DecodeError)) throw err
        }
      }),
      { numRuns: 3000 },
    )
  })
})
