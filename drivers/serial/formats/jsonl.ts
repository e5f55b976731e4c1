/**
 * JSON Lines: one JSON object per line, e.g. `{"device":"probe-2","ts":1718000000000,"temp":21.5}`.
 * Values must be numbers, strings or booleans (flat); nested objects, arrays and null are rejected
 * rather than guessed at, so nothing ambiguous is stored.
 */
import { DecodeError } from '../../../gateway/core/errors.js'
import type { Reading } from '../../../gateway/core/types.js'
import { fieldsToReading, type LineContext } from './fields.js'

/**
 * Decodes one JSON line into one Reading.
 * @throws DecodeError `bad_json` (not JSON), `not_object` (array, string, null...), and the
 *   field errors of fieldsToReading (`bad_value`, `bad_timestamp`, ...).
 */
export function decodeJsonlLine(line: string, ctx: LineContext): Reading[] {
  let parsed: unknown
  try {
    parsed = JSON.parse(line)
  } catch (err) {
    throw new DecodeError('bad_json', 'line is not valid JSON', { cause: err })
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new DecodeError('not_object', 'JSON line must be an object')
  }
  return [fieldsToReading(Object.entries(parsed), ctx)]
}
