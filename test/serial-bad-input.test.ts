/**
 * Bad input through a REAL PTY (socat): the source keeps running, counts each bad line by reason,
 * and the valid lines around the garbage still arrive, in order.
 */
import { describe, expect, it } from 'vitest'
import { socatGate } from './serial-socat-gate.js'
import { nmeaChecksum } from '../drivers/decoders/nmea.js'
import { pollUntil } from './support/pty-pair.js'
import { RecordingSink, startSerialRig } from './support/serial-harness.js'

const hasSocat = socatGate()

/** Deterministic pseudo-random bytes (xorshift), so a failure can be replayed. */
function randomBytes(n: number, seed: number): Buffer {
  const out = Buffer.alloc(n)
  let x = seed >>> 0 || 1
  for (let i = 0; i < n; i++) {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0
    out[i] = x & 0xff
  }
  return out
}

const seqs = (sink: RecordingSink): number[] => sink.readings.map((r) => (r.data as { seq: number }).seq)

describe.skipIf(!hasSocat)('serial source through a PTY: bad input', () => {
  it('jsonl: long line, NUL bytes, half lines, random bytes — counted, and valid lines still flow', async () => {
    const sink = new RecordingSink()
    const rig = await startSerialRig({ format: 'jsonl', sink, sim: { autoWrite: false } })
    const { sim, source, counters } = rig
    try {
      await sim.writeLines(1) // seq 0
      // 1 MiB without a newline: discarded as it streams in, never buffered.
      await sim.writeRaw(Buffer.alloc(1024 * 1024, 0x7b))
      expect(source.stats().bufferedLineBytes).toBeLessThanOrEqual(4097)
      await sim.writeRaw('\n')
      await sim.writeLines(1) // seq 1
      await sim.writeRaw(Buffer.from('{"temp":1,\u0000"x":2}\n', 'latin1'))
      await sim.writeRaw(Buffer.from([0x7b, 0xc3, 0x28, 0x7d, 0x0a])) // invalid UTF-8
      // A half line, read on its own before the rest arrives.
      const half = '{"seq":100,"temp":5}\r\n'
      const before = source.stats().bytesRead
      await sim.writeRaw(half.slice(0, 9))
      await pollUntil(() => source.stats().bytesRead >= before + 9, 'the first half to be read')
      await sim.writeRaw(half.slice(9))
      await sim.writeLines(1) // seq 2
      await sink.waitFor(() => sink.readings.length >= 4, 'valid lines around the garbage')
      expect(counters.get('pty', 'line_too_long')).toBe(1)
      expect(counters.get('pty', 'nul_byte')).toBe(1)
      expect(counters.get('pty', 'invalid_utf8')).toBe(1)
      expect(counters.get('pty', 'truncated_line')).toBe(0)

      const rejectedBefore = source.stats().linesRejected
      await sim.writeRaw(randomBytes(64 * 1024, 0x5eed))
      await sim.writeRaw('\n')
      await sim.writeLines(1)
      await sink.waitFor(() => sink.readings.length >= 5, 'a valid line after random bytes')
      expect(source.stats().linesRejected).toBeGreaterThan(rejectedBefore)
      expect(source.health().state).toBe('running')
      expect(seqs(sink)).toEqual([0, 1, 100, 2, 3])
    } finally {
      await rig.stop()
    }
  })

  it('nmea: bad and missing checksums are counted; valid sentences become gnss readings', async () => {
    const sink = new RecordingSink()
    const rig = await startSerialRig({ format: 'nmea', sink, sim: { autoWrite: false } })
    const { sim, counters } = rig
    try {
      await sim.writeLines(2) // GGA + RMC: 1 + 2 readings
      const gga = sim.line(2).trim()
      // One flipped digit, checksum untouched: exactly what line noise does.
      await sim.writeRaw(`${gga.replace('4807', '4817')}\r\n`)
      await sim.writeRaw(`${gga.slice(0, gga.indexOf('*'))}\r\n`) // no checksum at all
      const body = 'GPGGA,120000.00,4807.0380,N,01131.0000,E,1,08,0.9,545.4,M,46.9,M,,'
      await sim.writeRaw(`$${body}*${nmeaChecksum(body)}\r\n`) // valid, written by hand
      await sim.writeLines(2)
      await sink.waitFor(() => sink.readings.length >= 7, 'gnss readings around the bad sentences')
      expect(counters.get('pty', 'bad_checksum')).toBe(2)
      expect(sink.readings.map((r) => r.kind)).toEqual(['gnss.fix', 'gnss.fix', 'gnss.course', 'gnss.fix', 'gnss.fix', 'gnss.fix', 'gnss.course'])
    } finally {
      await rig.stop()
    }
  })
})
