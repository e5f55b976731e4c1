/**
 * NMEA 0183 decoder (GPS/GNSS receivers and marine instruments on a serial line).
 *
 * Policy, where the vector sources (../shared/vectors/nmea.json) leave a choice:
 * - The checksum is REQUIRED. pynmea2 parses "$GPZDA,...,-08,30" (no checksum) only with
 *   check=False; on a UART a flipped bit without a checksum is undetectable, and a gateway must not
 *   store undetectably corrupt positions, so a missing "*HH" is `bad_checksum` like a wrong one.
 * - Parsing is talker-independent: "$GPGGA", "$GNGGA", "$IIGGA" are all GGA; the talker is kept.
 * - Empty fields are null, never 0 (VTG vector: nmea-simple gives 0 for an empty km/h, a stricter
 *   decoder null; 0 km/h would be a false measurement).
 * - Void data makes no reading: RMC/GLL status V, GGA quality 0, VTG mode N, GSA fix "none".
 * - Sentence types we do not model are `unsupported_sentence` (counted, not stored);
 *   `splitNmeaSentence` still gives their checked fields for callers that want them.
 * - Reading time is the receive time, not the GNSS time: a receiver with a stale RTC or a GPS
 *   week rollover reports dates years off, which would expire readings in the store at once.
 *   The GNSS time is in `data` (timeUtc / datetime).
 */
import { DecodeError } from '../../gateway/core/errors.js'
import type { Decoder, Frame, Priority, Reading } from '../../gateway/core/types.js'
import { SENTENCE_PARSERS, type NmeaSentence } from './nmea-sentences.js'

export type * from './nmea-sentences.js'

/** A sentence split into its checked parts. */
export interface NmeaFields {
  /** "GP", "GN", "II"...; "P" for proprietary sentences. */
  talker: string
  /** "GGA", "RMC"...; for proprietary sentences the rest of the address ("UBX"). */
  sentenceId: string
  /** The comma-separated data fields after the address, as text. */
  fields: string[]
}

/** Where readings go and when the line arrived. */
export interface NmeaContext {
  deviceId: string
  priority: Priority
  /** Receive time, ms since epoch. */
  timeMs: number
}

const HEX2 = /^[0-9A-Fa-f]{2}$/
/** Printable ASCII without the delimiters "$", "!" and "*" (NMEA 0183 reserved characters). */
const BODY = /^[\x20-\x23\x25-\x29\x2B-\x7E]*$/
const ADDRESS = /^(?:[A-Z][A-Z0-9][A-Z]{3}|P[A-Z0-9]{1,8})$/

/** XOR of every character of `body` (the text between "$" and "*"), as two upper-case hex digits. */
export function nmeaChecksum(body: string): string {
  let sum = 0
  for (let i = 0; i < body.length; i++) sum ^= body.charCodeAt(i) & 0xff
  return sum.toString(16).toUpperCase().padStart(2, '0')
}

/**
 * Verifies the envelope and checksum of one sentence and splits it into fields.
 * @throws DecodeError `bad_checksum` (no "*HH", or a mismatch), `bad_sentence` (no "$"/"!" start,
 *   characters outside printable ASCII, a malformed address).
 */
export function splitNmeaSentence(line: string): NmeaFields {
  const text = line.trim()
  if (text[0] !== '$' && text[0] !== '!') throw new DecodeError('bad_sentence', 'sentence must start with $ or !')
  const star = text.lastIndexOf('*')
  if (star === -1 || !HEX2.test(text.slice(star + 1))) {
    throw new DecodeError('bad_checksum', 'sentence has no *HH checksum')
  }
  const body = text.slice(1, star)
  const given = text.slice(star + 1).toUpperCase()
  const computed = nmeaChecksum(body)
  if (given !== computed) {
    throw new DecodeError('bad_checksum', `invalid checksum (computed *${computed}, sentence says *${given})`)
  }
  if (!BODY.test(body)) throw new DecodeError('bad_sentence', 'sentence has characters outside printable ASCII')
  const parts = body.split(',')
  const address = parts[0] ?? ''
  if (!ADDRESS.test(address)) throw new DecodeError('bad_sentence', 'malformed sentence address')
  // "P" is the proprietary indicator (NMEA 0183 §5.3); no talker id starts with it.
  const proprietary = address[0] === 'P'
  return {
    talker: proprietary ? 'P' : address.slice(0, 2),
    sentenceId: proprietary ? address.slice(1) : address.slice(2),
    fields: parts.slice(1),
  }
}

/**
 * Verifies and parses one sentence into a typed object.
 * @throws DecodeError `bad_checksum`, `bad_sentence`, `bad_field`, or `unsupported_sentence` for
 *   a sentence id other than GGA, GNS, RMC, GLL, VTG, GSA, ZDA, GST, GSV.
 */
export function parseNmeaSentence(line: string): NmeaSentence {
  const { talker, sentenceId, fields } = splitNmeaSentence(line)
  if (talker === 'P' || !Object.hasOwn(SENTENCE_PARSERS, sentenceId)) {
    throw new DecodeError('unsupported_sentence', `unknown sentence id ${sentenceId}`)
  }
  return SENTENCE_PARSERS[sentenceId]!(talker, fields)
}

/**
 * Maps a parsed sentence to readings: `gnss.fix` (GGA, GNS, RMC, GLL), `gnss.course` (VTG, RMC),
 * `gnss.dop` (GSA), `gnss.time` (ZDA), `gnss.accuracy` (GST). GSV gives none: per-satellite detail
 * is several sentences per second of little value upstream. Void data gives none. Never throws.
 */
export function nmeaToReadings(s: NmeaSentence, ctx: NmeaContext): Reading[] {
  const make = (kind: string, data: Record<string, unknown>): Reading => ({
    deviceId: ctx.deviceId, kind, priority: ctx.priority, timeMs: ctx.timeMs,
    data: { sentence: s.sentenceId, talker: s.talker, ...data },
  })
  const hasPosition = 'latitude' in s && s.latitude !== null && s.longitude !== null
  switch (s.sentenceId) {
    case 'GGA':
    case 'GNS': {
      if (!hasPosition) return []
      const { talker: _t, sentenceId: _s, ...data } = s
      return [make('gnss.fix', data)]
    }
    case 'GLL':
      return hasPosition && s.status === 'valid'
        ? [make('gnss.fix', { latitude: s.latitude, longitude: s.longitude, timeUtc: s.timeUtc, faaMode: s.faaMode })]
        : []
    case 'RMC': {
      if (s.status !== 'valid') return []
      const out: Reading[] = []
      if (hasPosition) {
        out.push(make('gnss.fix', { latitude: s.latitude, longitude: s.longitude, timeUtc: s.timeUtc, datetime: s.datetime, faaMode: s.faaMode }))
      }
      if (s.speedKnots !== null || s.courseTrueDeg !== null) {
        out.push(make('gnss.course', { courseTrueDeg: s.courseTrueDeg, courseMagneticDeg: null, speedKnots: s.speedKnots, speedKmh: null }))
      }
      return out
    }
    case 'VTG': {
      const empty = s.courseTrueDeg === null && s.courseMagneticDeg === null && s.speedKnots === null && s.speedKmh === null
      if (s.faaMode === 'N' || empty) return []
      return [make('gnss.course', { courseTrueDeg: s.courseTrueDeg, courseMagneticDeg: s.courseMagneticDeg, speedKnots: s.speedKnots, speedKmh: s.speedKmh })]
    }
    case 'GSA':
      if (s.fixMode === null || s.fixMode === 'none') return []
      return [make('gnss.dop', { fixMode: s.fixMode, selectionMode: s.selectionMode, pdop: s.pdop, hdop: s.hdop, vdop: s.vdop, satellites: s.satellites })]
    case 'ZDA':
      if (s.datetime === null) return []
      return [make('gnss.time', { datetime: s.datetime, localZoneHours: s.localZoneHours, localZoneMinutes: s.localZoneMinutes })]
    case 'GST': {
      const { talker: _t, sentenceId: _s, ...data } = s
      return [make('gnss.accuracy', data)]
    }
    case 'GSV':
      return []
  }
}

/**
 * One line → readings; the serial source's line decoder for `format: nmea`.
 * @throws DecodeError as parseNmeaSentence.
 */
export function decodeNmeaLine(line: string, ctx: NmeaContext): Reading[] {
  return nmeaToReadings(parseNmeaSentence(line), ctx)
}

/**
 * A frame Decoder for one NMEA sentence per frame (any transport that already frames lines).
 * Bytes are read as latin1 so a non-ASCII byte reaches the printable-ASCII check as `bad_sentence`.
 * @throws DecodeError as parseNmeaSentence.
 */
export function createNmeaDecoder(opts: { deviceId: string; priority?: Priority }): Decoder {
  const priority = opts.priority ?? 'telemetry'
  return (frame: Frame) =>
    decodeNmeaLine(frame.bytes.toString('latin1'), { deviceId: opts.deviceId, priority, timeMs: frame.timeMs })
}
