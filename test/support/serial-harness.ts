/**
 * Test doubles for the serial source tests: a ReadingSink that records and lets a test await a
 * condition (event-driven: checked on every push), a sink that never takes anything (backpressure),
 * the Logger that keeps its lines (recording-logger.ts, re-exported), and a rig wiring a real socat
 * PTY pair, the simulated sensor and a SerialSource together. No vitest imports.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { serialSourceSchema, type SerialSourceConfigInput } from '../../drivers/serial/config.js'
import { SerialSource } from '../../drivers/serial/serial-source.js'
import { SerialSensorSim, type SerialSensorSimOptions } from '../../firmware-sim/serial-sensor.js'
import type { IngestReceipt, Reading, ReadingSink } from '../../gateway/core/types.js'
import { RecordingCounters } from '../../gateway/core/observability.js'
import { openPtyPair, pollUntil, type PtyPair } from './pty-pair.js'
import { RecordingLogger } from './recording-logger.js'

export { RecordingLogger, type LogLine } from './recording-logger.js'

interface Waiter { check: () => boolean; resolve: () => void }

/** Records every push; `waitFor` resolves when its predicate holds after some push. */
export class RecordingSink implements ReadingSink {
  readonly readings: Reading[] = []
  pushes = 0
  private waiters: Waiter[] = []

  async push(_sourceId: string, readings: Reading[]): Promise<IngestReceipt> {
    this.pushes++
    for (const r of readings) this.readings.push(r)
    this.waiters = this.waiters.filter((w) => (w.check() ? (w.resolve(), false) : true))
    return { durable: Promise.resolve({ accepted: readings.length, dropped: 0, lost: 0, invalid: 0 }) }
  }

  /** Resolves once `check()` is true (now or after a later push); rejects after timeoutMs. */
  waitFor(check: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
    if (check()) return Promise.resolve()
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter)
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what} (have ${this.readings.length} readings)`))
      }, timeoutMs)
      const waiter: Waiter = { check, resolve: () => (clearTimeout(timer), resolve()) }
      this.waiters.push(waiter)
    })
  }
}

/** A sink whose push never resolves until stop(): the ingest buffer is full. */
export class StuckSink implements ReadingSink {
  pushes = 0
  private firstPush: () => void = () => {}
  private pending: Array<(err: Error) => void> = []
  /** Resolves at the first push (the source is now blocked in it). */
  readonly blocked = new Promise<void>((resolve) => (this.firstPush = resolve))

  push(): Promise<IngestReceipt> {
    this.pushes++
    this.firstPush()
    return new Promise<IngestReceipt>((_resolve, reject) => this.pending.push(reject))
  }

  /** Rejects the waiting pushes, as the real ingest does when the gateway stops. */
  stop(): void {
    for (const reject of this.pending.splice(0)) reject(new Error('gateway stopping'))
  }
}

export interface SerialRigOptions {
  format: 'jsonl' | 'nmea'
  sim?: Omit<SerialSensorSimOptions, 'pty' | 'format'>
  /** Overrides of the source config (path, format and type are set by the rig). */
  config?: Partial<SerialSourceConfigInput>
  sink?: ReadingSink
  /** @default 100 */
  probeIntervalMs?: number
}

export interface SerialRig {
  pty: PtyPair
  sim: SerialSensorSim
  source: SerialSource
  counters: RecordingCounters
  log: RecordingLogger
  /** Resolves when the source stops; rejects if it failed. */
  running: Promise<void>
  stop(): Promise<void>
}

/**
 * socat pair in a temp dir; SerialSource on end B, running before the sim opens end A (bytes
 * written while nobody has B open are lost, as on a real UART).
 */
export async function startSerialRig(opts: SerialRigOptions): Promise<SerialRig> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'edge-serial-'))
  const pty = await openPtyPair(dir)
  const sim = new SerialSensorSim({ pty, format: opts.format, ...opts.sim })
  const config = serialSourceSchema.parse({
    id: 'pty', baudRate: 115200, reopenMaxMs: 200, ...opts.config, type: 'serial', path: pty.b, format: opts.format,
  })
  const counters = new RecordingCounters()
  const log = new RecordingLogger()
  const source = new SerialSource(config, { log, counters, probeIntervalMs: opts.probeIntervalMs ?? 100 })
  const ac = new AbortController()
  const running = source.run(opts.sink ?? new RecordingSink(), ac.signal)
  async function stop(): Promise<void> {
    ac.abort()
    ;(opts.sink as Partial<StuckSink> | undefined)?.stop?.()
    await sim.stop()
    await running
    await pty.kill()
    await rm(dir, { recursive: true, force: true })
  }
  try {
    await pollUntil(() => source.health().state === 'running', `serial source running (health: ${JSON.stringify(source.health())})`)
    await sim.start()
  } catch (err) {
    await stop() // a failed setup must not leave socat or the source behind
    throw err
  }
  return { pty, sim, source, counters, log, running, stop }
}
