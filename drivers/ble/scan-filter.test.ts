import { describe, expect, it } from 'vitest'
import { AllowList, MinIntervalGate, compileNamePattern } from './scan-filter.js'

describe('compileNamePattern', () => {
  it('globs are anchored, case-insensitive, * and ? only; other characters are literal', () => {
    const re = compileNamePattern('ATC_*')
    expect(['ATC_8D18B2', 'atc_', 'ATC_x.y'].map((n) => re.test(n))).toEqual([true, true, true])
    expect(['xATC_1', 'ATC'].map((n) => re.test(n))).toEqual([false, false])
    expect(compileNamePattern('Ruuvi ????').test('Ruuvi 884F')).toBe(true)
    expect(compileNamePattern('a.b(c)').test('aXb(c)')).toBe(false)
  })

  it('/regex/flags is a regular expression as written', () => {
    expect(compileNamePattern('/^LYWSD0[0-9]/').test('LYWSD03MMC')).toBe(true)
    expect(compileNamePattern('/^lywsd/').test('LYWSD03MMC')).toBe(false)
    expect(compileNamePattern('/^lywsd/i').test('LYWSD03MMC')).toBe(true)
  })
})

describe('AllowList', () => {
  it('empty accepts everything', () => {
    const a = new AllowList([])
    expect(a.acceptsAll).toBe(true)
    expect(a.allows('11:22:33:44:55:66', undefined)).toBe(true)
  })

  it('MAC entries (any case), name entries, and MAC+name entries that need both', () => {
    const a = new AllowList([{ mac: 'AA:BB:CC:DD:EE:01' }, { name: 'ATC_*' }, { mac: 'aa:bb:cc:dd:ee:02', name: 'Door*' }])
    expect(a.allows('aa:bb:cc:dd:ee:01', undefined)).toBe(true)
    expect(a.allows('11:22:33:44:55:66', 'ATC_123456')).toBe(true)
    expect(a.allows('11:22:33:44:55:66', undefined)).toBe(false)
    expect(a.allows('aa:bb:cc:dd:ee:02', 'Door sensor')).toBe(true)
    expect(a.allows('aa:bb:cc:dd:ee:02', 'Window')).toBe(false)
    expect(a.allows('aa:bb:cc:dd:ee:03', 'Door sensor')).toBe(false)
  })
})

describe('MinIntervalGate', () => {
  it('admits the first advert per interval, per key', () => {
    const g = new MinIntervalGate({ minIntervalMs: 1000 })
    expect([g.admit('a', 0), g.admit('a', 999), g.admit('b', 999), g.admit('a', 1000), g.admit('a', 1500)]).toEqual([true, false, true, true, false])
  })

  it('touch restarts the interval; 0 admits everything', () => {
    const g = new MinIntervalGate({ minIntervalMs: 1000 })
    g.touch('a', 500)
    expect([g.admit('a', 1000), g.admit('a', 1500)]).toEqual([false, true])
    const open = new MinIntervalGate({ minIntervalMs: 0 })
    expect([open.admit('a', 0), open.admit('a', 0)]).toEqual([true, true])
  })

  it('forgets the least recently heard device beyond maxDevices (admitting it again, never blocking it)', () => {
    const g = new MinIntervalGate({ minIntervalMs: 1000, maxDevices: 2 })
    g.admit('a', 0)
    g.admit('b', 0)
    g.admit('c', 0)
    expect([g.admit('b', 1), g.admit('a', 1)]).toEqual([false, true])
  })
})
