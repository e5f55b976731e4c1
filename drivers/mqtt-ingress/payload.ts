/**
 * Validates a sensor's PUBLISH payload as JSON, before anything is stored.
 *
 * Strict on purpose (principle 7: never store bad input as if it were valid): bytes must be valid
 * UTF-8 (a lenient decode would silently turn garbage into U+FFFD and store it), and nesting is
 * capped because the pipeline later serialises `data` with the recursive JSON.stringify.
 */

/** Deepest array/object nesting accepted. @default 32 */
export const MAX_JSON_DEPTH = 32

export type PayloadResult =
  | { ok: true; data: unknown }
  | { ok: false; reason: 'oversize' | 'invalid_json'; message: string }

const utf8 = new TextDecoder('utf-8', { fatal: true })

/**
 * Parses `payload` as a JSON document of at most `maxBytes` bytes. Any JSON value is accepted
 * (an ESP32 may send a bare number). Never throws; the failure `reason` is the metric label.
 */
export function parseJsonPayload(payload: Uint8Array, maxBytes: number): PayloadResult {
  if (payload.byteLength > maxBytes) {
    return { ok: false, reason: 'oversize', message: `payload ${payload.byteLength} bytes > maxPayloadBytes ${maxBytes}` }
  }
  let text: string
  try {
    text = utf8.decode(payload)
  } catch {
    return { ok: false, reason: 'invalid_json', message: 'payload is not valid UTF-8' }
  }
  const depth = maxNesting(text)
  if (depth > MAX_JSON_DEPTH) {
    return { ok: false, reason: 'invalid_json', message: `JSON nested ${depth} deep > ${MAX_JSON_DEPTH}` }
  }
  try {
    return { ok: true, data: JSON.parse(text) as unknown }
  } catch (err) {
    return { ok: false, reason: 'invalid_json', message: (err as Error).message.slice(0, 120) }
  }
}

/** Bracket depth outside string literals; stops counting once past the cap. */
function maxNesting(text: string): number {
  let depth = 0
  let max = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (inString) {
      if (c === 0x5c) i++ // backslash: skip the escaped char
      else if (c === 0x22) inString = false
    } else if (c === 0x22) inString = true
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) max = depth
      if (max > MAX_JSON_DEPTH) return max
    } else if (c === 0x7d || c === 0x5d) depth--
  }
  return max
}
