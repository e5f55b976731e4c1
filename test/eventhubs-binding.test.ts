import { describe, expect, it } from 'vitest'
import { BATCH_CONTENT_TYPE, BindingError, isJsonObjectText, STRUCTURED_CONTENT_TYPE, toBatchEventData, toEventData } from '../gateway/uplink/eventhubs/amqp-binding.js'
import { compilePartitionKey } from '../gateway/uplink/eventhubs/partition-key.js'
import { buildEntry } from './support/eh-entries.js'

function entryWith(event: Record<string, unknown>) {
  const e = buildEntry()
  const json = JSON.stringify({ specversion: '1.0', id: 'x1', source: '/s', type: 't', ...event })
  return { ...e, id: 'x1', json, sizeBytes: json.length }
}

describe('toEventData, binary mode (CloudEvents AMQP binding §3.1)', () => {
  it('maps attributes to cloudEvents_ properties, datacontenttype to content type, data to the body', () => {
    const entry = buildEntry({ device: 3, sequence: 7 })
    const ev = toEventData(entry, 'binary')
    const ce = JSON.parse(entry.json)
    expect(ev.messageId).toBe(entry.id)
    expect(ev.contentType).toBe('application/json')
    expect(ev.properties).toEqual({
      cloudEvents_specversion: '1.0',
      cloudEvents_id: entry.id,
      cloudEvents_source: '/gateways/gw/src/dev-3',
      cloudEvents_type: 'io.edgegateway.environment',
      cloudEvents_time: ce.time,
      cloudEvents_sequence: '00000000000000000007',
    })
    expect(JSON.parse(String(ev.body))).toEqual(ce.data)
  })

  it('data without datacontenttype is application/json, stated explicitly (JSON format §3.1.2)', () => {
    const ev = toEventData(entryWith({ data: 'just a string' }), 'binary')
    expect(ev.contentType).toBe('application/json')
    expect(String(ev.body)).toBe('"just a string"')
  })

  it('non-JSON string data goes as its own bytes; data_base64 is decoded', () => {
    const xml = toEventData(entryWith({ datacontenttype: 'application/xml', data: '<a/>' }), 'binary')
    expect(xml.contentType).toBe('application/xml')
    expect(String(xml.body)).toBe('<a/>')
    const bin = toEventData(entryWith({ datacontenttype: 'application/octet-stream', data_base64: Buffer.from([1, 2, 3]).toString('base64') }), 'binary')
    expect([...(bin.body as Buffer)]).toEqual([1, 2, 3])
    expect(bin.properties).not.toHaveProperty('cloudEvents_data_base64')
  })

  it('extensions become properties; null is unset; integers go as canonical strings', () => {
    const ev = toEventData(entryWith({ comexampleflag: true, comexamplecount: 5, subject: null }), 'binary')
    expect(ev.properties).toMatchObject({ cloudEvents_comexampleflag: true, cloudEvents_comexamplecount: '5' })
    expect(ev.properties).not.toHaveProperty('cloudEvents_subject')
    expect(ev.contentType).toBeUndefined() // no data, no declared type
  })

  it('throws BindingError for JSON that is not an object', () => {
    const e = { ...buildEntry(), json: '[1,2]' }
    expect(() => toEventData(e, 'binary')).toThrow(BindingError)
    expect(() => toEventData({ ...e, json: '{not json' }, 'binary')).toThrow(/not valid JSON/)
  })
})

describe('toEventData, structured mode (§3.2)', () => {
  it('sends the stored JSON as is with the event-format content type', () => {
    const entry = buildEntry({ device: 1 })
    const ev = toEventData(entry, 'structured')
    expect(ev).toEqual({ body: entry.json, contentType: STRUCTURED_CONTENT_TYPE, messageId: entry.id })
  })
})

describe('compilePartitionKey', () => {
  it('renders placeholders from the CloudEvent source', () => {
    const entry = buildEntry({ device: 9 })
    expect(compilePartitionKey('{source}')(entry)).toBe('/gateways/gw/src/dev-9')
    expect(compilePartitionKey('{gatewayId}:{sourceId}:{deviceId}')(entry)).toBe('gw:src:dev-9')
    expect(compilePartitionKey('fleet-{gatewayId}')(entry)).toBe('fleet-gw')
  })

  it('falls back to the whole source for a foreign source shape', () => {
    const entry = { ...buildEntry(), source: 'urn:other' }
    expect(compilePartitionKey('{deviceId}')(entry)).toBe('urn:other')
  })
})

describe('batch mode documents (JSON batch format, outside the AMQP binding)', () => {
  it('joins the stored texts into one array, with a message_id that follows the ids', () => {
    const a = buildEntry({ sequence: 1 })
    const b = buildEntry({ sequence: 2 })
    const ev = toBatchEventData([a, b])
    expect(ev.contentType).toBe(BATCH_CONTENT_TYPE)
    expect(JSON.parse(String(ev.body))).toEqual([JSON.parse(a.json), JSON.parse(b.json)])
    expect(toBatchEventData([a, b]).messageId).toBe(ev.messageId)
    expect(toBatchEventData([b, a]).messageId).not.toBe(ev.messageId)
    expect(String(ev.messageId).length).toBeLessThanOrEqual(128) // AMQP message_id limit the SDK enforces
  })

  it('admits only texts that look like one JSON object', () => {
    expect(isJsonObjectText('{"a":1}')).toBe(true)
    expect(isJsonObjectText(' \n{"a":1}\n ')).toBe(true)
    for (const bad of ['', '   ', '"text"', '[1]', '{"a":1', '1', 'null']) expect(isJsonObjectText(bad)).toBe(false)
  })
})
