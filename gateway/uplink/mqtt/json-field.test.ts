import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { topLevelString } from './json-field.js'

describe('topLevelString', () => {
  it('finds the top-level member, not a nested one of the same name', () => {
    const json = JSON.stringify({ data: { type: 'nested', list: [{ type: 'deeper' }] }, type: 'io.edgegateway.environment' })
    expect(topLevelString(json, 'type')).toBe('io.edgegateway.environment')
  })

  it('is not fooled by the key appearing inside string values', () => {
    const json = JSON.stringify({ source: '"type":"fake"', note: 'a\\"type\\":\\"x', type: 'real' })
    expect(topLevelString(json, 'type')).toBe('real')
  })

  it('decodes escapes and tolerates whitespace', () => {
    expect(topLevelString('{ "type" :\n "a\\u00e9\\"b" }', 'type')).toBe('aé"b')
  })

  it('returns undefined when absent, not a string, or not JSON', () => {
    expect(topLevelString('{"data":{"type":"x"}}', 'type')).toBeUndefined()
    expect(topLevelString('{"type":5}', 'type')).toBeUndefined()
    expect(topLevelString('{"type":"unterminated', 'type')).toBeUndefined()
    expect(topLevelString('', 'type')).toBeUndefined()
  })

  it('agrees with JSON.parse on arbitrary objects', () => {
    const key = fc.constantFrom('type', 'data', 'x', 'ty"pe', 'typ\\e')
    const obj = fc.dictionary(key, fc.oneof(fc.string(), fc.jsonValue()), { maxKeys: 5 })
    fc.assert(
      fc.property(obj, fc.boolean(), (o, pretty) => {
        const json = pretty ? JSON.stringify(o, null, 2) : JSON.stringify(o)
        const expected = typeof o.type === 'string' ? o.type : undefined
        expect(topLevelString(json, 'type')).toBe(expected)
      }),
      { numRuns: 500 },
    )
  })
})
