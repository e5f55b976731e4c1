import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { CloudEvent } from 'cloudevents'
import { DecodeError } from '../core/errors.js'
import type { Reading } from '../core/types.js'
import { CloudEventBuilder, formatSequence, parseEventSource } from './cloudevent-builder.js'

const reading = (over: Partial<Reading> = {}): Reading => ({
  deviceId: 'dev-1',
  kind: 'environment',
  priority: 'telemetry',
  timeMs: Date.UTC(2026, 0, 2, 3, 4, 5),
  data: { temperatureC: 21.5 },
  ...over,
})

describe('CloudEventBuilder', () => {
  it('builds a valid CloudEvent 1.0 with source, type, time, id and a zero-padded sequence', () => {
    const b = new CloudEventBuilder('gw1', new Map())
    const ev = b.build('sim', reading())
    const parsed = JSON.parse(ev.json)
    expect(parsed).toMatchObject({
      specversion: '1.0',
      source: '/gateways/gw1/sim/dev-1',
      type: 'io.edgegateway.environment',
      time: '2026-01-02T03:04:05.000Z',
      datacontenttype: 'application/json',
      sequence: '00000000000000000001',
      data: { temperatureC: 21.5 },
    })
    expect(parsed.id).toBe(ev.id)
    expect(ev.source).toBe(parsed.source)
    // What we store must itself pass the SDK's strict validation.
    expect(() => new CloudEvent(parsed, true)).not.toThrow()
  })

  it('counts per source, continues from persisted counters, and sorts lexicographically', () => {
    const b = new CloudEventBuilder('gw1', new Map([['/gateways/gw1/sim/dev-1', 9]]))
    const seqs = [b.build('sim', reading()), b.build('sim', reading()), b.build('sim', reading({ deviceId: 'dev-2' }))].map(
      (e) => JSON.parse(e.json).sequence,
    )
    expect(seqs).toEqual([formatSequence(10), formatSequence(11), formatSequence(1)])
    expect(formatSequence(10) > formatSequence(9)).toBe(true)
    expect(b.countersFor(['/gateways/gw1/sim/dev-1'])).toEqual(new Map([['/gateways/gw1/sim/dev-1', 11]]))
  })

  it('gives every event a distinct id', () => {
    const b = new CloudEventBuilder('gw1', new Map())
    const ids = new Set(Array.from({ length: 100 }, () => b.build('sim', reading()).id))
    expect(ids.size).toBe(100)
  })

  it.each([
    ['a device id with a slash', reading({ deviceId: 'a/b' })],
    ['an empty device id', reading({ deviceId: '' })],
    ['a kind that is not dotted lower-case', reading({ kind: 'Bad Kind' })],
    ['an invalid time', reading({ timeMs: Number.NaN })],
    ['data that cannot be serialised', reading({ data: { n: 1n } })],
  ])('refuses %s with DecodeError and burns no sequence number', (_what, bad) => {
    const b = new CloudEventBuilder('gw1', new Map())
    expect(() => b.build('sim', bad)).toThrow(DecodeError)
    expect(JSON.parse(b.build('sim', reading()).json).sequence).toBe(formatSequence(1))
  })

  it('still refuses a bad kind for a device it knows, and a bad device id for a kind it knows', () => {
    const b = new CloudEventBuilder('gw1', new Map())
    b.build('sim', reading())
    b.build('sim', reading()) // the device and its kind are known now: the fast path
    expect(() => b.build('sim', reading({ kind: 'Bad Kind' }))).toThrow(DecodeError)
    expect(() => b.build('sim', reading({ deviceId: 'a/b' }))).toThrow(DecodeError)
    expect(() => b.build('sim', reading({ data: { n: 1n } }))).toThrow(DecodeError)
    expect(JSON.parse(b.build('sim', reading()).json).sequence).toBe(formatSequence(3))
  })

  it('keeps devices apart per source and counts on after it forgot what it validated', () => {
    const b = new CloudEventBuilder('gw1', new Map())
    expect(b.build('a', reading()).source).toBe('/gateways/gw1/a/dev-1')
    expect(b.build('b', reading()).source).toBe('/gateways/gw1/b/dev-1')
    // More devices than the builder remembers (10,000): it starts over and keeps counting.
    for (let i = 0; i < 10_050; i++) b.build('sim', reading({ deviceId: `d${i}` }))
    const again = JSON.parse(b.build('a', reading()).json)
    expect(again.sequence).toBe(formatSequence(2))
    expect(() => new CloudEvent(again, true)).not.toThrow()
  })

  it('stays bounded when one device invents kinds without end', () => {
    const b = new CloudEventBuilder('gw1', new Map())
    for (let i = 0; i < 10_050; i++) b.build('sim', reading({ kind: `k${i}` }))
    // Private, read here only to show the bound: devices plus kinds remembered.
    expect((b as unknown as { knownCount: number }).knownCount).toBeLessThanOrEqual(10_000)
    expect(JSON.parse(b.build('sim', reading({ kind: 'k1' })).json).sequence).toBe(formatSequence(10_051))
  })

  it('serialises later events of a validated shape exactly as the SDK would (fast path)', () => {
    const synced = { isSynced: () => true, now: () => ({ synced: true }) } as never
    fc.assert(
      fc.property(fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 6 }), fc.integer({ min: 0, max: 4e12 }), (data, timeMs) => {
        const b = new CloudEventBuilder('gw1', new Map(), synced)
        b.build('sim', reading({ data: { warm: 1 } })) // the SDK validates this shape first
        const fast = b.build('sim', reading({ data, timeMs }))
        const parsed = JSON.parse(fast.json)
        const viaSdk = JSON.stringify(
          new CloudEvent({ id: fast.id, time: parsed.time, type: parsed.type, source: parsed.source, specversion: '1.0', datacontenttype: 'application/json', data, sequence: parsed.sequence }, false),
        )
        expect(fast.json).toBe(viaSdk)
        expect(parsed.sequence).toBe(formatSequence(2))
        expect(() => new CloudEvent(parsed, true)).not.toThrow()
      }),
      { numRuns: 300 },
    )
  })

  it('pads sequences to 20 digits at every width', () => {
    for (const n of [0, 1, 9, 10, 12_345, 10 ** 15, Number.MAX_SAFE_INTEGER]) expect(formatSequence(n)).toBe(String(n).padStart(20, '0'))
  })

  it('splits a source back into its parts', () => {
    expect(parseEventSource('/gateways/gw1/sim/dev-1')).toEqual({ gatewayId: 'gw1', sourceId: 'sim', deviceId: 'dev-1' })
  })
})
