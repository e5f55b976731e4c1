/**
 * Shared setup for the BLE tests: real noble (lib/noble.js) over the SimulatedBleBinding, a real
 * BleSource, a sink that records (or stalls), a logger that records. Nothing here sleeps: tests
 * await the binding's scan start, the sink's n-th reading, or the logger's next problem line.
 * Lives in test/, not test/support, because startBleForTest registers a vitest hook.
 */
import { onTestFinished } from 'vitest'
import type { AppendOutcome, IngestReceipt, Reading, ReadingSink } from '../gateway/core/types.js'
import { RecordingCounters, type Logger } from '../gateway/core/observability.js'
import { BleSource, bleSourceSchema, type BleSourceConfig, type BleSourceDeps } from '../drivers/ble/index.js'
import { SimulatedBleBinding, simulatedNoble, type SimulatedBleBindingOptions } from '../firmware-sim/ble-advertiser.js'

export const THERMO = 'a4:c1:38:8d:18:b2'
export const BUTTON = '54:48:e6:00:00:01'
export const RUUVI = 'cb:b8:33:4c:88:4f'
export const BEACON = 'c0:ff:ee:00:00:01'
export const STRANGER = '11:22:33:44:55:66'
/** bthome.io encryption example key. */
export const BINDKEY = '231d39c1d7cc1ab1aee224cd096db932'

/** Records pushes; `waitFor(n)` resolves at the n-th reading. `stall()` makes push hang until `release()`. */
export class RecordingSink implements ReadingSink {
  readonly readings: Reading[] = []
  pushes = 0
  private stalled: Array<() => void> | undefined
  private waiters: Array<{ n: number; resolve: () => void }> = []
  private pushWaiters: Array<{ n: number; resolve: () => void }> = []

  /** What the store reports for each push; the default stores everything. */
  outcome: (readings: Reading[]) => AppendOutcome = (readings) => ({ accepted: readings.length, dropped: 0, lost: 0, invalid: 0 })

  async push(_sourceId: string, readings: Reading[]): Promise<IngestReceipt> {
    this.pushes++
    this.pushWaiters = this.pushWaiters.filter((w) => (this.pushes >= w.n ? (w.resolve(), false) : true))
    if (this.stalled) await new Promise<void>((resolve) => this.stalled!.push(resolve))
    this.readings.push(...readings)
    this.waiters = this.waiters.filter((w) => (this.readings.length >= w.n ? (w.resolve(), false) : true))
    return { durable: Promise.resolve<AppendOutcome>(this.outcome(readings)) }
  }

  async waitFor(n: number): Promise<Reading[]> {
    if (this.readings.length < n) await new Promise<void>((resolve) => this.waiters.push({ n, resolve }))
    return this.readings
  }

  /** Resolves once `push` was called `n` times (accepted or still hanging). */
  async waitForPushes(n: number): Promise<void> {
    if (this.pushes < n) await new Promise<void>((resolve) => this.pushWaiters.push({ n, resolve }))
  }

  /** Readings of one device, in arrival order. */
  of(deviceId: string): Reading[] {
    return this.readings.filter((r) => r.deviceId === deviceId)
  }

  stall(): void {
    this.stalled ??= []
  }

  release(): void {
    const pending = this.stalled ?? []
    this.stalled = undefined
    for (const resolve of pending) resolve()
  }
}

export interface LogLine {
  level: string
  obj: Record<string, unknown>
  msg?: string
}

/** A Logger that records lines; `problem()` resolves at the next warn/error line. */
export function recordingLogger() {
  const lines: LogLine[] = []
  const waiters: Array<() => void> = []
  const at = (level: string) => (obj: object | string, msg?: string) => {
    lines.push({ level, obj: typeof obj === 'string' ? { msg: obj } : (obj as Record<string, unknown>), msg })
    if (level === 'warn' || level === 'error') for (const w of waiters.splice(0)) w()
  }
  const log: Logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), child: () => log }
  const problem = () => new Promise<void>((resolve) => waiters.push(resolve))
  return { log, lines, problem }
}

/** A hand-driven monotonic clock. */
export function manualClock(start = 0) {
  const clock = { t: start, now: () => clock.t }
  return clock
}

export type BleConfigInput = Partial<Record<keyof BleSourceConfig, unknown>>

export const bleConfig = (over: BleConfigInput = {}): BleSourceConfig =>
  bleSourceSchema.parse({ type: 'ble', id: 'ble1', minIntervalMs: 0, ...over })

export interface StartOptions {
  binding?: SimulatedBleBindingOptions
  deps?: Partial<BleSourceDeps>
  /** Do not wait for the scan to start (for adapters that never get there). */
  noWait?: boolean
}

/** Starts a BleSource on noble over a fresh simulator binding; resolves once it scans. */
export async function startBle(over: BleConfigInput = {}, opts: StartOptions = {}) {
  const binding = new SimulatedBleBinding(opts.binding)
  const noble = simulatedNoble(binding)
  const counters = new RecordingCounters()
  const logger = recordingLogger()
  const source = new BleSource(bleConfig(over), { log: logger.log, counters, loadNoble: async () => noble, ...opts.deps })
  const sink = new RecordingSink()
  const ac = new AbortController()
  const done = source.run(sink, ac.signal)
  if (!opts.noWait) await binding.whenScanning()
  const stop = async () => {
    ac.abort()
    sink.release()
    await done
  }
  return { binding, noble, counters, logger, source, sink, ac, done, stop, rejected: (reason: string) => counters.get('ble1', reason) }
}

export type BleHarness = Awaited<ReturnType<typeof startBle>>

/**
 * startBle inside a test: the harness is stopped when the test finishes, passed or failed, so no
 * scan loop or noble listener outlives it. A test may also stop it itself (stop is idempotent).
 */
export async function startBleForTest(over: BleConfigInput = {}, opts: StartOptions = {}): Promise<BleHarness> {
  const harness = await startBle(over, opts)
  onTestFinished(() => harness.stop())
  return harness
}
