import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { DecodeError } from '../../gateway/core/errors.js'
import { createCsvDecoder } from './formats/csv.js'
import type { LineContext, LineDecoder } from './formats/fields.js'
import { decodeJsonlLine } from './formats/jsonl.js'
import { decodeKvLine } from './formats/kv.js'
import { lineDecoderFor } from './formats/select.js'

const ctx: LineContext = { deviceId: 'port-1', kind: 'environment', priority: 'telemetry', timeMs: 1_700_000_000_000 }

function reasonOf(fn: () => unknown): string {
  try {
    fn()
  } catch (err) {
    expect(err).toBeInstanceOf(DecodeError)
    return (err as DecodeError).reason
  }
  throw new Error('expected a DecodeError')
}

describe('jsonl', () => {
  it('decodes a flat object into one reading', () => {
    expect(decodeJsonlLine('{"temp":21.5,"hum":40,"door":"open","ok":true}', ctx)).toEqual([
      { deviceId: 'port-1', kind: 'environment', priority: 'telemetry', timeMs: ctx.timeMs, data: { temp: 21.5, hum: 40, door: 'open', ok: true } },
    ])
  })

  it('takes device/deviceId and ts/time as metadata', () => {
    const [r] = decodeJsonlLine('{"device":"probe-2","ts":1718000000000,"temp":1}', ctx)
    expect(r).toMatchObject({ deviceId: 'probe-2', timeMs: 1718000000000, data: { temp: 1 } })
    expect(decodeJsonlLine('{"deviceId":"x:1","time":1718000000,"t":1}', ctx)[0]).toMatchObject({ deviceId: 'x:1', timeMs: 1718000000000 })
    expect(decodeJsonlLine('{"time":"2024-06-10T06:13:20.5Z","t":1}', ctx)[0]!.timeMs).toBe(Date.parse('2024-06-10T06:13:20.5Z'))
  })

  it('rejects what it cannot store unambiguously, by reason', () => {
    expect(reasonOf(() => decodeJsonlLine('{"temp":', ctx))).toBe('bad_json')
    expect(reasonOf(() => decodeJsonlLine('[1,2]', ctx))).toBe('not_object')
    expect(reasonOf(() => decodeJsonlLine('null', ctx))).toBe('not_object')
    expect(reasonOf(() => decodeJsonlLine('{"a":{"b":1}}', ctx))).toBe('bad_value')
    expect(reasonOf(() => decodeJsonlLine('{"a":null}', ctx))).toBe('bad_value')
    expect(reasonOf(() => decodeJsonlLine('{}', ctx))).toBe('empty_reading')
    expect(reasonOf(() => decodeJsonlLine('{"device":"a b","t":1}', ctx))).toBe('bad_device_id')
    expect(reasonOf(() => decodeJsonlLine('{"ts":"yesterday","t":1}', ctx))).toBe('bad_timestamp')
    // Without a zone the gateway's TZ would shift the time.
    expect(reasonOf(() => decodeJsonlLine('{"ts":"2024-06-10T06:13:20","t":1}', ctx))).toBe('bad_timestamp')
    expect(reasonOf(() => decodeJsonlLine('{"bad key":1}', ctx))).toBe('bad_field_name')
  })

  it('keeps __proto__ keys out of prototypes', () => {
    expect(reasonOf(() => decodeJsonlLine('{"__proto__":{"x":1}}', ctx))).toBe('bad_value')
    const [r] = decodeJsonlLine('{"constructor":1}', ctx)
    expect(Object.getPrototypeOf(r!.data)).toBe(Object.prototype)
    expect((r!.data as Record<string, unknown>).constructor).toBe(1)
  })
})

describe('kv', () => {
  it('parses numbers where numeric and keeps other values as strings', () => {
    expect(decodeKvLine('temp=21.5 hum=40  door=open,rssi=-70 fw=1.2.3 hex=0x10', ctx)[0]!.data).toEqual({
      temp: 21.5, hum: 40, door: 'open', rssi: -70, fw: '1.2.3', hex: '0x10',
    })
    expect(decodeKvLine('device=node-7 ts=1718000000000 t=1', ctx)[0]).toMatchObject({ deviceId: 'node-7', timeMs: 1718000000000 })
  })

  it('rejects malformed tokens and repeated keys', () => {
    expect(reasonOf(() => decodeKvLine('temp=21.5 garbage', ctx))).toBe('bad_kv')
    expect(reasonOf(() => decodeKvLine('=1', ctx))).toBe('bad_kv')
    expect(reasonOf(() => decodeKvLine('a=', ctx))).toBe('bad_kv')
    expect(reasonOf(() => decodeKvLine('a=1 a=2', ctx))).toBe('bad_kv')
    expect(reasonOf(() => decodeKvLine('   ', ctx))).toBe('empty_reading')
  })
})

describe('csv', () => {
  const decode = createCsvDecoder({ columns: ['device', 'temp', 'hum', 'state'] })

  it('maps fields to the configured columns, leaves empty ones out, skips the header', () => {
    expect(decode('s1,21.5,40,ok', ctx)[0]).toMatchObject({ deviceId: 's1', data: { temp: 21.5, hum: 40, state: 'ok' } })
    expect(decode('s1, 21.5 ,,ok', ctx)[0]!.data).toEqual({ temp: 21.5, state: 'ok' })
    expect(decode('device,temp,hum,state', ctx)).toEqual([])
  })

  it('rejects a field count mismatch as bad_csv', () => {
    expect(reasonOf(() => decode('s1,21.5,40', ctx))).toBe('bad_csv')
    expect(reasonOf(() => decode('s1,21.5,40,ok,extra', ctx))).toBe('bad_csv')
  })

  it('honours another delimiter and validates options', () => {
    const semi = createCsvDecoder({ columns: ['a', 'b'], delimiter: ';' })
    expect(semi('1;x', ctx)[0]!.data).toEqual({ a: 1, b: 'x' })
    expect(() => createCsvDecoder({ columns: [] })).toThrow(/"columns"/)
    expect(() => createCsvDecoder({ columns: ['a'], delimiter: '::' })).toThrow(/"delimiter"/)
  })
})

describe('format fuzz: arbitrary lines throw nothing but DecodeError', () => {
  const decoders: Array<[string, LineDecoder]> = [
    ['jsonl', lineDecoderFor('jsonl')],
    ['kv', lineDecoderFor('kv')],
    ['csv', lineDecoderFor('csv', { columns: ['a', 'b', 'c'] })],
    ['nmea', lineDecoderFor('nmea')],
  ]
  // Mix of raw strings and near-valid shapes, so the fuzz reaches past the first check.
  const line = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 200 }),
    fc.json({ maxDepth: 2 }),
    fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 1 })).map((o) => JSON.stringify(o)),
    fc.array(fc.tuple(fc.string({ maxLength: 6 }), fc.string({ maxLength: 6 })), { maxLength: 6 }).map((kv) => kv.map(([k, v]) => `${k}=${v}`).join(' ')),
    fc.array(fc.string({ maxLength: 6 }), { maxLength: 5 }).map((cells) => cells.join(',')),
  )

  for (const [name, decode] of decoders) {
    it(name, () => {
      fc.assert(
        fc.property(line, (text) => {
          try {
            const readings = decode(text, ctx)
            for (const r of readings) expect(() => JSON.stringify(r)).not.toThrow()
          } catch (err) {
            if (!(err instanceof DecodeError)) throw err
          }
        }),
        { numRuns: 500 },
      )
    })
  }
})
