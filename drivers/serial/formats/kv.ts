/**
 * Key=value lines, e.g. `temp=21.5 hum=40 door=open`: tokens separated by spaces, tabs or commas.
 * Values that look like plain decimal numbers become numbers, everything else stays a string
 * (no quoting: a value cannot contain a separator).
 */
import { DecodeError } from '../../../gateway/core/errors.js'
import type { Reading } from '../../../gateway/core/types.js'
import { fieldsToReading, numberOrString, type LineContext } from './fields.js'

const SEPARATORS = /[\s,]+/

/**
 * Decodes one key=value line into one Reading.
 * @throws DecodeError `bad_kv` (a token without `=`, an empty key or value, a repeated key), and
 *   the field errors of fieldsToReading.
 */
export function decodeKvLine(line: string, ctx: LineContext): Reading[] {
  const entries = new Map<string, string | number>()
  for (const token of line.trim().split(SEPARATORS)) {
    if (token === '') continue
    const eq = token.indexOf('=')
    if (eq <= 0 || eq === token.length - 1) {
      throw new DecodeError('bad_kv', `token of ${token.length} chars is not key=value`)
    }
    const key = token.slice(0, eq)
    // A repeated key is a framing or firmware bug; picking one of the values would be a guess.
    if (entries.has(key)) throw new DecodeError('bad_kv', `key ${key.slice(0, 64)} appears twice`)
    entries.set(key, numberOrString(token.slice(eq + 1)))
  }
  return [fieldsToReading(entries, ctx)]
}
