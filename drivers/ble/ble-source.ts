/**
 * `ble` source: scans for sensor adverts with noble and turns them into readings.
 *
 *   noble discover ──(sync)──▶ AdvertProcessor ──▶ ReadingQueue (bounded) ──▶ push loop ──await──▶ sink.push
 *   (allow-list, decode, BTHome replay/dedup, min interval: advert-processor.ts)
 *
 * Backpressure (ARCHITECTURE 2.5): noble's callbacks cannot wait and a BLE radio cannot be paused
 * usefully (adverts are periodic and repeat anyway), so while `sink.push` waits, new readings go
 * into the bounded queue; when it is full the oldest telemetry is dropped and counted
 * `queue_full`. Alerts (BTHome button/dimmer events) evict telemetry instead, and are only lost
 * when the queue holds nothing but alerts (counted `queue_full_alert`, logged as an error).
 *
 * Failure semantics: `run` never throws. No Bluetooth (noble fails to load, EAFNOSUPPORT), no
 * permission or no LE support make the source `unavailable` and `run` just waits for `signal`,
 * so the rest of the gateway keeps running. An adapter powered off or unplugged mid-run is
 * `disconnected` and scanning resumes on its own when noble reports `poweredOn`. Bad adverts are
 * counted by reason (`counters.rejected(id, reason)`) and logged at most once per reason per 10 s.
 *
 * On stop: scanning stops, queued readings are offered to the sink (which rejects once the
 * gateway is stopping: counted `sink_closed`), and `run` waits for their commit outcomes.
 */
import { aborted } from '../../gateway/core/abort.js'
import type { InputCounters, Logger } from '../../gateway/core/observability.js'
import type { AppendOutcome, Reading, ReadingSink, Source, SourceHealth } from '../../gateway/core/types.js'
import { AdvertProcessor } from './advert-processor.js'
import type { BleSourceConfig } from './config.js'
import { NobleCacheTrim } from './noble-cache-trim.js'
import type { NobleLike, NoblePeripheral } from './noble-like.js'
import { describeBleError, loadNoble, type LoadNoble } from './noble-loader.js'
import { ReadingQueue } from './reading-queue.js'
import { RejectLog } from '../../gateway/core/reject-log.js'
import { ScanSession } from './scan-session.js'

/** Most readings per `sink.push`: amortises the call without holding a reading back. */
const MAX_BATCH = 64

export interface BleSourceDeps {
  log: Logger
  counters: InputCounters
  /** Lowest layer; tests pass noble over the simulator binding. @default loadNoble({ hciDevice, extended }) */
  loadNoble?: LoadNoble
  /** Monotonic clock, ms, for the min interval and log rate limits. @default performance.now */
  now?: () => number
  /** Wait for the adapter's first state before reporting `unavailable`, ms. @default 10000 */
  stateTimeoutMs?: number
}

/** Totals since construction. */
export interface BleSourceStats {
  /** `discover` events handled. */
  adverts: number
  /** Adverts from devices not on the allow-list. */
  ignored: number
  /** Readings put into the queue. */
  queuedTotal: number
  /** Readings handed to the sink. */
  pushed: number
  /** Readings dropped because the queue was full (telemetry and alerts). */
  dropped: number
  /** Readings waiting now. */
  queued: number
}

/** See the module comment. Constructor only assigns; `run` loads noble. */
export class BleSource implements Source {
  readonly type = 'ble'
  readonly id: string
  private readonly log: Logger
  private readonly rejects: RejectLog
  private readonly processor: AdvertProcessor
  private readonly queue: ReadingQueue
  private readonly durables = new Set<Promise<void>>()
  private state: SourceHealth = { state: 'starting' }
  private noble: NobleLike | undefined
  private trim: NobleCacheTrim | undefined
  private readonly totals = { adverts: 0, ignored: 0, queuedTotal: 0, pushed: 0, dropped: 0 }

  constructor(
    private readonly config: BleSourceConfig,
    private readonly deps: BleSourceDeps,
  ) {
    this.id = config.id
    this.log = deps.log.child({ component: config.id, source: 'ble' })
    const now = deps.now ?? (() => performance.now())
    this.rejects = new RejectLog(this.log, deps.counters, config.id, 10_000, now)
    this.processor = new AdvertProcessor(config, now)
    this.queue = new ReadingQueue(config.maxQueued)
  }

  health(): SourceHealth {
    return { ...this.state }
  }

  stats(): BleSourceStats {
    return { ...this.totals, queued: this.queue.size }
  }

  /** Scans until `signal` aborts. Never throws; see the module comment for each failure. */
  async run(sink: ReadingSink, signal: AbortSignal): Promise<void> {
    const noble = await this.load()
    if (!noble || signal.aborted) {
      await aborted(signal)
      this.state = { state: 'stopped', detail: this.state.detail }
      return
    }
    const session = new ScanSession(noble, {
      duplicates: this.config.duplicates,
      hciDevice: this.config.hciDevice,
      stateTimeoutMs: this.deps.stateTimeoutMs,
      log: this.log,
      onHealth: (h) => (this.state = h),
      onDiscover: (p) => this.onDiscover(p),
    })
    session.start()
    try {
      await this.pushLoop(sink, signal)
    } finally {
      session.stop()
    }
    for (let batch = this.queue.takeNow(MAX_BATCH); batch.length > 0; batch = this.queue.takeNow(MAX_BATCH)) {
      await this.pushBatch(sink, batch)
    }
    await Promise.all(this.durables)
    this.state = { state: 'stopped' }
  }

  private async load(): Promise<NobleLike | undefined> {
    if (this.noble) return this.noble
    const { hciDevice, extended } = this.config
    try {
      this.noble = await (this.deps.loadNoble ?? (() => loadNoble({ hciDevice, extended })))()
      this.trim = new NobleCacheTrim(this.noble)
      return this.noble
    } catch (err) {
      const detail = describeBleError(err, hciDevice)
      this.state = { state: 'unavailable', detail }
      // Logged once: nothing changes until an operator acts, and health() carries the detail.
      this.log.warn({ err, code: 'GW_ERR_HARDWARE_UNAVAILABLE' }, detail)
      return undefined
    }
  }

  /** Runs inside noble's emit: must not throw (hci-socket would drop the rest of that HCI event). */
  private onDiscover(p: NoblePeripheral): void {
    try {
      this.totals.adverts++
      const outcome = this.processor.process(p, Date.now())
      this.trim?.forget(p?.id)
      if (outcome.kind === 'ignored') this.totals.ignored++
      else if (outcome.kind === 'forward') for (const r of outcome.readings) this.enqueue(r)
      else if (outcome.message === undefined) this.rejects.count(outcome.reason)
      else this.rejects.reject(outcome.reason, outcome.fields ?? {}, outcome.message, outcome.reason === 'internal_error' ? 'error' : 'warn')
    } catch (err) {
      this.rejects.reject('internal_error', { err }, 'BLE advert handling failed', 'error')
    }
  }

  private enqueue(reading: Reading): void {
    const { queued, evicted } = this.queue.offer(reading)
    if (queued) this.totals.queuedTotal++
    if (evicted > 0) {
      this.totals.dropped += evicted
      this.rejects.reject('queue_full', { maxQueued: this.queue.capacity }, 'BLE queue full: oldest telemetry reading dropped (ingest is not keeping up)', 'warn', evicted)
    }
    if (!queued) {
      this.totals.dropped++
      const { deviceId, kind } = reading
      this.rejects.reject('queue_full_alert', { deviceId, kind, maxQueued: this.queue.capacity }, 'BLE queue full of alerts: alert dropped', 'error')
    }
  }

  private async pushLoop(sink: ReadingSink, signal: AbortSignal): Promise<void> {
    for (;;) {
      const batch = await this.queue.take(MAX_BATCH, signal)
      if (batch.length === 0) return
      await this.pushBatch(sink, batch)
    }
  }

  /** Awaits `push` (backpressure); tracks the commit so a failure is counted and logged, not lost silently. */
  private async pushBatch(sink: ReadingSink, batch: Reading[]): Promise<void> {
    let durable: Promise<AppendOutcome>
    try {
      durable = (await sink.push(this.id, batch)).durable
    } catch (err) {
      this.rejects.reject('sink_closed', { err, readings: batch.length }, 'BLE readings not accepted: gateway stopping', 'error', batch.length)
      return
    }
    this.totals.pushed += batch.length
    const alerts = batch.filter((r) => r.priority === 'alert').length
    // `lost`: readings of this batch a store error lost (outcome.lost). Not the ones it stored (a
    // commit cut short at stop may have stored part of it: durable), nor the ones refused as
    // invalid or dropped by the store's whenFull policy: ingest and the store counted those.
    const notDurable = (err: unknown, lost: number): void =>
      this.rejects.reject('not_durable', { err, readings: lost, alerts }, 'BLE readings not stored', 'error', lost)
    // `durable` never rejects by contract; the second handler keeps a broken sink from causing an
    // unhandled rejection (then nothing is known to be stored).
    const tracked = durable.then(
      (outcome) => {
        if (outcome.lost > 0) notDurable(outcome.error, outcome.lost)
        else if (alerts > 0 && outcome.dropped > 0) this.log.error({ code: 'GW_ERR_STORE_FULL', dropped: outcome.dropped, alerts }, 'store dropped part of a batch with BLE alerts')
      },
      (err) => notDurable(err, batch.length),
    )
    this.durables.add(tracked)
    void tracked.finally(() => this.durables.delete(tracked))
  }
}
