/**
 * Hot reload (SIGHUP) and the one running Gateway it swaps.
 *
 * Invariants:
 * - The new file is read and validated completely before anything is touched. An invalid file is
 *   refused with every `path: message` logged, and the running gateway is not disturbed at all.
 * - A valid, changed config swaps the whole Gateway: the old one stops gracefully (sources stop,
 *   ingest commits what it holds, forwarders get their grace for in-flight batches, the store
 *   closes), then a new one opens the same store and starts. Everything accepted was on disk
 *   before the old store closed, and un-acked entries are sent by the new forwarders, so nothing
 *   accepted is lost (a stop never deletes un-acked entries). A swap of the whole gateway is
 *   simpler to get right than patching components in place, and takes a second or two.
 * - If the new config cannot start (port taken, store unusable), the previous config is started
 *   again; if even that fails, `reload` throws and the process must exit (systemd restarts it).
 * - Change descriptions name sections, keys and component ids, never values (secrets).
 * Not reloaded: the environment (`${env:NAME}` resolves against the environment the process
 * started with; systemd reads EnvironmentFile= only on start) and `log.pretty` (the log sink).
 */
import { isDeepStrictEqual } from 'node:util'
import { ConfigError, formatIssue, loadConfig, type GatewayConfig } from '../config/index.js'
import type { GatewayLogger } from '../telemetry/logger.js'
import type { GatewayMetrics } from '../telemetry/metrics.js'
import { Gateway } from './gateway.js'

/** The outcome of one reload request. */
export type ReloadOutcome =
  | { result: 'refused'; problems: string[] }
  | { result: 'unchanged' }
  | { result: 'applied'; changes: string[] }
  | { result: 'rolled_back'; changes: string[]; error: unknown }

export interface GatewayHostOptions {
  /** The root logger; its level follows `log.level` of each applied config. */
  log: GatewayLogger
  /** Shared by every Gateway of this process, so counters run on across reloads. */
  metrics: GatewayMetrics
  /** Hook for tests. @default new Gateway(config, deps) */
  createGateway?: (config: GatewayConfig, deps: { log: GatewayLogger; metrics: GatewayMetrics }) => Gateway
}

/** Runs one Gateway at a time and swaps it for a new config. Not re-entrant: await each call. */
export class GatewayHost {
  private running: { config: GatewayConfig; gateway: Gateway } | undefined
  private swapStartedMs: number | undefined

  constructor(private readonly opts: GatewayHostOptions) {}

  /** The config in effect (the last one that started). */
  get config(): GatewayConfig | undefined {
    return this.running?.config
  }

  get gateway(): Gateway | undefined {
    return this.running?.gateway
  }

  /** Starts a gateway for `config`. On failure stops what was started and rethrows. */
  async start(config: GatewayConfig): Promise<Gateway> {
    const { log, metrics } = this.opts
    log.level = config.log.level
    const gateway = this.opts.createGateway?.(config, { log, metrics }) ?? new Gateway(config, { log, metrics })
    try {
      await gateway.start()
    } catch (err) {
      await gateway.stop().catch((stopErr: unknown) => log.warn({ err: stopErr }, 'stopping a gateway that failed to start failed too'))
      throw err
    }
    this.running = { config, gateway }
    return gateway
  }

  /** Stops the running gateway (if any). */
  async stop(): Promise<void> {
    const running = this.running
    this.running = undefined
    await running?.gateway.stop()
  }

  /**
   * Age of the oldest pipeline heartbeat, for the watchdog. While a reload swaps gateways, the
   * time since the swap began: a swap that hangs for a whole watchdog interval is a hung process.
   */
  heartbeatAgeMs(): number {
    if (this.swapStartedMs !== undefined) return performance.now() - this.swapStartedMs
    return this.running?.gateway.heartbeatAgeMs() ?? 0
  }

  /** One line for `systemctl status` (STATUS=). */
  statusText(): string {
    const running = this.running
    if (this.swapStartedMs !== undefined) return 'reloading configuration'
    if (!running) return 'stopped'
    const snap = this.opts.metrics.snapshot()
    const stats = running.gateway.store.stats()
    const queued = Math.max(0, ...Object.values(stats.perUplink).map((q) => q.depth))
    const { sources, uplinks } = running.config
    return (
      `running: ${sources.length} source${sources.length === 1 ? '' : 's'}, ${uplinks.length} uplink${uplinks.length === 1 ? '' : 's'}` +
      ` | in ${snap.ingested} | forwarded ${snap.forwarded} | queued ${queued} | dropped ${snap.droppedTotal}`
    )
  }

  /**
   * Re-reads `configPath` and applies it. Refuses an invalid file (every problem logged), does
   * nothing for an identical one, otherwise swaps the gateway (see the design block).
   * @throws only when neither the new nor the previous config could be started.
   */
  async reload(configPath: string, env: NodeJS.ProcessEnv = process.env): Promise<ReloadOutcome> {
    const { log } = this.opts
    const previous = this.running?.config
    if (!previous) throw new Error('reload: no gateway is running')
    let next: GatewayConfig
    try {
      next = loadConfig(configPath, env)
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err
      const problems = err.issues.map(formatIssue)
      log.error(
        { code: 'GW_ERR_CONFIG', file: configPath, problems },
        `config reload refused: ${problems.length} problem${problems.length === 1 ? '' : 's'} in ${configPath}; still running the previous config: ${problems.join('; ')}`,
      )
      return { result: 'refused', problems }
    }
    const changes = describeConfigChanges(previous, next)
    if (changes.length === 0) {
      log.info({ file: configPath }, 'config reload: no changes')
      return { result: 'unchanged' }
    }
    log.info({ file: configPath, changes }, `config changed (${changes.join('; ')}); restarting the gateway with it`)
    if (next.log.pretty !== previous.log.pretty) log.warn('log.pretty changes take effect after a restart of the service')
    if (next.gateway.dataDir !== previous.gateway.dataDir) {
      log.warn({ from: previous.gateway.dataDir, to: next.gateway.dataDir }, 'gateway.dataDir changed: events still queued in the old directory are sent only when it is configured again')
    }
    return this.swap(previous, next, changes)
  }

  private async swap(previous: GatewayConfig, next: GatewayConfig, changes: string[]): Promise<ReloadOutcome> {
    const { log } = this.opts
    this.swapStartedMs = performance.now()
    try {
      await this.stop()
      try {
        await this.start(next)
        log.info({ changes }, 'config reloaded')
        return { result: 'applied', changes }
      } catch (error) {
        log.error({ err: error }, 'the new config could not start; starting the previous config again')
        await this.start(previous)
        log.warn({ changes }, 'config reload rolled back: running the previous config')
        return { result: 'rolled_back', changes, error }
      }
    } finally {
      this.swapStartedMs = undefined
    }
  }
}

const SECTIONS = ['gateway', 'store', 'ingest', 'admin', 'log'] as const
const LISTS = ['sources', 'uplinks'] as const

/**
 * What changed between two configs, at a high level: `store: maxBytes, whenFull changed`,
 * `sources: added sim-b; removed sim-a; changed gps`. Names keys and ids only, never values.
 * Empty when the configs are equal.
 */
export function describeConfigChanges(prev: GatewayConfig, next: GatewayConfig): string[] {
  const out: string[] = []
  for (const section of SECTIONS) {
    const a = prev[section] as Record<string, unknown>
    const b = next[section] as Record<string, unknown>
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((k) => !isDeepStrictEqual(a[k], b[k]))
    if (keys.length > 0) out.push(`${section}: ${keys.join(', ')} changed`)
  }
  for (const list of LISTS) {
    const a = new Map<string, unknown>(prev[list].map((c) => [c.id, c]))
    const b = new Map<string, unknown>(next[list].map((c) => [c.id, c]))
    const parts: string[] = []
    const added = [...b.keys()].filter((id) => !a.has(id))
    const removed = [...a.keys()].filter((id) => !b.has(id))
    const changed = [...b.keys()].filter((id) => a.has(id) && !isDeepStrictEqual(a.get(id), b.get(id)))
    if (added.length > 0) parts.push(`added ${added.join(', ')}`)
    if (removed.length > 0) parts.push(`removed ${removed.join(', ')}`)
    if (changed.length > 0) parts.push(`changed ${changed.join(', ')}`)
    if (parts.length === 0 && !isDeepStrictEqual(prev[list], next[list])) parts.push('order changed')
    if (parts.length > 0) out.push(`${list}: ${parts.join('; ')}`)
  }
  return out
}
