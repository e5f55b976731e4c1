/**
 * Prometheus metrics for one gateway instance.
 *
 * Design:
 * - Every GatewayMetrics owns its Registry (never prom-client's global one), so tests and tools can
 *   run several gateways in one process without "metric already registered" errors.
 * - Hot-path methods take counts (call once per batch, not per event) and never throw: a bad count
 *   (negative, NaN) is ignored rather than allowed to break ingest or forwarding.
 * - Label sets are fixed per metric. `edge_gateway_events_dropped_total` always carries
 *   `{reason, uplink}`; store-wide drops (store_full_oldest, store_full_rejected, expired,
 *   corrupt_entry, store_error) use
 *   `uplink=""` (which Prometheus treats as "no uplink"), dead_letter names the uplink. The
 *   store-wide reasons are pre-created at 0 so `rate()` and alerts work before the first drop.
 * - Queue, store, uplink and source gauges are read from callbacks at scrape time
 *   (see observed-gauges.ts); nothing polls in the background.
 * - Plain-number totals mirror the counters so `snapshot()` is synchronous and cheap.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import type { DropReason, InputCounters, StoreStats } from '../core/index.js'
import {
  registerObservedGauges,
  type ObservedProviders,
  type SourceObservation,
  type UplinkObservation,
} from './observed-gauges.js'

/**
 * Drop reasons that concern the whole store (no uplink); pre-created at 0. `store_error` is counted
 * by ingest, not the store: readings of a commit the store failed (disk full, I/O error, a blocked
 * append aborted at stop), never stored.
 */
const STORE_WIDE_DROPS: readonly (DropReason | 'store_error')[] = ['store_full_oldest', 'store_full_rejected', 'expired', 'corrupt_entry', 'store_error']

export interface GatewayMetricsOptions {
  /**
   * Also collect prom-client's default process metrics (`process_resident_memory_bytes`,
   * `process_open_fds`, `nodejs_eventloop_lag_seconds`, ...) without a prefix, so standard
   * dashboards work. Each collection installs an event-loop monitor and a GC observer that live as
   * long as the process; tests that build many instances may turn it off.
   * @default true
   */
  defaultMetrics?: boolean
}

/** Totals since this instance was created, as plain numbers (demo status line, operator CLI). */
export interface MetricsSnapshot {
  ingested: number
  forwarded: number
  /** By reason, e.g. `{ store_full_oldest: 12, dead_letter: 1 }`; only reasons that occurred. */
  dropped: Record<string, number>
  droppedTotal: number
  rejected: number
  sendRetries: number
}

/** A count that may be added to a counter: finite and > 0 (0 is a no-op, the rest a caller bug). */
function countable(n: number): boolean {
  return Number.isFinite(n) && n > 0
}

export class GatewayMetrics implements InputCounters {
  /** The registry this instance owns; exposed for merging or tests, not for adding metrics ad hoc. */
  readonly registry = new Registry()
  private readonly providers: ObservedProviders = {}
  private readonly totals = { ingested: 0, forwarded: 0, rejected: 0, sendRetries: 0 }
  private readonly droppedByReason = new Map<string, number>()
  private readonly c = this.createInstruments()

  constructor(opts: GatewayMetricsOptions = {}) {
    if (opts.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry })
    registerObservedGauges(this.registry, this.providers)
    for (const reason of STORE_WIDE_DROPS) this.c.dropped.inc({ reason, uplink: '' }, 0)
  }

  /** Content-Type to send with `render()` output (Prometheus text format 0.0.4). */
  get contentType(): string {
    return this.registry.contentType
  }

  /** Counts a source's events that are durably stored (call after `store.append` resolved). */
  ingested(sourceId: string, n: number): void {
    if (!countable(n)) return
    this.c.ingested.inc({ source: sourceId }, n)
    this.totals.ingested += n
  }

  /** Counts events the peer confirmed (and the store acked) for one uplink. */
  forwarded(uplinkId: string, n: number): void {
    if (!countable(n)) return
    this.c.forwarded.inc({ uplink: uplinkId }, n)
    this.totals.forwarded += n
  }

  /**
   * Counts dropped events. `reason` is a DropReason (`store_full_oldest`, `store_full_rejected`,
   * `expired`, `dead_letter`) or another stable snake_case code; pass `uplink` for per-uplink
   * drops (dead_letter) and omit it for store-wide ones.
   */
  dropped(reason: DropReason | (string & {}), n: number, labels: { uplink?: string } = {}): void {
    if (!countable(n)) return
    this.c.dropped.inc({ reason, uplink: labels.uplink ?? '' }, n)
    this.droppedByReason.set(reason, (this.droppedByReason.get(reason) ?? 0) + n)
  }

  /** A damaged store was salvaged at open (`repaired` or `moved_aside`). */
  storeSalvaged(action: 'repaired' | 'moved_aside'): void {
    this.c.salvaged.inc({ action })
  }

  /** InputCounters: input refused at the edge. `component` is the source id, `reason` snake_case. */
  rejected(component: string, reason: string, n = 1): void {
    if (!countable(n)) return
    this.c.rejected.inc({ source: component, reason }, n)
    this.totals.rejected += n
  }

  /** Counts one failed send that will be retried; `reason` is the UplinkError reason. */
  sendRetry(uplinkId: string, reason: string): void {
    this.c.retries.inc({ uplink: uplinkId, reason })
    this.totals.sendRetries++
  }

  /** Records one confirmed send: its duration and how many events it carried. */
  sendBatch(uplinkId: string, seconds: number, events: number): void {
    if (Number.isFinite(seconds) && seconds >= 0) this.c.sendDuration.observe({ uplink: uplinkId }, seconds)
    if (countable(events)) this.c.batchEvents.observe({ uplink: uplinkId }, events)
  }

  /**
   * Reports the backoff an uplink is about to wait (`ms` > 0), or that it is not waiting (`0`):
   * callers set it before sleeping and reset it to 0 after.
   */
  backoff(uplinkId: string, ms: number): void {
    const wait = Number.isFinite(ms) && ms > 0 ? ms : 0
    this.c.backoffMs.set({ uplink: uplinkId }, wait)
  }

  /**
   * A backoff that ended, as long as it really lasted, added to the total in seconds. Not the
   * planned wait: a jittered wait may be 0, and a wait for a reconnect lasts until the link is up.
   */
  backoffWaited(uplinkId: string, ms: number): void {
    if (Number.isFinite(ms) && ms > 0) this.c.backoffSeconds.inc({ uplink: uplinkId }, ms / 1000)
  }

  /** Sets (replaces) the store stats callback read at scrape time. */
  observeStore(fn: () => StoreStats): void {
    this.providers.store = fn
  }

  /** Sets (replaces) the uplink health callback read at scrape time. */
  observeUplinks(fn: () => UplinkObservation[]): void {
    this.providers.uplinks = fn
  }

  /** Sets (replaces) the source health callback read at scrape time. */
  observeSources(fn: () => SourceObservation[]): void {
    this.providers.sources = fn
  }

  /**
   * All metrics in Prometheus text format. Rejects only if prom-client itself fails; a throwing
   * observe callback just leaves its gauges empty (and counts `edge_gateway_observe_errors_total`).
   */
  render(): Promise<string> {
    return this.registry.metrics()
  }

  /** Plain totals since construction (not reset by scrapes). Returns fresh objects. */
  snapshot(): MetricsSnapshot {
    const dropped = Object.fromEntries(this.droppedByReason)
    const droppedTotal = Object.values(dropped).reduce((sum, n) => sum + n, 0)
    return { ...this.totals, dropped, droppedTotal }
  }

  private createInstruments() {
    const registers = [this.registry]
    return {
      ingested: new Counter({
        name: 'edge_gateway_events_ingested_total', help: 'Events from sources that were durably stored.',
        labelNames: ['source'], registers,
      }),
      forwarded: new Counter({
        name: 'edge_gateway_events_forwarded_total', help: 'Events confirmed by the uplink peer.',
        labelNames: ['uplink'], registers,
      }),
      dropped: new Counter({
        name: 'edge_gateway_events_dropped_total',
        help: 'Events dropped, by reason; uplink is empty for store-wide drops.',
        labelNames: ['reason', 'uplink'], registers,
      }),
      rejected: new Counter({
        name: 'edge_gateway_input_rejected_total', help: 'Input rejected at the edge (never stored), by reason.',
        labelNames: ['source', 'reason'], registers,
      }),
      retries: new Counter({
        name: 'edge_gateway_send_retries_total', help: 'Failed sends that will be retried, by reason.',
        labelNames: ['uplink', 'reason'], registers,
      }),
      sendDuration: new Histogram({
        name: 'edge_gateway_send_duration_seconds', help: 'Duration of confirmed sends (until PUBACK / sendBatch resolved).',
        labelNames: ['uplink'], registers,
        // Loopback MQTT is milliseconds; Event Hubs over a cellular link can take many seconds.
        buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      }),
      batchEvents: new Histogram({
        name: 'edge_gateway_send_batch_events', help: 'Events per confirmed send.',
        labelNames: ['uplink'], registers, buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000],
      }),
      backoffMs: new Gauge({
        name: 'edge_gateway_uplink_backoff_ms', help: 'Current backoff wait before the next send attempt, ms (0 when none).',
        labelNames: ['uplink'], registers,
      }),
      backoffSeconds: new Counter({
        name: 'edge_gateway_uplink_backoff_seconds_total', help: 'Total time spent in send backoff.',
        labelNames: ['uplink'], registers,
      }),
      salvaged: new Counter({
        name: 'edge_gateway_store_salvaged_total', help: 'Damaged stores salvaged at open: repaired, or moved aside and started empty.',
        labelNames: ['action'], registers,
      }),
    }
  }
}
