/** The NMEA half of `edge-gateway decode`: one sentence in, its parse and readings (or why none) out. Pure. */
import { nmeaToReadings, parseNmeaSentence, type NmeaSentence } from '../../../drivers/decoders/nmea.js'
import type { Reading } from '../../core/types.js'

export type NmeaCliResult = { ok: true; sentence: NmeaSentence; readings: Reading[] } | { ok: false; message: string }

/**
 * Decodes `line` like the serial source's `nmea` format does. Never throws: a bad checksum, an
 * unsupported sentence or a valid sentence without usable data comes back as `{ ok: false }`.
 */
export function decodeNmeaForCli(line: string, deviceId: string, timeMs: number): NmeaCliResult {
  let sentence: NmeaSentence
  try {
    sentence = parseNmeaSentence(line)
  } catch (err) {
    const reason = (err as { reason?: unknown }).reason
    return { ok: false, message: `${typeof reason === 'string' ? `${reason}: ` : ''}${(err as Error).message}` }
  }
  const readings = nmeaToReadings(sentence, { deviceId, priority: 'telemetry', timeMs })
  if (readings.length === 0) {
    return { ok: false, message: `no reading: this ${sentence.sentenceId} sentence is valid but carries no usable data (void fix, no position, or satellites in view)` }
  }
  return { ok: true, sentence, readings }
}
