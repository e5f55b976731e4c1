/**
 * JSON bodies of the admin API (`/api/...`). The operator CLI and the status page read these;
 * fields are only ever added, never renamed, so an older CLI keeps working with a newer daemon.
 * Times are ms since epoch (`…Ms` suffix on instants) or ms spans (`…Ms` on ages/durations).
 */
import type { Priority, QueueStats, SourceState } from '../../core/types.js'
import type { HealthStatus } from '../health.js'
import type { DeviceSnapshot } from '../device-tracker.js'
import type { Rates } from './rate-sampler.js'

export interface StatusResponse {
  gateway: { id: string; version: string; startedMs: number; uptimeMs: number }
  timeMs: number
  health: { status: HealthStatus; healthy: boolean; reasons: string[]; warnings: string[] }
  pipeline: { running: boolean; heartbeatAgeMs?: number; ingestPending: number }
  sources: Array<{ id: string; type: string; state: SourceState; detail?: string }>
  uplinks: Array<{ id: string; connected: boolean; disconnectedForMs: number; detail?: string; queue: QueueStats }>
  /**
   * `leftoverClearEntries`: acked entries still on disk because deleting them failed (retried);
   * `blockedAppends`: appends waiting for room (whenFull=block), their sources held back.
   */
  store: { entries: number; bytes: number; maxBytes: number; oldestAgeMs: number; deadLetters: number; leftoverClearEntries: number; blockedAppends: number }
  rates: Rates
  totals: { ingested: number; forwarded: number; rejected: number; sendRetries: number }
  /** Dropped events by reason since start (store-wide reasons always present, 0 when none). */
  drops: Record<string, number>
  devices: { tracked: number; max: number; evicted: number }
}

/** A stored entry as the queue routes show it. */
export interface EntryView {
  offset: number
  priority: Priority
  /** CloudEvent source. */
  source: string
  /** CloudEvent id. */
  id: string
  /** CloudEvent type, when the stored JSON could be read. */
  type?: string
  appendedMs: number
  ageMs: number
  sizeBytes: number
  /** The CloudEvent, when at most EVENT_VIEW_MAX_BYTES; else omitted and `truncated: true`. */
  event?: unknown
  truncated?: boolean
}

export interface PeekResponse {
  uplinks: Array<{ uplink: string; depth: number; entries: EntryView[] }>
}

export interface DeadLetterView {
  reason: string
  message: string
  deadLetteredMs: number
  ageMs: number
  entry: EntryView
}

export interface DeadLettersResponse {
  /** Dead letters in the store over all uplinks. */
  total: number
  uplinks: Array<{ uplink: string; deadLetters: DeadLetterView[] }>
}

export interface RequeueResponse {
  uplink: string
  requeued: number
}

export interface PurgeResponse {
  uplink: string
  purged: number
}

export interface DevicesResponse {
  timeMs: number
  max: number
  evicted: number
  devices: DeviceSnapshot[]
}

/** Error body of every non-2xx answer. */
export interface ApiErrorBody {
  error: string
  message?: string
}
