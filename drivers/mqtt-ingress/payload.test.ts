import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { MAX_JSON_DEPTH, parseJsonPayload } from './payload.js'

const b = (s: string) => Buffer.from(s)

describe('parseJsonPayload', () => {
  it('accepts JSON objects and bare values', () => {
    expect(parseJsonPayload(b('{"temperature":21.5}'), 100)).toEqual({ ok: true, data: { temperature: 21.5 } })
    expect(parseJsonPayload(b('23.5'), 100)).toEqual({ ok: true, data: 23.5 })
  })
  it.each([
    ['not json', b('hello')],
    ['empty', b('')],
    ['invalid UTF-8', Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d])],
    ['too deep', b('['.repeat(MAX_JSON_DEPTH + 1) + ']'.repeat(MAX_JSON_DEPTH + 1))],
    ['truncated', b('{"a":')],
  ])('%s → invalid_json', (_, payload) => {
    expect(parseJsonPayload(payload, 1000)).toMatchObject({ ok: false, reason: 'invalid_json' })
  })
  it('brackets inside strings do not count as nesting', () => {
    expect(parseJsonPayload(b(JSON.stringify({ s: '[[[[' .repeat(20) + '\\"' })), 1000).ok).toBe(true)
  })
  it('oversize is decided before parsing', () => {
    expect(parseJsonPayload(b('{"a":1}'), 6)).toMatchObject({ ok: false, reason: 'oversize' })
    expect(parseJsonPayload(b('{"a":1}'), 7).ok).toBe(true)
  })

  it('round-trips any JSON value within the limits (property)', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 10 }), (v) => {
        const text = JSON.stringify(v)
        const r = parseJsonPayload(b(text), 1 << 20)
        expect(r.ok).toBe(true)
        if (r.ok) expect(JSON.stringify(r.data)).toBe(text)
      }),
    )
  })

  it('never throws on arbitrary bytes, and ok implies valid JSON data (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.integer({ min: 0, max: 400 }), (bytes, max) => {
        const r = parseJsonPayload(bytes, max)
        if (r.ok) {
          expect(bytes.byteLength).toBeLessThanOrEqual(max)
          expect(() => JSON.stringify(r.data)).not.toThrow()
        } else {
          expect(['oversize', 'invalid_json']).toContain(r.reason)
        }
      }),
      { numRuns: 2000 },
    )
  })

  it('never throws on JSON-ish text (property)', () => {
    const jsonish = fc.string({ unit: fc.constantFrom('{', '}', '[', ']', '"', '\\', ':', ',', '1', 'a', ' ', 'null') })
    fc.assert(
      fc.property(jsonish, (s) => {
        const r = parseJsonPayload(b(s), 1 << 16)
        if (r.ok) expect(JSON.stringify(r.data)).toBeDefined()
      }),
      { numRuns: 2000 },
    )
  })
})
