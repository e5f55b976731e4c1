/**
 * Bad input: truncation at every length, unknown BTHome ids, wrong bindkeys, replayed packet ids,
 * oversize fields. Whatever the bytes, the only thing a decoder may throw is a DecodeError.
 */
import { describe, expect, it } from 'vitest'
import { DecodeError } from '../../gateway/core/errors.js'
import { decodeAdvert, EXTENDED_ADV_MAX_BYTES, LEGACY_ADV_MAX_BYTES, type BleAdvert, type DecodeOptions } from './advert.js'
import { PacketIdDedup } from './packet-id-dedup.js'
import { KNOWN_REASONS, validAdverts } from './testing/valid-adverts.js'
import { keys, svcAdvert } from './testing/vectors.js'

/** 'ok' | DecodeError reason; fails the test on any other throw. */
function outcome(advert: BleAdvert, opts: DecodeOptions = {}): string {
  try {
    decodeAdvert(advert, opts)
    return 'ok'
  } catch (err) {
    if (!(err instanceof DecodeError)) throw new Error(`non-DecodeError thrown: ${String(err)}`, { cause: err })
    expect(KNOWN_REASONS).toContain(err.reason)
    return err.reason
  }
}

const prefixes = (b: Buffer) => Array.from({ length: b.length }, (_, n) => b.subarray(0, n))

describe('truncated adverts: every prefix of every valid vector decodes or throws DecodeError', () => {
  const cases = validAdverts()
  it('has vectors for each family', () => {
    expect(cases.length).toBeGreaterThan(150)
  })
  it.each(cases.map((c) => [c.name, c]))('%s', (_n, c) => {
    expect(outcome(c.advert, c.opts)).toBe('ok')
    for (const [i, s] of c.advert.serviceData.entries()) {
      for (const p of prefixes(s.data)) {
        const serviceData = c.advert.serviceData.map((x, j) => (j === i ? { ...x, data: p } : x))
        outcome({ ...c.advert, serviceData }, c.opts)
      }
    }
    for (const p of c.advert.manufacturerData ? prefixes(c.advert.manufacturerData) : []) {
      outcome({ ...c.advert, manufacturerData: p }, c.opts)
    }
  })
})

describe('BTHome bad input', () => {
  it('unknown object id throws unknown_object_id by default and can stop instead', () => {
    const a = svcAdvert('fcd2', '4002ca09ee0102')
    expect(outcome(a)).toBe('unknown_object_id')
    const d = decodeAdvert(a, { unknownObjectId: 'stop' })
    expect(d).toMatchObject({ format: 'bthome', measurements: { temperature: 25.06 } })
  })
  it('wrong bindkey is bad_mic; wrong-length bindkey is bad_bindkey; none is missing_bindkey', () => {
    const mac = '54:48:e6:8f:80:a5'
    const a = svcAdvert('fcd2', '41e445f3c9962b332211006c7c4519', mac)
    expect(outcome(a, { bindkeys: keys(mac, '231d39c1d7cc1ab1aee224cd096db932') })).toBe('ok')
    expect(outcome(a, { bindkeys: keys(mac, '231d39c1d7cc1ab1aee224cd096db933') })).toBe('bad_mic')
    expect(outcome(a, { bindkeys: keys(mac, '231d39c1d7cc1ab1') })).toBe('bad_bindkey')
    expect(outcome(a)).toBe('missing_bindkey')
    // Same bytes from another MAC: the nonce differs, so authentication fails too.
    const other = svcAdvert('fcd2', '41e445f3c9962b332211006c7c4519', '54:48:e6:8f:80:a6')
    expect(outcome(other, { bindkeys: keys('54:48:e6:8f:80:a6', '231d39c1d7cc1ab1aee224cd096db932') })).toBe('bad_mic')
  })
  it('every single-bit flip of an encrypted advert is rejected', () => {
    const mac = '54:48:e6:8f:80:a5'
    const good = Buffer.from('41e445f3c9962b332211006c7c4519', 'hex')
    for (let bit = 8; bit < good.length * 8; bit++) {
      const bad = Buffer.from(good)
      bad[bit >> 3] ^= 1 << (bit & 7)
      expect(outcome(svcAdvert('fcd2', bad.toString('hex'), mac), { bindkeys: keys(mac, '231d39c1d7cc1ab1aee224cd096db932') })).not.toBe('ok')
    }
  })
  it('replayed packet ids are duplicates; a new id is not', () => {
    const dedup = new PacketIdDedup({ maxDevices: 2 })
    const seq = ['4000090164', '4000090164', '40000a0163', '40000a0163', '4000090164']
    const got = seq.map((h) => {
      const d = decodeAdvert(svcAdvert('fcd2', h))
      return d?.format === 'bthome' && dedup.isDuplicate('A4:C1:38:8D:18:B2', d.packetId as number)
    })
    expect(got).toEqual([false, true, false, true, false])
  })
})

describe('size guard', () => {
  const big = (n: number) => svcAdvert('fcd2', `40${'01'.repeat(n - 1)}`.slice(0, n * 2))
  it(`rejects service data over ${LEGACY_ADV_MAX_BYTES} bytes (legacy) as oversize`, () => {
    expect(outcome(big(LEGACY_ADV_MAX_BYTES))).toBe('ok')
    expect(outcome(big(LEGACY_ADV_MAX_BYTES + 1))).toBe('oversize')
  })
  it(`allows up to ${EXTENDED_ADV_MAX_BYTES} bytes for extended adverts`, () => {
    expect(outcome({ ...big(EXTENDED_ADV_MAX_BYTES), extended: true })).toBe('ok')
    expect(outcome({ ...big(EXTENDED_ADV_MAX_BYTES + 1), extended: true })).toBe('oversize')
  })
  it('checks manufacturer data and non-family service data too', () => {
    expect(outcome({ address: 'aa:bb:cc:dd:ee:ff', timeMs: 0, serviceData: [], manufacturerData: Buffer.alloc(40) })).toBe('oversize')
    expect(outcome(svcAdvert('fe95', '00'.repeat(32)))).toBe('oversize')
  })
})
