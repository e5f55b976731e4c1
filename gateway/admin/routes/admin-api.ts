/**
 * The admin API and status page as AdminServer routes, plus the rate sampler they need.
 *
 *   GET  /                       live status page (see ../page/)
 *   GET  /api/status             sources, uplinks, queues, rates, drops (StatusResponse)
 *   GET  /api/devices            each device's last reading and its age (DevicesResponse)
 *   GET  /api/queue/peek, /api/queue/dead-letters, POST /api/queue/requeue, /api/queue/purge
 *
 * Lifecycle: `start()` begins rate sampling (a 1 s unref'd timer), `stop()` ends it; the routes
 * keep answering either way. Failure semantics: handlers throw AdminHttpError for client errors
 * (400 bad parameter, 403 Host/CSRF, 404 unknown uplink); a store error (e.g. closed during
 * shutdown) becomes the server's 500.
 */
import type { Logger } from '../../core/observability.js'
import type { MetricsSnapshot } from '../../telemetry/metrics.js'
import type { StoreStats } from '../../core/types.js'
import { packageVersion } from '../../cli/version.js'
import { json, type AdminRoutes } from '../admin-http.js'
import type { DeviceTracker } from '../device-tracker.js'
import type { HealthReport } from '../health.js'
import type { DevicesResponse } from './api-types.js'
import { pageRoutes } from './page-routes.js'
import { queueRoutes, type QueueStore } from './queue-routes.js'
import { RateSampler } from './rate-sampler.js'
import { guarded, type AccessPolicy } from './request-guard.js'
import { buildStatus } from './status-route.js'

export interface AdminApiDeps {
  gatewayId: string
  store: Omit<QueueStore, 'stats'> & { stats(): StoreStats }
  metrics: { snapshot(): MetricsSnapshot }
  health: () => HealthReport
  devices: Pick<DeviceTracker, 'list' | 'size' | 'capacity' | 'evicted'>
  /** Readings admitted by ingest but not yet committed. */
  ingestPending: () => number
  uplinkIds: readonly string[]
  access: AccessPolicy
  log: Logger
  /** @default Date.now */
  now?: () => number
}

export interface AdminApi {
  routes: AdminRoutes
  start(): void
  stop(): void
}

export function createAdminApi(d: AdminApiDeps): AdminApi {
  const now = d.now ?? Date.now
  const startedMs = now()
  const version = packageVersion()
  const rates = new RateSampler(() => d.metrics.snapshot(), { now })
  const status = guarded(d.access, () =>
    json(200, buildStatus({
      gatewayId: d.gatewayId,
      version,
      startedMs,
      nowMs: now(),
      health: d.health(),
      stats: d.store.stats(),
      snapshot: d.metrics.snapshot(),
      rates: rates.rates(),
      ingestPending: d.ingestPending(),
      devices: { tracked: d.devices.size, max: d.devices.capacity, evicted: d.devices.evicted },
    })),
  )
  const devices = guarded(d.access, () => {
    const body: DevicesResponse = { timeMs: now(), max: d.devices.capacity, evicted: d.devices.evicted, devices: d.devices.list() }
    return json(200, body)
  })
  const audit = (action: 'requeue' | 'purge', uplink: string, count: number): void =>
    d.log.info({ action, uplink, count }, `admin: ${action} of dead letters`)
  return {
    routes: {
      ...pageRoutes(d.access),
      '/api/status': { GET: status },
      '/api/devices': { GET: devices },
      ...queueRoutes({ store: d.store, uplinkIds: d.uplinkIds, access: d.access, audit, now }),
    },
    start: () => rates.start(),
    stop: () => rates.stop(),
  }
}
