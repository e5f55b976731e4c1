/**
 * The gateway: one store, one ingest, one forwarder per uplink, the sources, and the admin endpoint.
 *
 * Start order: store (so nothing is accepted before it can be kept) → ingest → uplinks and their
 * forwarders → admin → sources. Stop runs in reverse where it matters for data: sources first (no
 * new readings), ingest flushes what it holds to disk, forwarders get a bounded time to have their
 * in-flight batches confirmed, then the store closes, then the uplinks disconnect.
 * Nothing accepted (append resolved) is lost by a stop; unconfirmed entries are sent after restart.
 */
import path from 'node:path'
import type { Source, Uplink } from '../core/types.js'
import type { Logger } from '../core/observability.js'
import type { GatewayConfig } from '../config/index.js'
import { LevelStore } from '../store/index.js'
import { CloudEventBuilder } from '../events/cloudevent-builder.js'
import { Ingest } from '../pipeline/ingest.js'
import { Forwarder } from '../pipeline/forwarder.js'
import type { GatewayMetrics } from '../telemetry/metrics.js'
import { AdminServer } from '../admin/admin-server.js'
import { evaluateHealth, type HealthReport } from '../admin/health.js'
import { DeviceTracker } from '../admin/device-tracker.js'
import { createAdminApi, type AdminApi } from '../admin/routes/index.js'
import { createSource, createUplink } from './components.js'
import { superviseSource } from './source-supervisor.js'
import { UplinkMonitor } from './uplink-monitor.js'
import { StoreWatch } from './store-watch.js'
import { correctingUplink } from './correcting-uplink.js'

/** Heartbeat age beyond which /healthz calls a pipeline loop stuck: above the uplinks' send timeouts. */
const HEARTBEAT_MAX_AGE_MS = 90_000

export interface GatewayDeps {
  log: Logger
  metrics: GatewayMetrics
  /**
   * Sources built by the caller, run after the configured ones and supervised like them: for fakes
   * injected at the lowest layer (demo, end-to-end tests). Each instance is run by one start(). @default []
   */
  extraSources?: Source[]
}

export interface GatewayStopOptions {
  /** Bound on how long in-flight sends may take to be confirmed. @default 5000 */
  forwarderGraceMs?: number
}

export class Gateway {
  readonly store: LevelStore
  private ingest: Ingest | undefined
  private readonly sources: Source[] = []
  private readonly uplinks: Uplink[] = []
  private readonly forwarders: Forwarder[] = []
  private readonly sourceRuns: Promise<void>[] = []
  private readonly sourcesAbort = new AbortController()
  private admin: AdminServer | undefined
  private adminApi: AdminApi | undefined
  /** Last reading per device (bounded), fed by wrapping the sink the sources push to. */
  private readonly devices = new DeviceTracker()
  private monitor: UplinkMonitor | undefined
  private storeWatch: StoreWatch | undefined
  private running = false
  /** Port the admin endpoint listens on, once started. */
  adminPort: number | undefined

  constructor(
    private readonly config: GatewayConfig,
    private readonly deps: GatewayDeps,
  ) {
    this.store = new LevelStore({
      dir: path.join(config.gateway.dataDir, 'queue'),
      maxBytes: config.store.maxBytes,
      maxAgeMs: config.store.maxAge,
      whenFull: config.store.whenFull,
      minFreeBytes: config.store.minFreeBytes,
      uplinks: config.uplinks.map((u) => u.id),
      log: deps.log.child({ component: 'store' }),
    })
  }

  async start(): Promise<void> {
    const { config, deps } = this
    const log = deps.log
    await this.store.open()
    this.storeWatch = new StoreWatch(this.store, deps.metrics, log.child({ component: 'store-watch' }))
    this.storeWatch.start()
    const builder = new CloudEventBuilder(config.gateway.id, await this.store.counters())
    this.ingest = new Ingest({
      store: this.store,
      builder,
      metrics: deps.metrics,
      log: log.child({ component: 'ingest' }),
      maxPending: config.ingest.maxPending,
      maxChunk: config.ingest.maxChunk,
    })
    this.ingest.start()

    const componentDeps = { gatewayId: config.gateway.id, log, counters: deps.metrics }
    // Each uplink sees events with `time` corrected once an unsynchronized clock has synced.
    for (const uc of config.uplinks) this.uplinks.push(correctingUplink(await createUplink(uc, componentDeps)))
    for (const uplink of this.uplinks) {
      await uplink.start()
      const fwd = new Forwarder({ uplink, store: this.store, metrics: deps.metrics, log: log.child({ component: `forwarder:${uplink.id}` }) })
      fwd.start()
      this.forwarders.push(fwd)
    }
    this.monitor = new UplinkMonitor(this.uplinks)
    this.monitor.start()
    this.observe()
    this.running = true

    if (config.admin.enabled) {
      const { host, username, password } = config.admin
      const adminLog = log.child({ component: 'admin' })
      this.adminApi = createAdminApi({
        gatewayId: config.gateway.id, store: this.store, metrics: deps.metrics, health: () => this.health(), devices: this.devices,
        ingestPending: () => this.pendingIngest, uplinkIds: this.uplinks.map((u) => u.id),
        access: { host, authEnabled: password !== undefined }, log: adminLog,
      })
      const auth = password !== undefined ? { username: username ?? 'admin', password } : undefined
      this.admin = new AdminServer({ listen: config.admin.listen, metrics: deps.metrics, health: () => this.health(), log: adminLog, routes: this.adminApi.routes, auth })
      this.adminApi.start()
      this.adminPort = (await this.admin.start()).port
    }

    for (const sc of config.sources) this.sources.push(await createSource(sc, componentDeps))
    this.sources.push(...(deps.extraSources ?? []))
    const sink = this.devices.wrap(this.ingest)
    for (const source of this.sources) {
      this.sourceRuns.push(superviseSource(source, sink, this.sourcesAbort.signal, log.child({ component: `source:${source.id}` })))
    }
    log.info({ sources: this.sources.length, uplinks: this.uplinks.length, adminPort: this.adminPort }, 'gateway started')
  }

  /**
   * Resolves with a reason when the gateway cannot go on healthily without a process restart (the
   * store must repair itself at the next open). The caller stops and exits non-zero.
   */
  restartNeeded(): Promise<string> {
    return this.storeWatch?.restartNeeded ?? new Promise(() => {})
  }

  /** Resolves when every source has finished on its own (simulators with a `count`). */
  async sourcesDone(): Promise<void> {
    await Promise.all(this.sourceRuns)
  }

  async stop(opts: GatewayStopOptions = {}): Promise<void> {
    const log = this.deps.log
    log.info('gateway stopping')
    this.sourcesAbort.abort()
    await Promise.all(this.sourceRuns)
    await this.ingest?.stop()
    await Promise.all(this.forwarders.map((f) => f.stop(opts.forwarderGraceMs ?? 5000)))
    this.running = false
    this.monitor?.stop()
    this.storeWatch?.stop()
    this.adminApi?.stop()
    await this.admin?.stop()
    await this.store.close()
    await Promise.all(this.uplinks.map((u) => u.stop()))
    log.info('gateway stopped')
  }

  health(): HealthReport {
    const now = performance.now()
    return evaluateHealth(
      {
        pipelineRunning: this.running,
        storeOpen: this.running,
        heartbeatAgeMs: this.heartbeatAgeMs(),
      sources: this.sources.map((s) => ({ id: s.id, type: s.type, health: s.health() })),
        uplinks: this.uplinks.map((u) => ({ id: u.id, health: u.health(), disconnectedForMs: this.monitor?.disconnectedForMs(u.id, now) ?? 0 })),
      },
      // A forwarder may legitimately wait out one send timeout (30 s by default) without a beat.
      { heartbeatMaxAgeMs: HEARTBEAT_MAX_AGE_MS },
    )
  }

  /** Oldest heartbeat of the pipeline loops, for the systemd watchdog. */
  heartbeatAgeMs(): number {
    // Heartbeats are monotonic (performance.now()): a wall-clock jump must not look like a hang.
    const now = performance.now()
    const beats = [this.ingest?.lastHeartbeatMs ?? now, ...this.forwarders.map((f) => f.lastHeartbeatMs)]
    return now - Math.min(...beats)
  }

  get pendingIngest(): number {
    return this.ingest?.pending ?? 0
  }

  private observe(): void {
    const { metrics } = this.deps
    metrics.observeStore(() => this.store.stats())
    metrics.observeUplinks(() => this.uplinks.map((u) => ({ id: u.id, health: u.health() })))
    metrics.observeSources(() => this.sources.map((s) => ({ id: s.id, type: s.type, health: s.health() })))
  }
}
