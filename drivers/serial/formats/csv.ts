/**
 * Delimited values with the column names from config, e.g. columns [temp, hum] and `21.5,40`.
 * No quoting (sensors do not quote). An empty field means "no value" and is left out. A line equal
 * to the column names is the header many devices print at boot and is skipped, not counted.
 */
import { DecodeError } from '../../../gateway/core/errors.js'
import type { Reading } from '../../../gateway/core/types.js'
import { fieldsToReading, numberOrString, type LineContext, type LineDecoder } from './fields.js'

export interface CsvOptions {
  columns: readonly string[]
  /** One character. @default "," */
  delimiter?: string
}

/**
 * Returns a decoder for one column layout.
 * @throws TypeError naming the field for empty `columns` or a `delimiter` that is not one character.
 * The decoder throws DecodeError `bad_csv` when the field count differs from the column count,
 * plus the field errors of fieldsToReading.
 */
export function createCsvDecoder(options: CsvOptions): LineDecoder {
  const columns = [...options.columns]
  const delimiter = options.delimiter ?? ','
  if (columns.length === 0) throw new TypeError('"columns" must name at least one column')
  if (delimiter.length !== 1) throw new TypeError(`"delimiter" must be one character, got ${JSON.stringify(delimiter)}`)
  const header = columns.join(delimiter)

  return (line: string, ctx: LineContext): Reading[] => {
    // No trim of the whole line: with a tab delimiter that would eat empty first/last fields.
    if (line === header) return []
    const values = line.split(delimiter)
    if (values.length !== columns.length) {
      throw new DecodeError('bad_csv', `expected ${columns.length} fields, got ${values.length}`)
    }
    const entries: Array<[string, string | number]> = []
    values.forEach((raw, i) => {
      const value = raw.trim()
      if (value !== '') entries.push([columns[i]!, numberOrString(value)])
    })
    return [fieldsToReading(entries, ctx)]
  }
}
