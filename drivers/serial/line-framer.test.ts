import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { LineFramer, type LineEvent } from './line-framer.js'

const enc = (s: string): Buffer => Buffer.from(s, 'utf8')
const lines = (events: LineEvent[]): string[] => events.flatMap((e) => (e.ok ? [e.line] : []))
const rejects = (events: LineEvent[]): string[] => events.flatMap((e) => (e.ok ? [] : [e.reason]))

describe('LineFramer', () => {
  it('emits complete lines, strips \\r, skips empty lines', () => {
    const f = new LineFramer({ maxLineBytes: 64 })
    expect(lines(f.push(enc('a=1\r\nb=2\n\r\n\nc')))).toEqual(['a=1', 'b=2'])
    expect(f.bufferedBytes).toBe(1)
    expect(lines(f.push(enc('=3\n')))).toEqual(['c=3'])
  })

  it('joins half lines across reads, including a \\r\\n split between reads', () => {
    const f = new LineFramer({ maxLineBytes: 64 })
    expect(f.push(enc('{"temp":'))).toEqual([])
    expect(f.push(enc('21.5}\r'))).toEqual([])
    expect(lines(f.push(enc('\n')))).toEqual(['{"temp":21.5}'])
  })

  it('joins a multi-byte UTF-8 character split between reads', () => {
    const f = new LineFramer({ maxLineBytes: 64 })
    const bytes = enc('name=Größe\n')
    expect(f.push(bytes.subarray(0, 8))).toEqual([])
    expect(lines(f.push(bytes.subarray(8)))).toEqual(['name=Größe'])
  })

  it('rejects an over-long line once, discards it up to the next newline, and goes on', () => {
    const f = new LineFramer({ maxLineBytes: 8 })
    const events = [...f.push(enc('0123456789abc')), ...f.push(enc('def\nok=1\n'))]
    expect(rejects(events)).toEqual(['line_too_long'])
    expect(lines(events)).toEqual(['ok=1'])
  })

  it('accepts a line of exactly maxLineBytes, with or without \\r', () => {
    const f = new LineFramer({ maxLineBytes: 4 })
    expect(lines(f.push(enc('abcd\nefgh\r\n')))).toEqual(['abcd', 'efgh'])
    expect(rejects(f.push(enc('abcde\n')))).toEqual(['line_too_long'])
  })

  it('never buffers more than maxLineBytes + 1 for a line that never ends', () => {
    const f = new LineFramer({ maxLineBytes: 100 })
    let events: LineEvent[] = []
    for (let i = 0; i < 1000; i++) {
      events = events.concat(f.push(Buffer.alloc(1024, 0x41)))
      expect(f.bufferedBytes).toBeLessThanOrEqual(101)
    }
    expect(rejects(events)).toEqual(['line_too_long'])
  })

  it('counts NUL bytes and invalid UTF-8 per line, keeping the good lines around them', () => {
    const f = new LineFramer({ maxLineBytes: 64 })
    const events = f.push(Buffer.concat([enc('a=1\n'), Buffer.from([0x61, 0x00, 0x62, 0x0a]), Buffer.from([0xc3, 0x28, 0x0a]), enc('b=2\n')]))
    expect(lines(events)).toEqual(['a=1', 'b=2'])
    expect(rejects(events)).toEqual(['nul_byte', 'invalid_utf8'])
  })

  it('reset() drops the partial line and reports its size', () => {
    const f = new LineFramer({ maxLineBytes: 64 })
    f.push(enc('half'))
    expect(f.reset()).toBe(4)
    expect(lines(f.push(enc('line\n')))).toEqual(['line'])
    expect(f.reset()).toBe(0)
  })

  it('validates options with a TypeError naming the field', () => {
    expect(() => new LineFramer({ maxLineBytes: 0 })).toThrow(TypeError)
    expect(() => new LineFramer({ maxLineBytes: 1.5 })).toThrow(/"maxLineBytes"/)
    expect(() => new LineFramer({ maxLineBytes: Number.NaN })).toThrow(/"maxLineBytes"/)
    expect(() => new LineFramer(undefined as never)).toThrow(/"options"/)
  })
})

describe('LineFramer properties', () => {
  // Printable lines without "\n", "\r" or NUL, non-empty: what a sensor prints.
  const validLine = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 })
    .filter((s) => !/[\n\r\0]/.test(s) && Buffer.byteLength(s) <= 200)

  it('any chunking of valid lines yields the same lines in order', () => {
    fc.assert(
      fc.property(fc.array(validLine, { maxLength: 30 }), fc.array(fc.integer({ min: 1, max: 50 }), { minLength: 1 }), (input, cuts) => {
        const bytes = enc(input.map((l, i) => (i % 2 ? `${l}\r\n` : `${l}\n`)).join(''))
        const f = new LineFramer({ maxLineBytes: 256 })
        const out: LineEvent[] = []
        let pos = 0
        for (let i = 0; pos < bytes.length; i++) {
          const n = cuts[i % cuts.length]!
          out.push(...f.push(bytes.subarray(pos, pos + n)))
          pos += n
        }
        expect(rejects(out)).toEqual([])
        expect(lines(out)).toEqual(input)
      }),
    )
  })

  it('arbitrary bytes never throw and never grow the buffer past the bound', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 64 }), fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 20 }), (max, chunks) => {
        const f = new LineFramer({ maxLineBytes: max })
        for (const c of chunks) {
          for (const e of f.push(c)) {
            if (e.ok) {
              expect(Buffer.byteLength(e.line)).toBeLessThanOrEqual(max)
              expect(e.line).not.toMatch(/[\n\0]/)
            }
          }
          expect(f.bufferedBytes).toBeLessThanOrEqual(max + 1)
        }
      }),
    )
  })
})
