/**
 * Property-based fuzzing (fast-check). For arbitrary bytes every decoder returns a value or
 * undefined, or throws a DecodeError with a known reason; nothing else. "Never hangs" holds
 * structurally (every parse loop advances by at least one byte of a bounded buffer) and is exercised
 * here: thousands of runs finish within the suite's timeout.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { DecodeError } from '../../gateway/core/errors.js'
import { advertFromRaw, parseAdvertisingData } from './ad-structures.js'
import { decodeAdvert, type BleAdvert, type DecodeOptions } from './advert.js'
import { decodeBthome, decodeBthomeServiceData } from './bthome.js'
import { encryptBthomePayload } from './bthome-crypto.js'
import { BTHOME_OBJECTS } from './bthome-objects.js'
import { decodeBleCommand } from './cli-decode.js'
import { decodeEddystone } from './eddystone.js'
import { decodeIbeacon } from './ibeacon.js'
import { advertToReadings } from './readings.js'
import { decodeRuuvi } from './ruuvi.js'
import { KNOWN_REASONS } from './testing/valid-adverts.js'
import { decodeXiaomiAtc } from './xiaomi-atc.js'

const RUNS = { numRuns: 3000 }
const MAC = 'a4:c1:38:8d:18:b2'

/** Runs `fn`; a throw must be a DecodeError with a known reason. */
function contract<T>(fn: () => T): T | undefined {
  try {
    return fn()
  } catch (err) {
    if (!(err instanceof DecodeError)) throw err
    if (!KNOWN_REASONS.has(err.reason)) throw new Error(`unknown reason ${err.reason}`)
    return undefined
  }
}

const bytes = (maxLength: number) => fc.uint8Array({ maxLength }).map((u) => Buffer.from(u))
const uuid = fc.oneof(fc.constantFrom('fcd2', 'feaa', '181a', '0000fcd2-0000-1000-8000-00805f9b34fb'), fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: 4, maxLength: 4 }))
const company = fc.oneof(fc.constantFrom(0x0499, 0x004c), fc.integer({ min: 0, max: 0xffff }))
const manufacturer = fc.tuple(company, bytes(40)).map(([id, rest]) => {
  const head = Buffer.alloc(2)
  head.writeUInt16LE(id, 0)
  return Buffer.concat([head, rest])
})
const opts: fc.Arbitrary<DecodeOptions> = fc.record({
  bindkeys: fc.option(fc.uint8Array({ minLength: 0, maxLength: 20 }).map((k) => new Map([[MAC, Buffer.from(k)]])), { nil: undefined }),
  unknownObjectId: fc.constantFrom<'throw' | 'stop' | undefined>('throw', 'stop', undefined),
})
const advert: fc.Arbitrary<BleAdvert> = fc.record({
  address: fc.constantFrom(MAC, 'not-a-mac', ''),
  serviceData: fc.array(fc.record({ uuid, data: bytes(64) }), { maxLength: 3 }),
  manufacturerData: fc.option(manufacturer, { nil: undefined }),
  serviceUuids: fc.option(fc.array(uuid, { maxLength: 2 }), { nil: undefined }),
  extended: fc.boolean(),
  rssi: fc.option(fc.integer({ min: -120, max: 0 }), { nil: undefined }),
  timeMs: fc.nat(),
})

describe('fuzz: arbitrary input never throws anything but DecodeError', () => {
  it('decodeAdvert + advertToReadings', () => {
    fc.assert(
      fc.property(advert, opts, (a, o) => {
        const d = contract(() => decodeAdvert(a, o))
        if (d === undefined) return
        const readings = contract(() => advertToReadings(a, d))
        for (const r of readings ?? []) {
          expect(r.deviceId).toMatch(/^[0-9a-f]{12}$/)
          expect(r.kind).toMatch(/^[a-z0-9_]+(\.[a-z0-9_]+)*$/)
          expect(JSON.parse(JSON.stringify(r.data))).toEqual(r.data)
        }
      }),
      RUNS,
    )
  })

  it('each family decoder on its own signature with arbitrary bodies (no size guard)', () => {
    const svc = (u: string, data: Buffer): BleAdvert => ({ address: MAC, timeMs: 0, serviceData: [{ uuid: u, data }] })
    const mfg = (id: number, data: Buffer): BleAdvert => ({ address: MAC, timeMs: 0, serviceData: [], manufacturerData: Buffer.concat([Buffer.from([id & 0xff, id >> 8]), data]) })
    fc.assert(
      fc.property(bytes(300), opts, (b, o) => {
        contract(() => decodeBthome(svc('fcd2', b), o))
        contract(() => decodeBthome(svc('fcd2', Buffer.concat([Buffer.from([0x40 | (b[0] ?? 0) & 0x07]), b])), o))
        contract(() => decodeEddystone(svc('feaa', b)))
        contract(() => decodeXiaomiAtc(svc('181a', b), o))
        contract(() => decodeRuuvi(mfg(0x0499, b)))
        contract(() => decodeIbeacon(mfg(0x004c, Buffer.concat([Buffer.from([0x02, 0x15]), b]))))
      }),
      RUNS,
    )
  })

  it('pvvx encrypted layouts with a right-sized key', () => {
    fc.assert(
      fc.property(fc.constantFrom(8, 11), bytes(11), fc.uint8Array({ minLength: 16, maxLength: 16 }), (len, b, key) => {
        const data = Buffer.concat([b, Buffer.alloc(11)]).subarray(0, len)
        const a: BleAdvert = { address: MAC, timeMs: 0, serviceData: [{ uuid: '181a', data }] }
        contract(() => decodeXiaomiAtc(a, { bindkeys: new Map([[MAC, Buffer.from(key)]]) }))
      }),
      RUNS,
    )
  })

  it('raw advertising data parser never throws', () => {
    fc.assert(
      fc.property(bytes(80), (raw) => {
        const parsed = parseAdvertisingData(raw)
        expect(parsed.serviceData.length).toBeLessThanOrEqual(raw.length)
        contract(() => decodeAdvert(advertFromRaw(raw, { address: MAC, timeMs: 0 })))
      }),
      RUNS,
    )
  })

  it('CLI helper never throws on arbitrary strings', () => {
    const s = fc.string({ maxLength: 40 })
    fc.assert(
      fc.property(fc.array(s, { maxLength: 2 }), fc.option(s, { nil: undefined }), fc.option(s, { nil: undefined }), fc.option(s, { nil: undefined }), (sd, mfgHex, mac, key) => {
        const r = decodeBleCommand({ serviceData: sd, manufacturerData: mfgHex, mac, bindkey: key })
        expect(typeof r.ok).toBe('boolean')
      }),
      { numRuns: 1000 },
    )
  })
})

/** Well-formed BTHome object streams: known ids with arbitrary values of the right size. */
const fixedIds = [...BTHOME_OBJECTS.entries()].filter(([, d]) => d.kind === 'number' || d.kind === 'binary' || 'bytes' in d && d.bytes !== undefined)
const objectStream = fc
  .array(
    fc.constantFrom(...fixedIds).chain(([id, def]) => {
      const len = def.kind === 'binary' ? 1 : (def as { bytes: number }).bytes
      return fc.uint8Array({ minLength: len, maxLength: len }).map((v) => Buffer.concat([Buffer.from([id]), Buffer.from(v)]))
    }),
    { maxLength: 8 },
  )
  .map((parts) => Buffer.concat(parts))

describe('fuzz: well-formed BTHome', () => {
  it('any stream of known fixed-size objects decodes without error', () => {
    fc.assert(
      fc.property(objectStream, (p) => {
        const d = decodeBthomeServiceData(Buffer.concat([Buffer.from([0x40]), p]), MAC)
        for (const o of d.objects) if (typeof o.value === 'number') expect(Number.isFinite(o.value)).toBe(true)
      }),
      RUNS,
    )
  })

  it('encrypting then decrypting gives the plaintext decode; any other key is bad_mic', () => {
    const key16 = fc.uint8Array({ minLength: 16, maxLength: 16 }).map((k) => Buffer.from(k))
    const mac6 = fc.uint8Array({ minLength: 6, maxLength: 6 }).map((m) => Buffer.from(m))
    fc.assert(
      fc.property(objectStream, key16, key16, mac6, fc.nat({ max: 0xffffffff }), fc.boolean(), (p, key, other, mac, counter, macInPayload) => {
        const address = [...mac].map((x) => x.toString(16).padStart(2, '0')).join(':')
        const sd = encryptBthomePayload(p, mac, key, counter, macInPayload ? 0x43 : 0x41)
        const plain = decodeBthomeServiceData(Buffer.concat([Buffer.from([0x40]), p]), address)
        const d = decodeBthomeServiceData(sd, address, { bindkeys: new Map([[address, key]]) })
        expect(d.encryptionCounter).toBe(counter)
        expect(d.measurements).toEqual(plain.measurements)
        expect(d.events).toEqual(plain.events)
        if (!other.equals(key)) {
          expect(() => decodeBthomeServiceData(sd, address, { bindkeys: new Map([[address, other]]) })).toThrow(
            expect.objectContaining({ reason: 'bad_mic' }),
          )
        }
      }),
      { numRuns: 500 },
    )
  })
})
