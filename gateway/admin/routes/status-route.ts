/** `GET /api/status`: one JSON document with everything `edge-gateway status` and the page show. */
import type { MetricsSnapshot } from '../../telemetry/metrics.js'
import type { StoreStats } from '../../core/types.js'
import type { HealthReport } from '../health.js'
import type { StatusResponse } from './api-types.js'
import type { Rates } from './rate-sampler.js'

export interface StatusInputs {
  gatewayId: string
  version: string
  startedMs: number
  nowMs: number
  health: HealthReport
  stats: StoreStats
  snapshot: MetricsSnapshot
  rates: Rates
  ingestPending: number
  devices: { tracked: number; max: number; evicted: number }
}

/** Pure: assembles the status document from already-read parts. */
export function buildStatus(i: StatusInputs): StatusResponse {
  const { health, stats, snapshot } = i
  const empty = { depth: 0, bytes: 0, oldestAgeMs: 0 }
  return {
    gateway: { id: i.gatewayId, version: i.version, startedMs: i.startedMs, uptimeMs: Math.max(0, i.nowMs - i.startedMs) },
    timeMs: i.nowMs,
    health: { status: health.status, healthy: health.healthy, reasons: health.reasons, warnings: health.warnings },
    pipeline: { running: health.components.pipeline.running, heartbeatAgeMs: health.components.pipeline.heartbeatAgeMs, ingestPending: i.ingestPending },
    sources: health.components.sources,
    uplinks: health.components.uplinks.map((u) => ({ ...u, queue: stats.perUplink[u.id] ?? empty })),
    store: {
      entries: stats.entries, bytes: stats.bytes, maxBytes: stats.maxBytes, oldestAgeMs: stats.oldestAgeMs, deadLetters: stats.deadLetters,
      leftoverClearEntries: stats.leftoverClears.entries, blockedAppends: stats.blockedAppends,
    },
    rates: i.rates,
    totals: { ingested: snapshot.ingested, forwarded: snapshot.forwarded, rejected: snapshot.rejected, sendRetries: snapshot.sendRetries },
    drops: mergeDrops(stats.drops, snapshot.dropped),
    devices: i.devices,
  }
}

/**
 * The store counts its own drops (eviction, expiry, dead letters) and the pipeline counts what it
 * saw (store_full_* from append results, dead_letter, store_error); the same event may be counted
 * by both. Per reason the larger count is the right one: each source misses some, never adds.
 */
export function mergeDrops(store: Record<string, number>, pipeline: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = { ...store }
  for (const [reason, n] of Object.entries(pipeline)) out[reason] = Math.max(out[reason] ?? 0, n)
  return out
}
