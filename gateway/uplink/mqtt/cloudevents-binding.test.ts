import { CloudEvent, MQTT } from 'cloudevents'
import { describe, expect, it } from 'vitest'
import { makeEntries, makeEntry } from '../../../test/support/entries.js'
import { BATCH_CONTENT_TYPE, encodeEntries, STRUCTURED_CONTENT_TYPE, type EncodeOptions } from './cloudevents-binding.js'
import { MQTT_MAX_PACKET_BYTES } from './packet-size.js'
import { compileTopicTemplate } from './topic-template.js'

const template = compileTopicTemplate('edge/{gatewayId}/{sourceId}/{deviceId}/{type}')
const base: EncodeOptions = { mode: 'structured', protocolVersion: 5, template, maxEvents: 100, maxBytes: 256 * 1024, maxPacketBytes: MQTT_MAX_PACKET_BYTES }

describe('structured mode (CloudEvents MQTT binding 3.2)', () => {
  it('publishes the stored JSON unchanged with the event-format content type on MQTT 5', () => {
    const e = makeEntry({ sequence: 1, deviceId: 'AA:BB' })
    const { messages, rejected } = encodeEntries([e], base)
    expect(rejected).toEqual([])
    expect(messages).toHaveLength(1)
    expect(messages[0]).toMatchObject({ topic: 'edge/gw1/sim/AA:BB/io.edgegateway.environment', payload: e.json, entries: [e] })
    expect(messages[0]!.properties).toEqual({ contentType: STRUCTURED_CONTENT_TYPE })
  })

  it('sets no properties on MQTT 3.1.1 (JSON format implied, binding 3.2.1)', () => {
    const { messages } = encodeEntries([makeEntry({ sequence: 1 })], { ...base, protocolVersion: 4 })
    expect(messages[0]!.properties).toBeUndefined()
  })

  it('rejects an event whose packet exceeds the limit, alone', () => {
    const small = makeEntries(2)
    const big = makeEntry({ sequence: 3, padBytes: 3000 })
    const { messages, rejected } = encodeEntries([small[0]!, big, small[1]!], { ...base, maxPacketBytes: 2048 })
    expect(messages.map((m) => m.entries[0])).toEqual(small)
    expect(rejected).toHaveLength(1)
    expect(rejected[0]).toMatchObject({ entry: big, reason: 'packet_too_large' })
    for (const m of messages) expect(m.packetBytes).toBeLessThanOrEqual(2048)
  })

  it('rejects entries whose source or type does not fit the topic template', () => {
    const bad = { ...makeEntry({ sequence: 1 }), source: 'urn:elsewhere' }
    const noType = { ...makeEntry({ sequence: 2 }), json: '{"specversion":"1.0","data":{"type":"nested"}}' }
    const { messages, rejected } = encodeEntries([bad, noType], base)
    expect(messages).toEqual([])
    expect(rejected.map((r) => r.reason)).toEqual(['invalid_event', 'invalid_event'])
  })
})

describe('binary mode (CloudEvents MQTT binding 3.1)', () => {
  const opts: EncodeOptions = { ...base, mode: 'binary' }

  it('maps data to the payload, datacontenttype to Content Type, attributes to User Properties', () => {
    const e = makeEntry({ sequence: 7, extensions: { traceparent: '00-abc-def-01', priorityclass: 3, flag: true } })
    const { messages } = encodeEntries([e], opts)
    const m = messages[0]!
    const event = JSON.parse(e.json) as Record<string, unknown>
    expect(m.payload).toBe(JSON.stringify(event.data))
    expect(m.properties?.contentType).toBe('application/json')
    expect(m.properties?.userProperties).toEqual({
      specversion: '1.0',
      id: e.id,
      source: e.source,
      type: 'io.edgegateway.environment',
      time: event.time,
      datacontenttype: 'application/json',
      sequence: '00000000000000000007',
      traceparent: '00-abc-def-01',
      priorityclass: '3',
      flag: 'true',
    })
  })

  it('agrees with the cloudevents SDK binding on headers and content type', () => {
    const e = makeEntry({ sequence: 2, extensions: { traceparent: '00-1-2-01' } })
    const sdk = MQTT.binary(new CloudEvent(JSON.parse(e.json) as Record<string, unknown>))
    const ours = encodeEntries([e], opts).messages[0]!
    expect(ours.properties?.contentType).toBe(sdk.PUBLISH?.['Content Type'])
    // The SDK also lists unset attributes as undefined; an unset attribute has no User Property.
    const sdkHeaders = Object.fromEntries(Object.entries(sdk.headers).filter(([, v]) => v !== undefined).map(([k, v]) => [k, String(v)]))
    expect(ours.properties?.userProperties).toEqual(sdkHeaders)
    expect(JSON.parse(ours.payload as string)).toEqual(sdk.body)
  })

  it('sends data_base64 as raw bytes and non-JSON string data as-is', () => {
    const bin = { ...makeEntry({ sequence: 1 }), json: JSON.stringify({ specversion: '1.0', id: '1', source: '/gateways/g/s/d', type: 't', datacontenttype: 'application/octet-stream', data_base64: 'AAEC/w==' }) }
    const text = { ...makeEntry({ sequence: 2 }), json: JSON.stringify({ specversion: '1.0', id: '2', source: '/gateways/g/s/d', type: 't', datacontenttype: 'text/plain', data: 'hello' }) }
    const [m1, m2] = encodeEntries([bin, text], opts).messages
    expect(m1!.payload).toEqual(Buffer.from([0, 1, 2, 255]))
    expect(m1!.properties?.userProperties).not.toHaveProperty('data_base64')
    expect(m2!.payload).toBe('hello')
    expect(m2!.properties?.contentType).toBe('text/plain')
  })

  it('states the implied application/json when datacontenttype is absent (JSON format 3.1.2)', () => {
    const e = makeEntry({ sequence: 1, datacontenttype: null, data: 'just a string' })
    const m = encodeEntries([e], opts).messages[0]!
    expect(m.payload).toBe('"just a string"')
    expect(m.properties?.contentType).toBe('application/json')
  })

  it('rejects unparseable stored JSON as invalid_event', () => {
    const e = { ...makeEntry({ sequence: 1 }), json: '{not json' }
    expect(encodeEntries([e], opts).rejected[0]).toMatchObject({ entry: e, reason: 'invalid_event' })
  })
})

describe('batch mode (JSON batch format, CloudEvents JSON format 4)', () => {
  const opts: EncodeOptions = { ...base, mode: 'batch' }

  it('groups by topic, keeps order within a topic, and splits at maxEvents', () => {
    const entries = makeEntries(5, { devices: ['a', 'b'] }) // a1 b1 a2 b2 ...
    const { messages } = encodeEntries(entries, { ...opts, maxEvents: 3 })
    expect(messages.map((m) => [m.topic.split('/')[3], m.entries.length])).toEqual([['a', 3], ['a', 2], ['b', 3], ['b', 2]])
    const seqA = messages.filter((m) => m.topic.includes('/a/')).flatMap((m) => (JSON.parse(m.payload as string) as Array<{ sequence: string }>).map((e) => Number(e.sequence)))
    expect(seqA).toEqual([1, 2, 3, 4, 5])
    expect(messages[0]!.properties).toEqual({ contentType: BATCH_CONTENT_TYPE })
    expect(messages[0]!.payload).toBe('[' + messages[0]!.entries.map((e) => e.json).join(',') + ']')
  })

  it('keeps every message within maxBytes and the packet limit; rejects only the event too large alone', () => {
    const entries = makeEntries(20)
    const big = makeEntry({ sequence: 21, padBytes: 5000 })
    const size = Buffer.byteLength(entries[0]!.json)
    const { messages, rejected } = encodeEntries([...entries, big], { ...opts, maxBytes: size * 4, maxPacketBytes: 2048 })
    expect(rejected.map((r) => r.entry)).toEqual([big])
    expect(messages.flatMap((m) => m.entries)).toEqual(entries)
    for (const m of messages) {
      expect(Buffer.byteLength(m.payload as string)).toBeLessThanOrEqual(size * 4)
      expect(m.packetBytes).toBeLessThanOrEqual(2048)
    }
  })

  it('sends an event larger than maxBytes alone when the packet limit allows it', () => {
    const big = makeEntry({ sequence: 1, padBytes: 1000 })
    const { messages } = encodeEntries([big, makeEntry({ sequence: 2 })], { ...opts, maxBytes: 500 })
    expect(messages.map((m) => m.entries.length)).toEqual([1, 1])
  })
})
