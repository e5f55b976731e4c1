import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { MqttFrameScanner } from './packet-size-guard.js'

/** An MQTT packet: type byte, Remaining Length varint, body. */
function packet(bodyLength: number, type = 0x32): Buffer {
  const len: number[] = []
  let x = bodyLength
  do {
    let byte = x % 128
    x = Math.floor(x / 128)
    if (x > 0) byte |= 0x80
    len.push(byte)
  } while (x > 0)
  return Buffer.concat([Buffer.from([type, ...len]), Buffer.alloc(bodyLength, 0x61)])
}

function chunks(buf: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (buf.length + 1)))].sort((a, b) => a - b)
  const out: Buffer[] = []
  let prev = 0
  for (const p of [...points, buf.length]) {
    out.push(buf.subarray(prev, p))
    prev = p
  }
  return out
}

describe('MqttFrameScanner', () => {
  it('passes packets up to the limit and stops one that announces more', () => {
    const s = new MqttFrameScanner(200)
    expect(s.feed(Buffer.concat([packet(0, 0xc0), packet(200), packet(5)]))).toEqual({ ok: true })
    expect(s.feed(packet(201).subarray(0, 3))).toEqual({ ok: false, reason: 'oversize', packetBytes: 201 })
  })

  it('decides from the header alone (the body never needs to arrive)', () => {
    const s = new MqttFrameScanner(1024)
    expect(s.feed(packet(10_000_000).subarray(0, 5))).toMatchObject({ ok: false, packetBytes: 10_000_000 })
  })

  it('flags a Remaining Length longer than 4 bytes as malformed', () => {
    expect(new MqttFrameScanner(1e9).feed(Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01]))).toEqual({ ok: false, reason: 'malformed' })
  })

  it('finds the same verdict however the stream is chunked (property)', () => {
    const arb = fc.record({
      sizes: fc.array(fc.oneof(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 16_000, max: 20_000 })), { minLength: 1, maxLength: 8 }),
      cuts: fc.array(fc.nat(), { maxLength: 12 }),
      limit: fc.integer({ min: 0, max: 18_000 }),
    })
    fc.assert(
      fc.property(arb, ({ sizes, cuts, limit }) => {
        const stream = Buffer.concat(sizes.map((n) => packet(n)))
        const s = new MqttFrameScanner(limit)
        let verdict: ReturnType<MqttFrameScanner['feed']> = { ok: true }
        for (const c of chunks(stream, cuts)) {
          verdict = s.feed(c)
          if (!verdict.ok) break
        }
        const firstTooBig = sizes.find((n) => n > limit)
        expect(verdict).toEqual(firstTooBig === undefined ? { ok: true } : { ok: false, reason: 'oversize', packetBytes: firstTooBig })
      }),
    )
  })
})
