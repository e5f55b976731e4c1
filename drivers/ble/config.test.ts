import { describe, expect, it } from 'vitest'
import { bleSourceSchema } from './config.js'

const parse = (over: Record<string, unknown> = {}) => bleSourceSchema.safeParse({ type: 'ble', id: 'ble1', ...over })
const messages = (over: Record<string, unknown>) => {
  const r = parse(over)
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`)
}

describe('bleSourceSchema', () => {
  it('fills the documented defaults', () => {
    expect(parse().data).toEqual({
      type: 'ble',
      id: 'ble1',
      allow: [],
      minIntervalMs: 10_000,
      bindkeys: {},
      raw: false,
      duplicates: true,
      maxQueued: 1000,
      extended: false,
    })
  })

  it('accepts durations with units, allow entries by MAC and/or name, an hci index', () => {
    const c = parse({ minIntervalMs: '30s', allow: [{ mac: 'A4:C1:38:8D:18:B2' }, { name: 'ATC_*' }, { mac: 'a4:c1:38:8d:18:b3', name: '/^LYWSD/i' }], hciDevice: 1 })
    expect(c.success).toBe(true)
    expect(c.data).toMatchObject({ minIntervalMs: 30_000, hciDevice: 1 })
  })

  it('refuses malformed entries with messages that name the field', () => {
    expect(messages({ allow: [{}] })).toEqual(['allow.0: needs "mac" or "name"'])
    expect(messages({ allow: [{ mac: 'a4c1388d18b2' }] })).toEqual(['allow.0.mac: must be a MAC address like "a4:c1:38:8d:18:b2"'])
    expect(messages({ allow: [{ name: '/(/' }] })[0]).toMatch(/^allow\.0\.name: not a valid regular expression/)
    expect(messages({ allow: [{ name: '/x/g' }] })).toEqual(['allow.0.name: flags g and y are not allowed in a name pattern'])
    expect(messages({ allow: [{ mac: 'a4:c1:38:8d:18:b2', extra: 1 }] })[0]).toMatch(/^allow\.0: /)
    expect(messages({ maxQueued: 0 })[0]).toMatch(/^maxQueued: /)
    expect(messages({ minIntervalMs: 'soon' })[0]).toMatch(/^minIntervalMs: "soon" is not a duration/)
  })

  it('bindkeys: MAC -> 32 hex; the message never echoes the key', () => {
    const secret = '231d39c1d7cc1ab1aee224cd096db93'
    expect(parse({ bindkeys: { 'a4:c1:38:8d:18:b2': `${secret}2` } }).success).toBe(true)
    const bad = messages({ bindkeys: { 'a4:c1:38:8d:18:b2': secret } })
    expect(bad).toEqual(['bindkeys.a4:c1:38:8d:18:b2: must be 32 hex characters (a 16-byte AES key)'])
    expect(bad.join()).not.toContain(secret)
    expect(messages({ bindkeys: { 'A4:C1:38:8D:18:B2': `${secret}2`, 'a4:c1:38:8d:18:b2': `${secret}2` } })).toEqual([
      'bindkeys.a4:c1:38:8d:18:b2: duplicate bindkey for a4:c1:38:8d:18:b2 (MACs are not case-sensitive)',
    ])
  })

  it('raw needs an allow-list, or every advert in range would be stored', () => {
    expect(messages({ raw: true })).toEqual(['raw: raw: true needs a non-empty "allow": otherwise every advert in range is stored'])
    expect(parse({ raw: true, allow: [{ name: 'Ruuvi*' }] }).success).toBe(true)
  })
})
