/**
 * CloudEvents MQTT protocol binding 1.0.2: turns stored entries into MQTT PUBLISH messages.
 *
 * - `structured` (binding §3.2): one message per event; payload = the stored JSON unchanged
 *   (JSON event format); MQTT 5 Content Type `application/cloudevents+json` (§3.2.1); on
 *   MQTT 3.1.1 there is no Content Type and the JSON format is implied (§3.2.1, §3).
 * - `binary` (binding §3.1, MQTT 5 only): payload = the event `data` as bytes (§3.1.2), Content
 *   Type = `datacontenttype` (§3.1.1), every other attribute a User Property with the attribute
 *   name unchanged (§3.1.3.1) and its canonical string value (§3.1.3.2). `datacontenttype` is
 *   also kept as a User Property, as in the binding's own example (§3.1.4) and the cloudevents SDK.
 * - `batch`: not defined by the MQTT binding; we publish the JSON batch format (JSON event format
 *   §4, `application/cloudevents-batch+json`): events grouped by topic in order, one array per
 *   message, bounded by maxEvents, maxBytes and the packet limit.
 *
 * Entries whose packet alone would exceed the packet limit, or that cannot be encoded (source not
 * `/gateways/{gw}/{source}/{device}`, no `type`, unparseable JSON in binary mode), come back in
 * `rejected` and are never sent; everything else becomes a message.
 */
import type { Entry } from '../../core/types.js'
import { topLevelString } from './json-field.js'
import { publishPacketBytes, type PublishProperties } from './packet-size.js'
import { splitEventSource, type TopicTemplate } from './topic-template.js'

export type BindingMode = 'structured' | 'binary' | 'batch'

/** JSON event format media type (CloudEvents JSON format §3). */
export const STRUCTURED_CONTENT_TYPE = 'application/cloudevents+json'
/** JSON batch format media type (CloudEvents JSON format §4.2). */
export const BATCH_CONTENT_TYPE = 'application/cloudevents-batch+json'

/** One PUBLISH to write, and the entries it carries. */
export interface OutMessage {
  topic: string
  payload: string | Buffer
  /** MQTT 5 properties; undefined on MQTT 3.1.1. */
  properties: PublishProperties | undefined
  entries: Entry[]
  /** Exact encoded PUBLISH size, bytes. */
  packetBytes: number
}

export interface RejectedEntry {
  entry: Entry
  reason: string
  message: string
}

export interface EncodeOptions {
  mode: BindingMode
  protocolVersion: 4 | 5
  template: TopicTemplate
  /** Most events per `batch`-mode message. */
  maxEvents: number
  /** Most payload bytes per `batch`-mode message (a single larger event still goes alone). */
  maxBytes: number
  /** Largest PUBLISH packet allowed on this connection, bytes. */
  maxPacketBytes: number
}

export interface EncodeResult {
  messages: OutMessage[]
  rejected: RejectedEntry[]
}

/** Encodes `batch` for `opts.mode`. Pure and synchronous; never throws for bad entries. */
export function encodeEntries(batch: Entry[], opts: EncodeOptions): EncodeResult {
  const out: EncodeResult = { messages: [], rejected: [] }
  if (opts.mode === 'batch') encodeBatchMode(batch, opts, out)
  else for (const entry of batch) encodeSingle(entry, opts, out)
  return out
}

function invalid(entry: Entry, message: string): RejectedEntry {
  return { entry, reason: 'invalid_event', message }
}

function tooLarge(entry: Entry, packetBytes: number, limit: number): RejectedEntry {
  return {
    entry,
    reason: 'packet_too_large',
    message: `event needs a ${packetBytes}-byte PUBLISH; the broker accepts at most ${limit} bytes (MQTT-3.2.2-15)`,
  }
}

/** Topic of an entry, or a rejection when its source/type do not fit the template. */
function topicOf(entry: Entry, opts: EncodeOptions, type?: string): string | RejectedEntry {
  const parts = splitEventSource(entry.source)
  if (!parts) return invalid(entry, `CloudEvent source "${entry.source.slice(0, 80)}" is not /gateways/{gateway}/{source}/{device}`)
  let t = ''
  if (opts.template.needsType) {
    const found = type ?? topLevelString(entry.json, 'type')
    if (found === undefined) return invalid(entry, 'CloudEvent has no string "type"')
    t = found
  }
  // Spelled out: on Node 20 an object spread followed by more properties takes V8's slow path,
  // ~1 µs each, and this runs for every event.
  const topic = opts.template.render({ gatewayId: parts.gatewayId, sourceId: parts.sourceId, deviceId: parts.deviceId, type: t })
  // A topic name must be at least one character long (MQTT-4.7.3-1).
  return topic === '' ? invalid(entry, 'topic template rendered an empty topic') : topic
}

function encodeSingle(entry: Entry, opts: EncodeOptions, out: EncodeResult): void {
  let payload: string | Buffer
  let properties: PublishProperties | undefined
  let topic: string | RejectedEntry
  if (opts.mode === 'binary') {
    let event: Record<string, unknown>
    try {
      event = JSON.parse(entry.json) as Record<string, unknown>
      if (typeof event !== 'object' || event === null || Array.isArray(event)) throw new Error('not an object')
    } catch (err) {
      out.rejected.push(invalid(entry, `stored JSON is not a CloudEvent object: ${(err as Error).message}`))
      return
    }
    topic = topicOf(entry, opts, typeof event.type === 'string' ? event.type : undefined)
    ;({ payload, properties } = binaryMessage(event))
  } else {
    topic = topicOf(entry, opts)
    payload = entry.json
    properties = opts.protocolVersion === 5 ? { contentType: STRUCTURED_CONTENT_TYPE } : undefined
  }
  if (typeof topic !== 'string') {
    out.rejected.push(topic)
    return
  }
  const packetBytes = publishPacketBytes(
    Buffer.byteLength(topic),
    typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length,
    opts.protocolVersion,
    properties,
  )
  if (packetBytes > opts.maxPacketBytes) out.rejected.push(tooLarge(entry, packetBytes, opts.maxPacketBytes))
  else out.messages.push({ topic, payload, properties, entries: [entry], packetBytes })
}

/** True for JSON media types: `*\/json` or `*\/*+json` once parameters are stripped (JSON format §3.1.1). */
export function isJsonContentType(contentType: string): boolean {
  const media = contentType.split(';', 1)[0]!.trim().toLowerCase()
  const subtype = media.slice(media.indexOf('/') + 1)
  return subtype === 'json' || subtype.endsWith('+json')
}

/** Binding §3.1: data → payload, datacontenttype → Content Type, attributes → User Properties. */
export function binaryMessage(event: Record<string, unknown>): { payload: string | Buffer; properties: PublishProperties } {
  const userProperties: Record<string, string> = {}
  for (const [name, value] of Object.entries(event)) {
    if (name === 'data' || name === 'data_base64' || value === null || value === undefined) continue
    // Canonical string forms (CloudEvents 1.0 "Type System"): strings as-is, Integer in decimal,
    // Boolean as true/false. Timestamps and URIs are already strings in the JSON format.
    userProperties[name] = typeof value === 'string' ? value : typeof value === 'object' ? JSON.stringify(value) : String(value)
  }
  let contentType = typeof event.datacontenttype === 'string' ? event.datacontenttype : undefined
  let payload: string | Buffer = ''
  if (typeof event.data_base64 === 'string') payload = Buffer.from(event.data_base64, 'base64')
  else if ('data' in event && event.data !== undefined) {
    if (contentType === undefined) {
      // JSON format §3.1.2: data without datacontenttype is JSON, and re-serialising it in another
      // binding SHOULD state the implied application/json explicitly.
      contentType = 'application/json'
      userProperties.datacontenttype = contentType
    }
    const data = event.data
    // JSON content: the JSON text of the value (a string becomes "quoted"); otherwise the string.
    payload = !isJsonContentType(contentType) && typeof data === 'string' ? data : JSON.stringify(data)
  }
  const properties: PublishProperties = { userProperties }
  if (contentType !== undefined) properties.contentType = contentType
  return { payload, properties }
}

interface Group {
  topic: string
  topicBytes: number
  entries: Entry[]
}

function encodeBatchMode(batch: Entry[], opts: EncodeOptions, out: EncodeResult): void {
  // Map keeps first-appearance order of topics; each group keeps the entries' order, so the
  // events of one device (one topic) leave in the order they were stored.
  const groups = new Map<string, Group>()
  for (const entry of batch) {
    const topic = topicOf(entry, opts)
    if (typeof topic !== 'string') {
      out.rejected.push(topic)
      continue
    }
    let g = groups.get(topic)
    if (!g) groups.set(topic, (g = { topic, topicBytes: Buffer.byteLength(topic), entries: [] }))
    g.entries.push(entry)
  }
  const properties = opts.protocolVersion === 5 ? { contentType: BATCH_CONTENT_TYPE } : undefined
  for (const g of groups.values()) chunkGroup(g, properties, opts, out)
}

function chunkGroup(g: Group, properties: PublishProperties | undefined, opts: EncodeOptions, out: EncodeResult): void {
  const packet = (payloadBytes: number): number =>
    publishPacketBytes(g.topicBytes, payloadBytes, opts.protocolVersion, properties)
  let entries: Entry[] = []
  let jsons: string[] = []
  let payloadBytes = 2 // "[" and "]"
  const flush = (): void => {
    if (entries.length === 0) return
    const payload = '[' + jsons.join(',') + ']'
    out.messages.push({ topic: g.topic, payload, properties, entries, packetBytes: packet(payloadBytes) })
    entries = []
    jsons = []
    payloadBytes = 2
  }
  for (const entry of g.entries) {
    const size = Buffer.byteLength(entry.json)
    const alone = packet(2 + size)
    if (alone > opts.maxPacketBytes) {
      out.rejected.push(tooLarge(entry, alone, opts.maxPacketBytes))
      continue
    }
    const grown = payloadBytes + (entries.length > 0 ? 1 : 0) + size
    const full =
      entries.length >= opts.maxEvents || grown > opts.maxBytes || packet(grown) > opts.maxPacketBytes
    if (entries.length > 0 && full) flush()
    payloadBytes += (entries.length > 0 ? 1 : 0) + size
    entries.push(entry)
    jsons.push(entry.json)
  }
  flush()
}
