/**
 * Backpressure through a REAL PTY: a sink that never takes anything must pause the port, so the
 * source stops reading while the device keeps writing (the bytes wait in the OS/socat buffers and
 * then block the writer, as a UART with RTS/CTS would), and the source's memory stays bounded.
 */
import { describe, expect, it } from 'vitest'
import { socatGate } from './serial-socat-gate.js'
import { pollUntil } from './support/pty-pair.js'
import { StuckSink, startSerialRig } from './support/serial-harness.js'

const hasSocat = socatGate()

describe.skipIf(!hasSocat)('serial source through a PTY: backpressure', () => {
  it('pauses the port when the sink does not take readings; bytes read stop growing', async () => {
    const sink = new StuckSink()
    const rig = await startSerialRig({ format: 'jsonl', sink, sim: { intervalMs: 0, linesPerWrite: 20 } })
    const { sim, source } = rig
    try {
      await sink.blocked
      await pollUntil(() => source.stats().paused, 'port paused')
      const readAtPause = source.stats().bytesRead
      // Driver queue (16 KiB) + one read + the chunk being pushed: nothing near what was written.
      expect(readAtPause).toBeLessThanOrEqual(16 * 1024 + 2 * 4096)
      // The writer keeps going into the OS buffers for a while...
      await pollUntil(() => sim.bytesWritten >= readAtPause + 8 * 1024, 'the writer to get 8 KiB ahead')
      // ...and none of it was read.
      expect(source.stats().bytesRead).toBe(readAtPause)
      expect(source.stats().paused).toBe(true)
      expect(sink.pushes).toBe(1)
      expect(source.health().state).toBe('running')
    } finally {
      await rig.stop()
    }
  })
})
