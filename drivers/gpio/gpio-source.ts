/**
 * `gpio` source: one input line (doorbell button, door contact) → `alert` readings.
 *
 * Flow: interrupt (onoff watch) → EdgeDebouncer → BoundedQueue → loop awaiting `sink.push`.
 * The interrupt callback never waits: presses are rare (one per `debounceMs` at most) so a small
 * queue absorbs a slow sink; should it ever fill, the press is counted `queue_full` and the
 * `presses` total carried in every reading shows the gap downstream.
 *
 * Hardware absence is a state, not an error: no sysfs GPIO, no permission, or a refused export
 * leaves the source `unavailable` with a detail, logged once, and `run` simply waits for `signal`
 * so the rest of the gateway keeps running. There is no retry: none of those fix themselves
 * without an operator (group membership, kernel, wiring), and a restart re-probes.
 */
import type { Reading, ReadingSink, Source, SourceHealth, AppendOutcome } from '../../gateway/core/types.js'
import type { InputCounters, Logger } from '../../gateway/core/observability.js'
import { aborted } from '../../gateway/core/abort.js'
import type { GpioSourceConfig } from './config.js'
import { describeGpioError, openOnoffLine, type GpioLine, type LineValue, type OpenGpioLine } from './gpio-line.js'
import { DEFAULT_SYSFS_GPIO_ROOT, mapBcmToSysfs } from './sysfs-pin-map.js'
import { EdgeDebouncer, type DebounceEvent } from './debounce.js'
import { BoundedQueue } from '../shared/bounded-queue.js'

/** Most debounced edges waiting for the sink. */
const QUEUE_CAPACITY = 256

export interface GpioSourceDeps {
  log: Logger
  counters: InputCounters
  /** Lowest hardware layer; tests pass a FakeGpioLine factory. @default openOnoffLine */
  openLine?: OpenGpioLine
  /** Where gpiochips are listed; tests pass a fake tree. @default "/sys/class/gpio" */
  sysfsRoot?: string
}

export interface GpioSourceStats {
  /** Accepted active edges (value 1) since `run` started. */
  presses: number
  /** Edges suppressed as contact bounce. */
  bounces: number
  /** Readings waiting for the sink. */
  queued: number
}

/** See the module comment. Constructor only assigns; `run` opens the line. */
export class GpioSource implements Source {
  readonly type = 'gpio'
  readonly id: string
  private readonly log: Logger
  private state: SourceHealth = { state: 'starting' }
  private readonly queue = new BoundedQueue<Reading>(QUEUE_CAPACITY)
  private readonly durables = new Set<Promise<void>>()
  private presses = 0
  private bounces = 0
  private settleTimer: NodeJS.Timeout | undefined
  private debouncer: EdgeDebouncer | undefined
  private lastErrorLogMs = Number.NEGATIVE_INFINITY

  constructor(
    private readonly config: GpioSourceConfig,
    private readonly deps: GpioSourceDeps,
  ) {
    this.id = config.id
    this.log = deps.log.child({ component: config.id, source: 'gpio' })
  }

  health(): SourceHealth {
    return { ...this.state }
  }

  stats(): GpioSourceStats {
    return { presses: this.presses, bounces: this.bounces, queued: this.queue.size }
  }

  /**
   * Watches the line until `signal` aborts, then flushes queued readings to the sink and waits for
   * their commit. Never throws: an absent GPIO makes the source `unavailable` and `run` waits for
   * `signal`; sink failures are logged and counted.
   */
  async run(sink: ReadingSink, signal: AbortSignal): Promise<void> {
    const line = await this.open(signal)
    if (!line) {
      await aborted(signal)
      this.state = { state: 'stopped', detail: this.state.detail }
      return
    }
    try {
      await this.watch(line, signal)
      await this.pushLoop(sink, signal)
    } catch (err) {
      // Only the hardware layer can throw here (pushAlert catches sink errors): same as a failed open.
      this.state = { state: 'unavailable', detail: describeGpioError(err) }
      this.log.error({ err, code: 'GW_ERR_HARDWARE_UNAVAILABLE' }, this.state.detail!)
      await aborted(signal)
    } finally {
      this.release(line)
    }
    for (const reading of this.queue.drain()) await this.pushAlert(sink, reading)
    await Promise.all(this.durables)
    this.state = { state: 'stopped' }
  }

  private async open(signal: AbortSignal): Promise<GpioLine | undefined> {
    const { pin, edge, activeLow } = this.config
    let sysfsPin: number | undefined
    try {
      const mapping = await mapBcmToSysfs(pin, this.deps.sysfsRoot ?? DEFAULT_SYSFS_GPIO_ROOT)
      sysfsPin = mapping.sysfsPin
      const line = await (this.deps.openLine ?? openOnoffLine)(sysfsPin, { edge, activeLow })
      const chip = mapping.chip ? `${mapping.chip.label} base ${mapping.chip.base}` : 'no SoC chip found, base 0'
      if (signal.aborted) {
        this.release(line)
        return undefined
      }
      this.state = { state: 'running', detail: `watching BCM ${pin} (sysfs ${sysfsPin}, ${chip})` }
      this.log.info({ pin, sysfsPin, edge, activeLow }, 'gpio line open')
      return line
    } catch (err) {
      const detail = describeGpioError(err, sysfsPin)
      this.state = { state: 'unavailable', detail }
      // Logged once: the state does not change until a restart, and health() carries the detail.
      this.log.warn({ err, code: 'GW_ERR_HARDWARE_UNAVAILABLE', pin }, detail)
      return undefined
    }
  }

  private async watch(line: GpioLine, signal: AbortSignal): Promise<void> {
    // Start from the real level so `both` mode can tell a release from a press after a restart.
    const initial = await line.read().catch(() => 0 as LineValue)
    const debouncer = (this.debouncer = new EdgeDebouncer({
      quietMs: this.config.debounceMs,
      reconcile: this.config.edge === 'both',
      initial,
    }))
    line.watch((err, value) => {
      if (signal.aborted) return
      if (err) {
        this.deps.counters.rejected(this.id, 'read_error')
        // A failing poller fires on every interrupt: one line per 10 s, the counter has the rest.
        const now = performance.now()
        if (now - this.lastErrorLogMs >= 10_000) {
          this.lastErrorLogMs = now
          this.log.error({ err, code: 'GW_ERR_HARDWARE_UNAVAILABLE' }, 'gpio interrupt failed')
        }
        return
      }
      this.apply(debouncer.edge(value, performance.now()))
      this.armSettle(debouncer)
    })
  }

  private armSettle(debouncer: EdgeDebouncer): void {
    clearTimeout(this.settleTimer)
    const due = debouncer.settleDueMs()
    if (due === undefined) return
    this.settleTimer = setTimeout(() => {
      this.apply(debouncer.settle(performance.now()))
      this.armSettle(debouncer) // a timer that fired a hair early re-arms instead of losing the burst
    }, Math.max(0, Math.ceil(due - performance.now())))
  }

  private apply(events: DebounceEvent[]): void {
    for (const ev of events) {
      if (ev.type === 'bounce') {
        this.bounces += ev.count
        this.deps.counters.rejected(this.id, 'bounce', ev.count)
        continue
      }
      if (ev.value === 1) this.presses++
      const reading: Reading = {
        deviceId: this.config.deviceId ?? this.config.id,
        kind: this.config.kind,
        priority: 'alert',
        timeMs: Date.now(),
        data: {
          pressed: ev.value === 1,
          edge: ev.value === 1 ? 'rising' : 'falling',
          value: ev.value,
          presses: this.presses,
          settled: ev.settled,
        },
      }
      if (!this.queue.offer(reading)) {
        this.deps.counters.rejected(this.id, 'queue_full')
        this.log.error({ code: 'GW_ERR_INPUT_REJECTED', presses: this.presses }, 'gpio queue full, edge dropped')
      }
    }
  }

  private async pushLoop(sink: ReadingSink, signal: AbortSignal): Promise<void> {
    for (;;) {
      const reading = await this.queue.take(signal)
      if (reading === undefined) return
      await this.pushAlert(sink, reading)
    }
  }

  /** Awaits the push (backpressure), then tracks the commit so a failed one is logged, not lost silently. */
  private async pushAlert(sink: ReadingSink, reading: Reading): Promise<void> {
    let durable: Promise<AppendOutcome>
    try {
      durable = (await sink.push(this.id, [reading])).durable
    } catch (err) {
      this.deps.counters.rejected(this.id, 'sink_closed')
      this.log.error({ err, code: 'GW_ERR_STORE_CLOSED' }, 'alert not accepted: gateway stopping')
      return
    }
    const notDurable = (err: unknown): void => {
      this.deps.counters.rejected(this.id, 'not_durable')
      this.log.error({ err, code: 'GW_ERR_STORE_FULL' }, 'alert not stored')
    }
    // `durable` never rejects by contract; the second handler is there so a broken sink cannot
    // turn into an unhandled rejection. Only an alert a store error lost is `not_durable`: one
    // refused as invalid or by the store's whenFull policy is counted where it was dropped, but a
    // lost doorbell press still deserves an error line.
    const tracked = durable.then(
      (outcome) => {
        if (outcome.lost > 0) notDurable(outcome.error)
        else if (outcome.accepted < 1) this.log.error({ dropped: outcome.dropped }, 'alert not stored: refused by the store (full) or as invalid (counted there)')
      },
      (err) => notDurable(err),
    )
    this.durables.add(tracked)
    void tracked.finally(() => this.durables.delete(tracked))
  }

  private release(line: GpioLine): void {
    clearTimeout(this.settleTimer)
    line.unwatchAll()
    // Close an open bounce burst so its count (and a short tap's release) is not lost at shutdown.
    if (this.debouncer) this.apply(this.debouncer.settle(Number.POSITIVE_INFINITY))
    try {
      line.unexport()
    } catch (err) {
      this.log.debug({ err }, 'gpio unexport failed (ignored at shutdown)')
    }
  }
}
