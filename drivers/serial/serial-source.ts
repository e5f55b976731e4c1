/**
 * SerialSource: supervises a SerialDriver and turns its bytes into readings.
 *
 *   driver chunks → LineFramer → line decoder (jsonl | kv | csv | nmea) → await sink.push()
 *
 * Promises kept:
 * - Backpressure: `sink.push` is awaited per chunk; while it waits nothing pulls from the driver,
 *   whose bounded queue fills and pauses the port.
 * - Bad input never stops the source: each rejected line is counted (`counters.rejected(id, reason)`)
 *   and logged at most once per reason per 10 s, with the number suppressed.
 * - Unplug, a missing path, or a failed open: health becomes `disconnected` with the reason as
 *   `detail`, and the port is reopened with full-jitter backoff (250 ms up to `reopenMaxMs`) for
 *   as long as the source runs. Health is `running` while the port is open.
 * Lost on an unplug: the partial line in the framer (counted as `truncated_line`) and whatever the
 * OS had buffered. Lost on stop: chunks read but not yet pushed.
 */
import { Backoff } from '../../gateway/core/backoff.js'
import { sleep } from '../../gateway/core/abort.js'
import { DecodeError, isDisconnect } from '../../gateway/core/errors.js'
import type { InputCounters, Logger } from '../../gateway/core/observability.js'
import type { Frame, Reading, ReadingSink, Source, SourceHealth } from '../../gateway/core/types.js'
import type { SerialSourceConfig } from './config.js'
import type { LineContext, LineDecoder } from './formats/fields.js'
import { lineDecoderFor } from './formats/select.js'
import { LineFramer } from './line-framer.js'
import type { SerialPortAccess } from './port-access.js'
import { RejectLog } from '../../gateway/core/reject-log.js'
import { SerialDriver } from './serial-driver.js'

export interface SerialSourceDeps {
  log: Logger
  counters: InputCounters
  /** OS seam for tests (binding-mock). @default nativePortAccess */
  access?: SerialPortAccess
  /** Device-node probe interval while open, ms. @default 1000 */
  probeIntervalMs?: number
}

/** Counters for tests, benchmarks and the status page. */
export interface SerialSourceStats {
  bytesRead: number
  /** The port is paused because the sink is not taking readings. */
  paused: boolean
  linesAccepted: number
  linesRejected: number
  readings: number
  /** Successful opens (1 + reopens). */
  opens: number
  /** Bytes of the partial line held by the framer (≤ maxLineBytes + 1). */
  bufferedLineBytes: number
}

/** A sink failure, kept apart from driver errors so it is not mistaken for an unplug. */
class SinkFailure extends Error {}

export class SerialSource implements Source {
  readonly id: string
  readonly type = 'serial'
  private readonly log: Logger
  private readonly rejects: RejectLog
  private readonly driver: SerialDriver
  private readonly framer: LineFramer
  private readonly decodeLine: LineDecoder
  private readonly deviceId: string
  private state: SourceHealth = { state: 'starting' }
  private active = false
  private counts = { linesAccepted: 0, linesRejected: 0, readings: 0, opens: 0 }

  /** Assigns only; nothing is opened until run(). @throws TypeError for an invalid config. */
  constructor(
    private readonly config: SerialSourceConfig,
    private readonly deps: SerialSourceDeps,
  ) {
    this.id = config.id
    this.deviceId = config.deviceId ?? config.id
    this.log = deps.log.child({ component: 'serial', sourceId: config.id, path: config.path })
    this.rejects = new RejectLog(this.log, deps.counters, config.id)
    this.framer = new LineFramer({ maxLineBytes: config.maxLineBytes })
    this.decodeLine = lineDecoderFor(config.format, config.csv)
    this.driver = new SerialDriver({
      id: config.id, path: config.path, baudRate: config.baudRate, idleTimeoutMs: config.idleTimeoutMs,
      probeIntervalMs: deps.probeIntervalMs, access: deps.access,
      onOpen: () => this.opened(), onDisconnect: (err) => this.disconnected(err),
    })
  }

  health(): SourceHealth {
    return { ...this.state }
  }

  stats(): SerialSourceStats {
    return { ...this.counts, bytesRead: this.driver.bytesRead, paused: this.driver.isPaused(), bufferedLineBytes: this.framer.bufferedBytes }
  }

  /**
   * Reads until `signal` aborts; resolves then (health `stopped`). Never rejects for bad input or
   * a missing/unplugged device. Rejects when `sink.push` rejects while not stopping, and when
   * called while a previous run() is still going (one port, one reader).
   */
  async run(sink: ReadingSink, signal: AbortSignal): Promise<void> {
    if (this.active) throw new Error(`SerialSource ${this.id}: run() is already running`)
    this.active = true
    const backoff = new Backoff({ initialMs: 250, maxMs: this.config.reopenMaxMs })
    try {
      while (!signal.aborted) {
        try {
          await this.pump(sink, signal, backoff)
        } catch (err) {
          if (signal.aborted) break
          if (err instanceof SinkFailure) throw err.cause
          this.disconnected(err)
          await sleep(backoff.next(), signal)
        }
      }
    } finally {
      this.active = false
      this.state = { state: 'stopped' }
    }
  }

  /** One open period of the port. */
  private async pump(sink: ReadingSink, signal: AbortSignal, backoff: Backoff): Promise<void> {
    const dropped = this.framer.reset()
    if (dropped > 0) this.reject('truncated_line', dropped)
    let sawData = false
    for await (const frame of this.driver.frames(signal)) {
      // Reset only once bytes flow: a port that opens and drops at once must keep backing off.
      if (!sawData) backoff.reset()
      sawData = true
      const readings = this.decodeChunk(frame)
      if (readings.length === 0) continue
      try {
        await sink.push(this.id, readings)
      } catch (err) {
        throw new SinkFailure('sink.push rejected', { cause: err })
      }
      this.counts.readings += readings.length
    }
  }

  private decodeChunk(frame: Frame): Reading[] {
    const ctx: LineContext = { deviceId: this.deviceId, kind: this.config.kind, priority: this.config.priority, timeMs: frame.timeMs }
    const out: Reading[] = []
    for (const event of this.framer.push(frame.bytes)) {
      if (!event.ok) {
        this.reject(event.reason, event.bytes)
        continue
      }
      try {
        for (const r of this.decodeLine(event.line, ctx)) out.push(r)
        this.counts.linesAccepted++
      } catch (err) {
        if (err instanceof DecodeError) {
          this.reject(err.reason, event.line.length)
        } else {
          // A decoder bug, not bad input: still never stop reading, but say so loudly.
          this.reject('decoder_error', event.line.length)
          this.log.error({ err }, 'serial line decoder threw a non-DecodeError')
        }
      }
    }
    return out
  }

  private reject(reason: string, bytes: number): void {
    this.counts.linesRejected++
    this.rejects.reject(reason, { bytes }, 'serial line rejected')
  }

  private opened(): void {
    this.counts.opens++
    this.state = { state: 'running' }
    this.log.info({ opens: this.counts.opens }, 'serial port open')
  }

  private disconnected(err: unknown): void {
    const detail = err instanceof Error ? err.message : String(err)
    const wasRunning = this.state.state === 'running' || this.state.state === 'starting'
    const changed = this.state.detail !== detail
    this.state = { state: 'disconnected', detail }
    if (!isDisconnect(err)) this.log.error({ err }, 'serial driver failed unexpectedly; reopening')
    // Transitions at warn; an absent device retried forever only at debug, not every backoff.
    else if (wasRunning || changed) this.log.warn({ code: 'GW_ERR_HARDWARE_UNAVAILABLE', detail }, 'serial port unavailable; retrying with backoff')
    else this.log.debug({ detail }, 'serial port still unavailable')
  }
}
