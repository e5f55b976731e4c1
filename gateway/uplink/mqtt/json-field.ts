/**
 * Reads one top-level string member of a JSON object without parsing the whole text.
 *
 * Why: in `structured` and `batch` modes the uplink forwards the stored JSON unchanged and only
 * needs the CloudEvent `type` for the topic. A regular expression for `"type":"..."` would be
 * wrong when `data` (or an extension) contains a nested member named `type`, so this walks the
 * text tracking object depth, jumping over string contents with `indexOf` (native speed), and
 * stops at the first top-level match. Valid JSON in, the same answer as `JSON.parse(json)[key]`
 * out (property-tested against JSON.parse). Duplicate keys: JSON.parse keeps the last one; the
 * CloudEvents JSON format forbids duplicates, so the first match is returned.
 */

/**
 * The value of top-level member `key` when it is a JSON string; undefined when the member is
 * absent, not a string, or the text is not a JSON object. Never throws.
 */
export function topLevelString(json: string, key: string): string | undefined {
  let depth = 0
  let i = 0
  const n = json.length
  while (i < n) {
    const c = json.charCodeAt(i)
    if (c === 0x22 /* " */) {
      const end = stringEnd(json, i)
      if (end < 0) return undefined
      if (depth === 1 && isKey(json, end + 1) && json.slice(i + 1, end) === key) {
        return readValueString(json, end + 1)
      }
      i = end + 1
      continue
    }
    if (c === 0x7b /* { */ || c === 0x5b /* [ */) depth++
    else if (c === 0x7d /* } */ || c === 0x5d /* ] */) depth--
    i++
  }
  return undefined
}

/** Index of the closing quote of the string opening at `start`, or -1. */
function stringEnd(json: string, start: number): number {
  let j = start
  for (;;) {
    j = json.indexOf('"', j + 1)
    if (j < 0) return -1
    // A quote preceded by an odd number of backslashes is escaped (RFC 8259 §7).
    let backslashes = 0
    for (let k = j - 1; json.charCodeAt(k) === 0x5c; k--) backslashes++
    if (backslashes % 2 === 0) return j
  }
}

function skipWhitespace(json: string, i: number): number {
  while (i < json.length) {
    const c = json.charCodeAt(i)
    if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) break
    i++
  }
  return i
}

/** True when the string that ended just before `i` is a member name (followed by `:`). */
function isKey(json: string, i: number): boolean {
  return json.charCodeAt(skipWhitespace(json, i)) === 0x3a /* : */
}

function readValueString(json: string, afterKey: number): string | undefined {
  const colon = skipWhitespace(json, afterKey)
  const start = skipWhitespace(json, colon + 1)
  if (json.charCodeAt(start) !== 0x22) return undefined
  const end = stringEnd(json, start)
  if (end < 0) return undefined
  const raw = json.slice(start + 1, end)
  if (!raw.includes('\\')) return raw
  try {
    return JSON.parse(json.slice(start, end + 1)) as string
  } catch {
    return undefined
  }
}
