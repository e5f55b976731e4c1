/**
 * CloudEvents AMQP protocol binding (cloudevents/spec bindings/amqp-protocol-binding.md, v1.0.x):
 * one stored CloudEvent (structured JSON) → one Event Hubs message (a `WireEvent`, amqp-wire.ts).
 *
 * - binary mode (§3.1): `datacontenttype` → AMQP `content-type` (§3.1.1); `data` → the AMQP
 *   application data section as bytes (§3.1.2); every other attribute, extensions included →
 *   one application property named `cloudEvents_<name>` (§3.1.3; §3.1.3.1 as pinned in
 *   ../shared/vectors/cloudevents.json: `cloudEvents_` is preferred over `cloudEvents:` because JMS
 *   property names cannot contain `:`; receivers accept both. Some spec revisions print only `:`).
 * - structured mode (§3.2): content-type `application/cloudevents+json` (§3.2.1), the JSON event
 *   format document as the data section (§3.2.2), no application properties (§3.2.3 makes them
 *   optional; leaving them out keeps the event small).
 * - both modes: AMQP `message_id` = CloudEvent `id`, so a consumer can dedupe resends by id even
 *   without parsing the body (source + id identify an event, CloudEvents 1.0 §3.1.1).
 * - batch mode (opt-in; not defined by the AMQP binding, like the MQTT uplink's `batch`): several
 *   stored events of ONE partition key as one JSON batch document (JSON event format §4,
 *   `application/cloudevents-batch+json`) in one AMQP message. Why: Event Hubs meters ingress per
 *   event (1,000 events/s per throughput unit, billed in 64 KB units), so an array of 100 readings
 *   costs the hub's quota about what one reading costs in structured mode, and the uplink's
 *   per-message work (amqp-wire.ts, or the SDK's tryAdd) is done once for the array.
 *   Consumers must expect an array (Stream Analytics and Data Explorer's multijson do). The
 *   `message_id` is a digest of the ids in the array: the same array resent has the same id; a
 *   resend grouped differently has another, so consumers dedupe per element by source + id.
 */
import { createHash } from 'node:crypto'
import type { Entry } from '../../core/types.js'
import type { WireEvent } from './amqp-wire.js'

export type BindingMode = 'binary' | 'structured' | 'batch'

/** Media type of the JSON event format (CloudEvents JSON format §3, AMQP binding §3.2.1). */
export const STRUCTURED_CONTENT_TYPE = 'application/cloudevents+json'
/** Media type of the JSON batch format (CloudEvents JSON format §4.2). */
export const BATCH_CONTENT_TYPE = 'application/cloudevents-batch+json'
/** Application-property prefix for binary mode (AMQP binding §3.1.3.1). */
export const PROPERTY_PREFIX = 'cloudEvents_'

/** Entry that cannot be expressed as an AMQP message. Permanent: resending cannot fix it. */
export class BindingError extends Error {
  readonly reason = 'invalid_event'
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'BindingError'
  }
}

/** `cloudEvents_<name>` for the attribute names seen so far (a few per deployment), made once. */
const propertyNames = new Map<string, string>()
const MAX_PROPERTY_NAMES = 1024

function propertyName(attribute: string): string {
  let name = propertyNames.get(attribute)
  if (name === undefined) {
    name = PROPERTY_PREFIX + attribute
    if (propertyNames.size < MAX_PROPERTY_NAMES) propertyNames.set(attribute, name)
  }
  return name
}

/** Members of the JSON format that are not binary-mode application properties. */
const NOT_PROPERTIES = new Set(['data', 'data_base64', 'datacontenttype'])

/** `*\/json` or `*\/*+json` (JSON format §3.1.1: such data is a JSON value, not a string of JSON). */
export function isJsonMediaType(contentType: string): boolean {
  const media = (contentType.split(';')[0] ?? '').trim().toLowerCase()
  return media.endsWith('/json') || media.endsWith('+json')
}

/**
 * AMQP binding §3.1.3.2: values are the native AMQP type or the canonical string form. Strings
 * and booleans go native. Integers go as canonical strings: a JS number would be encoded as AMQP
 * uint/int by the SDK, not the `long` the table asks for. `time` stays a string (not an AMQP
 * timestamp) because the timestamp type has millisecond precision and RFC 3339 may carry more.
 */
function propertyValue(value: unknown): string | boolean | undefined {
  if (value === null || value === undefined) return undefined // JSON format §2.2: null = unset
  if (typeof value === 'string' || typeof value === 'boolean') return value
  if (typeof value === 'number') return String(value)
  return JSON.stringify(value) // not a valid attribute type; carried rather than dropped
}

function parseEvent(entry: Entry): Record<string, unknown> {
  let ev: unknown
  try {
    ev = JSON.parse(entry.json)
  } catch (err) {
    throw new BindingError(`event ${entry.id} is not valid JSON`, { cause: err })
  }
  if (typeof ev !== 'object' || ev === null || Array.isArray(ev)) {
    throw new BindingError(`event ${entry.id} is not a JSON object`)
  }
  return ev as Record<string, unknown>
}

/**
 * Binary-mode body and content type from the JSON format members (JSON format §3.1.2). Text
 * bodies stay strings (sent as their UTF-8 bytes).
 */
function binaryData(ev: Record<string, unknown>): { body: Buffer | string; contentType: string | undefined } {
  const declared = typeof ev['datacontenttype'] === 'string' ? ev['datacontenttype'] : undefined
  if (typeof ev['data_base64'] === 'string') {
    // Binary data: the declared type (if any) describes the original bytes; none is inferred.
    return { body: Buffer.from(ev['data_base64'], 'base64'), contentType: declared }
  }
  if (!('data' in ev) || ev['data'] === undefined) return { body: '', contentType: declared }
  // JSON format §3.1.2: `data` without datacontenttype is application/json, and a re-serialised
  // event SHOULD state it explicitly. An explicit `data: null` is a payload (the bytes `null`).
  const contentType = declared ?? 'application/json'
  const data = ev['data']
  if (!isJsonMediaType(contentType) && typeof data === 'string') return { body: data, contentType }
  return { body: JSON.stringify(data), contentType }
}

/**
 * Maps one stored event to its AMQP message. Throws BindingError for an entry whose JSON is not a
 * CloudEvent object (only possible in binary mode, which has to look inside). Structured mode
 * sends the stored text as it is, without copying it into a Buffer of its own.
 */
export function toEventData(entry: Entry, mode: 'binary' | 'structured'): WireEvent {
  if (mode === 'structured') return { body: entry.json, contentType: STRUCTURED_CONTENT_TYPE, messageId: entry.id }
  const ev = parseEvent(entry)
  const properties: Record<string, string | boolean> = {}
  for (const name in ev) {
    if (NOT_PROPERTIES.has(name)) continue
    const v = propertyValue(ev[name])
    if (v !== undefined) properties[propertyName(name)] = v
  }
  const { body, contentType } = binaryData(ev)
  const out: WireEvent = { body, messageId: entry.id, properties }
  if (contentType !== undefined) out.contentType = contentType
  return out
}

/**
 * Batch mode: the entries (of one partition key, in order) as one JSON batch document. Bodies are
 * joined as stored, without parsing; `isJsonObjectText` keeps one garbled entry from turning the
 * whole array into invalid JSON (the caller rejects such entries before they get here).
 */
export function toBatchEventData(entries: readonly Entry[]): WireEvent {
  const body = '[' + entries.map((e) => e.json).join(',') + ']'
  return { body, contentType: BATCH_CONTENT_TYPE, messageId: batchMessageId(entries) }
}

/** Bytes an entry adds to a batch document: its JSON and a separating comma. */
export function batchMemberBytes(entry: Entry): number {
  return Buffer.byteLength(entry.json, 'utf8') + 1
}

/** `batch-` + base64url(SHA-256 of the ids, newline-separated): 50 characters, under AMQP's 128. */
function batchMessageId(entries: readonly Entry[]): string {
  const hash = createHash('sha256')
  for (const e of entries) hash.update(e.id).update('\n')
  return 'batch-' + hash.digest('base64url')
}

/**
 * Cheap shape check for batch mode: the stored text looks like one JSON object. Structured mode
 * sends the text as is; in an array a broken member would make every other member unreadable.
 */
export function isJsonObjectText(json: string): boolean {
  const start = json.search(/\S/)
  let end = json.length - 1
  while (end > start && /\s/.test(json[end]!)) end--
  return start >= 0 && json[start] === '{' && json[end] === '}'
}
