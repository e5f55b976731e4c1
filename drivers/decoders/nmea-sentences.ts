/**
 * Typed parsers for the NMEA 0183 GNSS sentences, talker-independent ($GPGGA, $GNGGA, $IIGGA...).
 * Input is the already checksum-verified field list (see nmea.ts). Conventions:
 * - an empty field is `null`, never 0 (vectors/nmea.json VTG note: a stricter decoder returns null);
 * - lat/lon are signed decimal degrees (S and W negative);
 * - times are "HH:MM:SS.sss" UTC time of day; full timestamps are ISO 8601 with "Z".
 * Every failure is a DecodeError `bad_sentence` (shape) or `bad_field` (a value).
 */
import { DecodeError } from '../../gateway/core/errors.js'
import * as f from './nmea-fields.js'

interface Base { talker: string }
export type FixType = 'none' | 'fix' | 'delta' | 'pps' | 'rtk' | 'frtk' | 'estimated' | 'manual' | 'simulation'
export type Validity = 'valid' | 'void'

export interface GgaSentence extends Base {
  sentenceId: 'GGA'; timeUtc: string | null; latitude: number | null; longitude: number | null
  fixQuality: number | null; fixType: FixType | null; satellites: number | null; hdop: number | null
  altitudeM: number | null; geoidalSeparationM: number | null; dgpsAgeS: number | null; dgpsStationId: string | null
}
export interface GnsSentence extends Base {
  sentenceId: 'GNS'; timeUtc: string | null; latitude: number | null; longitude: number | null
  modeIndicator: string; satellites: number | null; hdop: number | null
  altitudeM: number | null; geoidalSeparationM: number | null
}
export interface RmcSentence extends Base {
  sentenceId: 'RMC'; timeUtc: string | null; status: Validity; latitude: number | null; longitude: number | null
  speedKnots: number | null; courseTrueDeg: number | null; date: string | null; datetime: string | null
  /** Unsigned, as sent; see variationDirection (nmea-simple does not negate W either). */
  magneticVariationDeg: number | null; variationDirection: 'E' | 'W' | null; faaMode: string | null
}
export interface GllSentence extends Base {
  sentenceId: 'GLL'; latitude: number | null; longitude: number | null; timeUtc: string | null
  status: Validity; faaMode: string | null
}
export interface VtgSentence extends Base {
  sentenceId: 'VTG'; courseTrueDeg: number | null; courseMagneticDeg: number | null
  speedKnots: number | null; speedKmh: number | null; faaMode: string | null
}
export interface GsaSentence extends Base {
  sentenceId: 'GSA'; selectionMode: 'automatic' | 'manual' | null; fixMode: 'none' | '2D' | '3D' | null
  satellites: number[]; pdop: number | null; hdop: number | null; vdop: number | null; systemId: number | null
}
export interface ZdaSentence extends Base {
  sentenceId: 'ZDA'; timeUtc: string | null; datetime: string | null
  localZoneHours: number | null; localZoneMinutes: number | null
}
export interface GstSentence extends Base {
  sentenceId: 'GST'; timeUtc: string | null; rmsM: number | null; semiMajorM: number | null
  semiMinorM: number | null; orientationDeg: number | null
  latitudeErrorM: number | null; longitudeErrorM: number | null; altitudeErrorM: number | null
}
export interface GsvSatellite { prn: number; elevationDeg: number | null; azimuthDeg: number | null; snrDb: number | null }
export interface GsvSentence extends Base {
  sentenceId: 'GSV'; numberOfMessages: number; messageNumber: number; satellitesInView: number | null
  satellites: GsvSatellite[]; signalId: string | null
}

export type NmeaSentence =
  | GgaSentence | GnsSentence | RmcSentence | GllSentence | VtgSentence
  | GsaSentence | ZdaSentence | GstSentence | GsvSentence

type Parser = (talker: string, fields: readonly string[]) => NmeaSentence

const FIX_TYPES: FixType[] = ['none', 'fix', 'delta', 'pps', 'rtk', 'frtk', 'estimated', 'manual', 'simulation']

function need(id: string, fields: readonly string[], min: number): void {
  if (fields.length < min) throw new DecodeError('bad_sentence', `${id} needs ${min} fields, got ${fields.length}`)
}

function validity(id: string, text: string | undefined): Validity {
  if (text === 'A') return 'valid'
  if (text === 'V') return 'void'
  throw new DecodeError('bad_field', `${id} status must be A or V`)
}

const gga: Parser = (talker, v) => {
  need('GGA', v, 12)
  const fixQuality = f.int('GGA quality', v[5])
  // Quality 0 means "no fix": whatever is in the position fields must not be used as a position.
  const fix = fixQuality !== null && fixQuality > 0
  return {
    talker, sentenceId: 'GGA', timeUtc: f.time('GGA', v[0]),
    latitude: fix ? f.latitude('GGA', v[1], v[2]) : null, longitude: fix ? f.longitude('GGA', v[3], v[4]) : null,
    fixQuality, fixType: fixQuality === null ? null : (FIX_TYPES[fixQuality] ?? null),
    satellites: f.int('GGA satellites', v[6]), hdop: f.num('GGA hdop', v[7]),
    altitudeM: f.num('GGA altitude', v[8]), geoidalSeparationM: f.num('GGA separation', v[10]),
    dgpsAgeS: f.num('GGA dgps age', v[12]), dgpsStationId: f.text(v[13]),
  }
}

const gns: Parser = (talker, v) => {
  need('GNS', v, 10)
  const modeIndicator = v[5] ?? ''
  // Mode "N" for every constellation = no fix.
  const fix = /[^N]/.test(modeIndicator)
  return {
    talker, sentenceId: 'GNS', timeUtc: f.time('GNS', v[0]),
    latitude: fix ? f.latitude('GNS', v[1], v[2]) : null, longitude: fix ? f.longitude('GNS', v[3], v[4]) : null,
    modeIndicator, satellites: f.int('GNS satellites', v[6]), hdop: f.num('GNS hdop', v[7]),
    altitudeM: f.num('GNS altitude', v[8]), geoidalSeparationM: f.num('GNS separation', v[9]),
  }
}

const rmc: Parser = (talker, v) => {
  need('RMC', v, 11)
  const status = validity('RMC', v[1])
  const timeUtc = f.time('RMC', v[0])
  const date = f.date('RMC', v[8])
  const valid = status === 'valid'
  const dir = v[10]
  if (dir !== '' && dir !== 'E' && dir !== 'W') throw new DecodeError('bad_field', 'RMC variation direction must be E or W')
  return {
    talker, sentenceId: 'RMC', timeUtc, status,
    // Void: the receiver says the position is not trustworthy (vectors: RMC-void must not produce one).
    latitude: valid ? f.latitude('RMC', v[2], v[3]) : null, longitude: valid ? f.longitude('RMC', v[4], v[5]) : null,
    speedKnots: f.num('RMC speed', v[6]), courseTrueDeg: f.num('RMC course', v[7]),
    date, datetime: f.datetime(date, timeUtc),
    magneticVariationDeg: f.num('RMC variation', v[9]), variationDirection: dir === '' ? null : (dir as 'E' | 'W'),
    faaMode: f.text(v[11]),
  }
}

const gll: Parser = (talker, v) => {
  need('GLL', v, 4)
  // NMEA before 2.0 had no status field; such a sentence only exists when there is a fix.
  const status = v[5] === undefined || v[5] === '' ? 'valid' : validity('GLL', v[5])
  const valid = status === 'valid'
  return {
    talker, sentenceId: 'GLL',
    latitude: valid ? f.latitude('GLL', v[0], v[1]) : null, longitude: valid ? f.longitude('GLL', v[2], v[3]) : null,
    timeUtc: f.time('GLL', v[4]), status, faaMode: f.text(v[6]),
  }
}

const vtg: Parser = (talker, v) => {
  need('VTG', v, 8)
  f.unit('VTG', v[1], 'T'); f.unit('VTG', v[3], 'M'); f.unit('VTG', v[5], 'N'); f.unit('VTG', v[7], 'K')
  return {
    talker, sentenceId: 'VTG', courseTrueDeg: f.num('VTG course', v[0]), courseMagneticDeg: f.num('VTG magnetic', v[2]),
    speedKnots: f.num('VTG knots', v[4]), speedKmh: f.num('VTG km/h', v[6]), faaMode: f.text(v[8]),
  }
}

const gsa: Parser = (talker, v) => {
  need('GSA', v, 17)
  const sel = v[0]
  if (sel !== '' && sel !== 'A' && sel !== 'M') throw new DecodeError('bad_field', 'GSA selection mode must be A or M')
  const mode = f.int('GSA fix mode', v[1])
  if (mode !== null && (mode < 1 || mode > 3)) throw new DecodeError('bad_field', 'GSA fix mode must be 1, 2 or 3')
  // Twelve PRN slots; receivers leave gaps (vectors: pynmea2:GSA), so keep only the filled ones.
  const satellites = v.slice(2, 14).filter((p) => p !== '').map((p) => f.int('GSA prn', p) as number)
  return {
    talker, sentenceId: 'GSA', selectionMode: sel === 'A' ? 'automatic' : sel === 'M' ? 'manual' : null,
    fixMode: mode === null ? null : (['none', '2D', '3D'] as const)[mode - 1]!, satellites,
    pdop: f.num('GSA pdop', v[14]), hdop: f.num('GSA hdop', v[15]), vdop: f.num('GSA vdop', v[16]),
    systemId: f.int('GSA system', v[17]),
  }
}

const zda: Parser = (talker, v) => {
  need('ZDA', v, 6)
  const timeUtc = f.time('ZDA', v[0])
  const date = f.dayMonthYear('ZDA', v[1], v[2], v[3])
  return {
    talker, sentenceId: 'ZDA', timeUtc, datetime: f.datetime(date, timeUtc),
    localZoneHours: f.signedInt('ZDA zone hours', v[4], 13), localZoneMinutes: f.signedInt('ZDA zone minutes', v[5], 59),
  }
}

const gst: Parser = (talker, v) => {
  need('GST', v, 8)
  return {
    talker, sentenceId: 'GST', timeUtc: f.time('GST', v[0]), rmsM: f.num('GST rms', v[1]),
    semiMajorM: f.num('GST major', v[2]), semiMinorM: f.num('GST minor', v[3]), orientationDeg: f.num('GST orientation', v[4]),
    latitudeErrorM: f.num('GST lat', v[5]), longitudeErrorM: f.num('GST lon', v[6]), altitudeErrorM: f.num('GST alt', v[7]),
  }
}

const gsv: Parser = (talker, v) => {
  need('GSV', v, 3)
  const numberOfMessages = f.int('GSV count', v[0])
  const messageNumber = f.int('GSV number', v[1])
  if (numberOfMessages === null || messageNumber === null || messageNumber < 1 || messageNumber > numberOfMessages) {
    throw new DecodeError('bad_field', 'GSV message number out of range')
  }
  const rest = v.length - 3
  // NMEA 4.10 appends a signal id after the satellite blocks; anything else is a malformed block.
  if (rest % 4 > 1) throw new DecodeError('bad_sentence', 'GSV satellite blocks are 4 fields each')
  const satellites: GsvSatellite[] = []
  for (let i = 3; i + 3 < v.length; i += 4) {
    const prn = f.int('GSV prn', v[i])
    if (prn === null) continue // empty padding block
    satellites.push({ prn, elevationDeg: f.num('GSV elevation', v[i + 1]), azimuthDeg: f.num('GSV azimuth', v[i + 2]), snrDb: f.num('GSV snr', v[i + 3]) })
  }
  return {
    talker, sentenceId: 'GSV', numberOfMessages, messageNumber, satellitesInView: f.int('GSV in view', v[2]),
    satellites, signalId: rest % 4 === 1 ? f.text(v[v.length - 1]) : null,
  }
}

/** Parsers by sentence id (the three letters after the talker). */
export const SENTENCE_PARSERS: Readonly<Record<string, Parser>> = {
  GGA: gga, GNS: gns, RMC: rmc, GLL: gll, VTG: vtg, GSA: gsa, ZDA: zda, GST: gst, GSV: gsv,
}
