/**
 * Gauges whose values are read at scrape time from callbacks (store stats, uplink and source
 * health), so the hot path never has to push them. Each gauge is reset before it is refilled:
 * an uplink or source that disappeared, or a source that left a state, leaves no stale series.
 */
import { Counter, Gauge, type Registry } from 'prom-client'
import type { SourceHealth, SourceState, StoreStats, UplinkHealth } from '../core/index.js'

/** One uplink as the metrics and health endpoints see it. */
export interface UplinkObservation {
  id: string
  health: UplinkHealth
}

/** One source as the metrics and health endpoints see it. */
export interface SourceObservation {
  id: string
  type: string
  health: SourceHealth
}

/** The callbacks `GatewayMetrics.observe*` registers; each may be absent (no series emitted). */
export interface ObservedProviders {
  store?: () => StoreStats
  uplinks?: () => UplinkObservation[]
  sources?: () => SourceObservation[]
}

type ProviderName = keyof ObservedProviders

// A Record keyed by SourceState makes the compiler flag this list when core adds a state.
const SOURCE_STATE_SET: Record<SourceState, true> = {
  starting: true, running: true, disconnected: true, unavailable: true, stopped: true, done: true,
}
/** Every SourceState; `edge_gateway_source_up` emits one series per state (1 = current). */
export const SOURCE_STATES = Object.keys(SOURCE_STATE_SET) as SourceState[]

/**
 * Registers the scrape-time gauges on `registry`. A provider that throws does not fail the scrape:
 * its gauges are emitted empty and `edge_gateway_observe_errors_total{provider}` is incremented,
 * so one broken callback cannot hide every other metric.
 */
export function registerObservedGauges(registry: Registry, providers: ObservedProviders): void {
  const registers = [registry]
  // Assigned after the gauges: metrics render in registration order, so the counter placed last
  // already includes the failures of the scrape that reports them.
  let errors!: Counter<'provider'>

  /** Reads a provider for one gauge; undefined when absent or failed (gauge stays reset). */
  function read<K extends ProviderName>(name: K): ReturnType<NonNullable<ObservedProviders[K]>> | undefined {
    const fn = providers[name]
    if (!fn) return undefined
    try {
      return fn() as ReturnType<NonNullable<ObservedProviders[K]>>
    } catch {
      errors.inc({ provider: name })
      return undefined
    }
  }

  function gauge(name: string, help: string, labelNames: string[], fill: (g: Gauge) => void): void {
    const g: Gauge = new Gauge({
      name,
      help,
      labelNames,
      registers,
      collect: () => {
        g.reset()
        // reset() leaves a label-less gauge at 0; remove it so "unknown" is absent, not a false 0.
        if (labelNames.length === 0) g.remove({})
        fill(g)
      },
    })
  }

  registerStoreGauges(gauge, () => read('store'))
  gauge('edge_gateway_uplink_connected', 'Whether the uplink is connected to its peer (0/1).', ['uplink'], (g) => {
    for (const u of read('uplinks') ?? []) g.set({ uplink: u.id }, u.health.connected ? 1 : 0)
  })
  gauge(
    'edge_gateway_source_up',
    'Source state: one series per state, 1 for the current state and 0 for the others.',
    ['source', 'type', 'state'],
    (g) => {
      for (const s of read('sources') ?? []) {
        for (const state of SOURCE_STATES) {
          g.set({ source: s.id, type: s.type, state }, s.health.state === state ? 1 : 0)
        }
      }
    },
  )
  errors = new Counter({
    name: 'edge_gateway_observe_errors_total',
    help: 'Scrape-time callbacks (store, uplinks, sources) that threw; their gauges were left empty.',
    labelNames: ['provider'],
    registers,
  })
}

type GaugeFactory = (name: string, help: string, labelNames: string[], fill: (g: Gauge) => void) => void

function registerStoreGauges(gauge: GaugeFactory, stats: () => StoreStats | undefined): void {
  // Each gauge reads stats() itself: stats() is an in-memory snapshot, and reading it per gauge
  // keeps every gauge correct even when scraped alone (getSingleMetricAsString).
  const perUplink = (pick: (q: StoreStats['perUplink'][string]) => number) => (g: Gauge) => {
    const s = stats()
    if (!s) return
    for (const [uplink, q] of Object.entries(s.perUplink)) g.set({ uplink }, pick(q))
  }
  const scalar = (pick: (s: StoreStats) => number) => (g: Gauge) => {
    const s = stats()
    if (s) g.set(pick(s))
  }
  gauge('edge_gateway_queue_depth', 'Events this uplink has not yet acked.', ['uplink'], perUplink((q) => q.depth))
  gauge('edge_gateway_queue_bytes', 'Stored bytes this uplink has not yet acked.', ['uplink'], perUplink((q) => q.bytes))
  gauge(
    'edge_gateway_queue_oldest_age_seconds',
    'Age of the oldest event this uplink has not yet acked (0 when empty).',
    ['uplink'],
    perUplink((q) => q.oldestAgeMs / 1000),
  )
  gauge('edge_gateway_store_bytes', 'Bytes used by the durable store.', [], scalar((s) => s.bytes))
  gauge('edge_gateway_store_max_bytes', 'Configured store capacity (maxBytes).', [], scalar((s) => s.maxBytes))
  gauge('edge_gateway_store_entries', 'Events held by the durable store.', [], scalar((s) => s.entries))
  gauge('edge_gateway_dead_letters', 'Events held in dead-letter areas.', [], scalar((s) => s.deadLetters))
  gauge(
    'edge_gateway_store_leftover_entries',
    'Acked events still on disk because deleting them failed; retried until it succeeds (at most this many).',
    [],
    scalar((s) => s.leftoverClears.entries),
  )
  gauge(
    'edge_gateway_store_blocked_appends',
    'Appends waiting for room in the store (whenFull=block); their sources are held back.',
    [],
    scalar((s) => s.blockedAppends),
  )
}
