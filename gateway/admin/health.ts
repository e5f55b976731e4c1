/**
 * What `/healthz` answers, as a pure function of the gateway's state, so every rule is unit-tested
 * without a running gateway.
 *
 * Rules (a reason always names its component):
 * - unhealthy (HTTP 503): the pipeline is not running; the store is closed; the oldest ingest or
 *   forwarder heartbeat is older than `heartbeatMaxAgeMs` (a loop is stuck); an uplink has been
 *   disconnected for longer than `uplinkGraceMs`.
 * - degraded (HTTP 200, `status: 'degraded'`, listed in `warnings`): a source is `disconnected`,
 *   `unavailable` (e.g. no Bluetooth adapter) or `stopped`; an uplink is disconnected but still
 *   within its grace. The rest of the gateway keeps working, and restarting the process would not
 *   bring missing hardware back, so a supervisor must not restart it for these.
 * - ok otherwise (`starting`, `running` and `done` sources are fine).
 *
 * Note: a long uplink outage is "unhealthy" for alerting, but events are safe on disk meanwhile;
 * whoever restarts on 503 (a container HEALTHCHECK) should expect a restart not to fix a network.
 */
import type { SourceHealth, SourceState, UplinkHealth } from '../core/index.js'

export type HealthStatus = 'ok' | 'degraded' | 'unhealthy'

export interface SourceHealthInput {
  id: string
  type: string
  health: SourceHealth
}

export interface UplinkHealthInput {
  id: string
  health: UplinkHealth
  /** How long the uplink has been continuously disconnected; 0 when connected. */
  disconnectedForMs: number
}

export interface HealthInput {
  pipelineRunning: boolean
  storeOpen: boolean
  sources: SourceHealthInput[]
  uplinks: UplinkHealthInput[]
  /** Age of the oldest ingest/forwarder heartbeat; omitted = not checked (e.g. before start). */
  heartbeatAgeMs?: number
}

export interface HealthThresholds {
  /** A pipeline loop whose heartbeat is older than this is considered stuck. @default 30_000 */
  heartbeatMaxAgeMs?: number
  /** How long an uplink may be disconnected before the gateway is unhealthy. @default 60_000 */
  uplinkGraceMs?: number
}

export interface HealthReport {
  status: HealthStatus
  /** False exactly when `status` is `unhealthy` (HTTP 503). */
  healthy: boolean
  /** Why the gateway is unhealthy; empty otherwise. */
  reasons: string[]
  /** Why the gateway is degraded (it still answers 200). */
  warnings: string[]
  components: {
    pipeline: { running: boolean; heartbeatAgeMs?: number }
    store: { open: boolean }
    sources: Array<{ id: string; type: string; state: SourceState; detail?: string }>
    uplinks: Array<{ id: string; connected: boolean; disconnectedForMs: number; detail?: string }>
  }
}

/** Source states that degrade the gateway (reported, never 503). */
const DEGRADED_SOURCE_STATES: ReadonlySet<SourceState> = new Set(['disconnected', 'unavailable', 'stopped'])

const seconds = (ms: number): string => `${Math.round(ms / 1000)} s`
const withDetail = (text: string, detail?: string): string => (detail ? `${text}: ${detail}` : text)

/** Applies the rules above. Pure and total: never throws, does not read the clock. */
export function evaluateHealth(input: HealthInput, thresholds: HealthThresholds = {}): HealthReport {
  const heartbeatMaxAgeMs = thresholds.heartbeatMaxAgeMs ?? 30_000
  const uplinkGraceMs = thresholds.uplinkGraceMs ?? 60_000
  const reasons: string[] = []
  const warnings: string[] = []

  if (!input.pipelineRunning) reasons.push('pipeline: not running')
  if (!input.storeOpen) reasons.push('store: closed')
  if (input.heartbeatAgeMs !== undefined && input.heartbeatAgeMs > heartbeatMaxAgeMs) {
    reasons.push(`pipeline: heartbeat ${seconds(input.heartbeatAgeMs)} old (limit ${seconds(heartbeatMaxAgeMs)})`)
  }
  for (const u of input.uplinks) {
    if (u.health.connected) continue
    const text = withDetail(`uplink ${u.id}: disconnected for ${seconds(u.disconnectedForMs)}`, u.health.detail)
    if (u.disconnectedForMs > uplinkGraceMs) reasons.push(`${text} (grace ${seconds(uplinkGraceMs)})`)
    else warnings.push(text)
  }
  for (const s of input.sources) {
    if (DEGRADED_SOURCE_STATES.has(s.health.state)) {
      warnings.push(withDetail(`source ${s.id} (${s.type}): ${s.health.state}`, s.health.detail))
    }
  }

  const status: HealthStatus = reasons.length > 0 ? 'unhealthy' : warnings.length > 0 ? 'degraded' : 'ok'
  return {
    status,
    healthy: status !== 'unhealthy',
    reasons,
    warnings,
    components: {
      pipeline: { running: input.pipelineRunning, heartbeatAgeMs: input.heartbeatAgeMs },
      store: { open: input.storeOpen },
      sources: input.sources.map((s) => ({ id: s.id, type: s.type, state: s.health.state, detail: s.health.detail })),
      uplinks: input.uplinks.map((u) => ({
        id: u.id, connected: u.health.connected, disconnectedForMs: u.disconnectedForMs, detail: u.health.detail,
      })),
    },
  }
}
