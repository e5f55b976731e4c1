/**
 * Serial ingest throughput: JSON lines written as fast as a socat PTY takes them, read by a real
 * SerialSource (framer + jsonl decoder) into a sink that accepts at once. Prints nothing.
 *
 * `cpuPct` is this process's CPU time over wall time (100 = one core) and INCLUDES the simulated
 * writer, which runs in the same process; socat's own CPU is not counted. Needs socat.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { serialSourceSchema } from '../drivers/serial/config.js'
import { SerialSource } from '../drivers/serial/serial-source.js'
import { SerialSensorSim } from '../firmware-sim/serial-sensor.js'
import { sleep } from '../gateway/core/abort.js'
import { RecordingCounters, silentLogger } from '../gateway/core/observability.js'
import type { IngestReceipt, ReadingSink } from '../gateway/core/types.js'
import { openPtyPair, pollUntil } from '../test/support/pty-pair.js'

const ACCEPTED: IngestReceipt = { durable: Promise.resolve({ accepted: 0, dropped: 0, lost: 0, invalid: 0 }) }

/**
 * Runs for `seconds` after a short warm-up.
 * @throws Error when socat is missing or the source does not open the PTY within 10 s.
 */
export async function benchSerialLines(seconds: number): Promise<{ linesPerSec: number; cpuPct: number }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'edge-serial-bench-'))
  const pty = await openPtyPair(dir)
  const config = serialSourceSchema.parse({ type: 'serial', id: 'bench', path: pty.b, baudRate: 115200, format: 'jsonl' })
  const source = new SerialSource(config, { log: silentLogger, counters: new RecordingCounters() })
  const sink: ReadingSink = { push: async () => ACCEPTED }
  const ac = new AbortController()
  const running = source.run(sink, ac.signal)
  // 200 lines (~9 KB) per write keeps the writer's per-call overhead out of the way of the reader.
  const sim = new SerialSensorSim({ pty, format: 'jsonl', intervalMs: 0, linesPerWrite: 200 })
  try {
    await pollUntil(() => source.health().state === 'running', 'serial source running')
    await sim.start()
    await sleep(300) // warm-up: JIT, buffers full
    const lines0 = source.stats().linesAccepted
    const cpu0 = process.cpuUsage()
    const t0 = performance.now()
    await sleep(seconds * 1000)
    const wallMs = performance.now() - t0
    const cpu = process.cpuUsage(cpu0)
    const lines = source.stats().linesAccepted - lines0
    return { linesPerSec: Math.round(lines / (wallMs / 1000)), cpuPct: Math.round(((cpu.user + cpu.system) / 1000 / wallMs) * 1000) / 10 }
  } finally {
    ac.abort()
    await sim.stop()
    await running
    await pty.kill()
    await rm(dir, { recursive: true, force: true })
  }
}
