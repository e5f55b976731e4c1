/** Picks the line decoder for a configured format. */
import { decodeNmeaLine } from '../../decoders/nmea.js'
import type { SerialFormat } from '../config.js'
import { createCsvDecoder, type CsvOptions } from './csv.js'
import type { LineDecoder } from './fields.js'
import { decodeJsonlLine } from './jsonl.js'
import { decodeKvLine } from './kv.js'

/**
 * @throws TypeError when `format` is csv and `csv` is missing or invalid (the config schema
 *   already guarantees it; this guards direct construction).
 */
export function lineDecoderFor(format: SerialFormat, csv?: CsvOptions): LineDecoder {
  switch (format) {
    case 'jsonl':
      return decodeJsonlLine
    case 'kv':
      return decodeKvLine
    case 'nmea':
      // NMEA readings are gnss.*; the configured `kind` does not apply (ctx.kind is ignored).
      return decodeNmeaLine
    case 'csv':
      if (!csv) throw new TypeError('"csv" is required when format is csv')
      return createCsvDecoder(csv)
  }
}
