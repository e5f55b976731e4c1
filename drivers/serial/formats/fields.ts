/**
 * What every line format shares: the per-line context, the line decoder type, and turning a flat
 * record of fields into one Reading (metadata fields out, measurements validated).
 */
import { DecodeError } from '../../../gateway/core/errors.js'
import type { Priority, Reading } from '../../../gateway/core/types.js'
import { DEVICE_ID_PATTERN, FIELD_NAME_PATTERN } from '../config.js'

/** Per-line facts a format cannot know by itself. */
export interface LineContext {
  /** Used unless the line names its own `device`/`deviceId`. */
  deviceId: string
  kind: string
  priority: Priority
  /** When the bytes were received, ms since epoch; the reading time unless the line has `ts`/`time`. */
  timeMs: number
}

/** Pure and synchronous; throws DecodeError (and nothing else) for a bad line. */
export type LineDecoder = (line: string, ctx: LineContext) => Reading[]

export type FieldValue = number | string | boolean

const DEVICE_KEYS = ['device', 'deviceId'] as const
const TIME_KEYS = ['ts', 'time'] as const
/** Below this a numeric timestamp is taken as seconds: 1e11 ms is 1973, 1e11 s is year 5138. */
const SECONDS_LIMIT = 1e11
/** Strict decimal number: what a sensor prints. Rejects "0x10", "1_000", "Infinity", " 1". */
const NUMERIC = /^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$/

/** "21.5" → 21.5; anything that is not a plain finite decimal stays a string. */
export function numberOrString(text: string): number | string {
  if (!NUMERIC.test(text)) return text
  const n = Number(text)
  return Number.isFinite(n) ? n : text
}

/**
 * Builds one Reading from a flat record. `device`/`deviceId` and `ts`/`time` are metadata; every
 * other entry becomes a `data` field.
 * @throws DecodeError `bad_device_id`, `bad_timestamp`, `bad_field_name`, `bad_value`, `empty_reading`
 */
export function fieldsToReading(entries: Iterable<[string, unknown]>, ctx: LineContext): Reading {
  let deviceId = ctx.deviceId
  let timeMs = ctx.timeMs
  const data: Array<[string, FieldValue]> = []
  for (const [key, value] of entries) {
    if ((DEVICE_KEYS as readonly string[]).includes(key)) {
      deviceId = parseDeviceId(value)
    } else if ((TIME_KEYS as readonly string[]).includes(key)) {
      timeMs = parseTimestamp(value)
    } else {
      data.push([checkFieldName(key), checkValue(key, value)])
    }
  }
  if (data.length === 0) throw new DecodeError('empty_reading', 'line has no measurement fields')
  // fromEntries defines own properties, so a key such as "constructor" cannot touch a prototype.
  return { deviceId, kind: ctx.kind, priority: ctx.priority, timeMs, data: Object.fromEntries(data) }
}

function parseDeviceId(value: unknown): string {
  const text = typeof value === 'number' && Number.isInteger(value) ? String(value) : value
  if (typeof text !== 'string' || !DEVICE_ID_PATTERN.test(text)) {
    throw new DecodeError('bad_device_id', 'device must be 1-64 characters of A-Z a-z 0-9 . _ : -')
  }
  return text
}

/** Numbers are ms since epoch (seconds when below 1e11); strings must be ISO 8601 with a zone. */
function parseTimestamp(value: unknown): number {
  let ms = Number.NaN
  if (typeof value === 'number') ms = value < SECONDS_LIMIT ? value * 1000 : value
  // Without a zone Date.parse uses local time: a gateway's TZ must not shift readings.
  else if (typeof value === 'string' && /(Z|[+-]\d\d:?\d\d)$/.test(value)) ms = Date.parse(value)
  if (!Number.isFinite(ms) || ms < 0) {
    throw new DecodeError('bad_timestamp', 'ts/time must be epoch ms, epoch s, or ISO 8601 with a zone')
  }
  return Math.round(ms)
}

function checkFieldName(key: string): string {
  if (!FIELD_NAME_PATTERN.test(key)) {
    throw new DecodeError('bad_field_name', `field name of ${key.length} chars is not A-Z a-z 0-9 _ . -`)
  }
  return key
}

function checkValue(key: string, value: unknown): FieldValue {
  if (typeof value === 'string' || typeof value === 'boolean') return value
  if (typeof value === 'number' && Number.isFinite(value)) return value
  throw new DecodeError('bad_value', `field ${key} must be a number, string or boolean`)
}
