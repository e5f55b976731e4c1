/**
 * Simulated environment sensors (temperature, humidity, battery), optionally with a doorbell press
 * every Nth reading. It is a real Source: it awaits `sink.push`, so when ingest is full it stops
 * producing (readings it would have made while paused are skipped, like a sensor that is not
 * polled), which is what the backpressure tests and the demo rely on.
 */
import type { Reading, ReadingSink, Source, SourceHealth } from '../../gateway/core/types.js'
import { sleep } from '../../gateway/core/abort.js'
import type { SimulatorSourceConfig } from './config.js'

/** With intervalMs 0, readings are pushed in groups of this many (one per device, round robin). */
const FAST_BATCH = 256

export class SimulatorSource implements Source {
  readonly type = 'simulator'
  private state: SourceHealth['state'] = 'starting'
  /** Readings produced per device so far. */
  private readonly produced: number[]
  private cursor = 0

  constructor(private readonly config: SimulatorSourceConfig) {
    this.produced = new Array<number>(config.devices).fill(0)
  }

  get id(): string {
    return this.config.id
  }

  health(): SourceHealth {
    return { state: this.state }
  }

  async run(sink: ReadingSink, signal: AbortSignal): Promise<void> {
    this.state = 'running'
    const { intervalMs } = this.config
    // Ticks on the monotonic clock: a wall-clock jump must not stall or burst the sensor.
    let nextTickMs = performance.now()
    while (!signal.aborted) {
      const readings = intervalMs === 0 ? this.fastBatch() : this.tick()
      if (readings.length === 0) break
      try {
        await sink.push(this.id, readings)
      } catch {
        break // ingest is stopping
      }
      if (intervalMs > 0) {
        // Never catch up in a burst after a pause: a paused sensor simply missed those ticks.
        nextTickMs = Math.max(nextTickMs + intervalMs, performance.now())
        await sleep(nextTickMs - performance.now(), signal)
      }
    }
    this.state = signal.aborted ? 'stopped' : 'done'
  }

  /** One reading from every device that still has readings left. */
  private tick(): Reading[] {
    const out: Reading[] = []
    for (let d = 0; d < this.config.devices; d++) {
      const r = this.makeReading(d)
      if (r) out.push(r)
    }
    return out
  }

  /** Up to FAST_BATCH readings, round robin over devices that still have readings left. */
  private fastBatch(): Reading[] {
    const out: Reading[] = []
    const { devices } = this.config
    let idle = 0
    while (out.length < FAST_BATCH && idle < devices) {
      const r = this.makeReading(this.cursor)
      this.cursor = (this.cursor + 1) % devices
      if (r) {
        out.push(r)
        idle = 0
      } else {
        idle++
      }
    }
    return out
  }

  private makeReading(device: number): Reading | undefined {
    const n = this.produced[device]!
    if (this.config.count !== undefined && n >= this.config.count) return undefined
    this.produced[device] = n + 1
    const deviceId = `sim-${String(device + 1).padStart(4, '0')}`
    const timeMs = Date.now()
    const every = this.config.alertEvery
    if (every > 0 && (n + 1) % every === 0) {
      return { deviceId, kind: 'doorbell.press', priority: 'alert', timeMs, data: { pressed: true, press: (n + 1) / every } }
    }
    // A slow sine per device so charts look alive; deterministic so tests can check values.
    const phase = (n / 60) * Math.PI * 2 + device
    return {
      deviceId,
      kind: 'environment',
      priority: 'telemetry',
      timeMs,
      data: {
        temperatureC: round(21 + 3 * Math.sin(phase), 2),
        humidityPct: round(45 + 10 * Math.cos(phase), 1),
        batteryPct: Math.max(0, 100 - Math.floor(n / 1000)),
        reading: n + 1,
        ...(this.config.padBytes > 0 ? { pad: 'x'.repeat(this.config.padBytes) } : {}),
      },
    }
  }
}

function round(v: number, digits: number): number {
  const f = 10 ** digits
  return Math.round(v * f) / f
}
