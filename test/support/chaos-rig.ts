/**
 * The bench every chaos scenario stands on: a temp dir, a real Mosquitto (persistence on, so a
 * broker restart loses nothing it had acknowledged), a persistent-session MQTT subscriber that
 * collects what arrives, optionally the Event Hubs test peer, a fixed admin port, the config
 * file, and the gateway child processes. `dispose()` kills and removes everything.
 *
 * Delivery is judged at the receivers against what the gateway made durable: after the last run
 * stopped, the store is opened read-back in a child process (`storedCounters`) for each source's last CloudEvent
 * sequence, which is written in the same db.batch as the events (gateway/store/level-store.ts).
 * So a lost TAIL is caught too, not only gaps.
 *
 * Receiver-side caveats made explicit:
 * - Mosquitto runs with `max_queued_messages 0` (no limit) so messages queued for the subscriber
 *   while it reconnects are never dropped by the broker, and with persistence so SIGTERM
 *   (`broker.stop()`) keeps them. SIGKILL of the broker can lose what it acknowledged but had not
 *   saved: that would be the broker's loss, not the gateway's, so outages use stop().
 *
 * No vitest import: compiled with the build (tsconfig.build.json includes test/support).
 */
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { readStoreInChild, type StoredState } from './chaos-read-counters.js'
import { collectEvents, type Collector } from './collector.js'
import { startEventHubsPeer, type EventHubsPeer } from './eventhubs-peer.js'
import { asCloudEvent } from './eh-verdict.js'
import { freePort, startMosquitto, type MosquittoHandle } from './mosquitto.js'
import { AdminClient, metric, startGatewayProcess, writeGatewayConfig, type AdminSnapshot, type GatewayProcess } from './chaos-gateway.js'
import { judge, type Receipt, type ReceiverVerdict } from './chaos-verdict.js'

export const MQTT_UPLINK = 'mqtt'
/** Logged by the forwarder when its loop dies (gateway/pipeline/forwarder.ts): no drain will follow. */
const CRASHED = 'forwarder loop crashed'
export const EH_UPLINK = 'eh'

export interface RigOptions {
  /** Start Mosquitto and the subscriber. @default true */
  mqtt?: boolean
  /** Start the Event Hubs peer. @default false */
  eventhubs?: boolean
  /** Where the gateway keeps its data (e.g. a tmpfs mount); default `<rig dir>/data`. */
  dataDir?: string
  /** Prefix of the temp dir. @default 'eg-chaos-' */
  prefix?: string
}

export interface RigConfigInput {
  gatewayId?: string
  sources: object[]
  /** MQTT uplink overrides (`false`: no MQTT uplink even though the rig has a broker). */
  mqtt?: Record<string, unknown> | false
  /** Event Hubs uplink overrides (used when the rig has a peer). */
  eventhubs?: Record<string, unknown>
  store?: Record<string, unknown>
  ingest?: Record<string, unknown>
  /** @default 'warn' */
  logLevel?: string
}

/**
 * MQTT uplink defaults for chaos runs: a small window so duplicates stay countable, a short
 * reconnect cap so recovery after a long outage is not a random 0-30 s backoff draw.
 */
export const MQTT_DEFAULTS = {
  maxEvents: 50, maxInFlight: 4, lingerMs: 5, reconnectMaxMs: 2000, connectTimeoutMs: 3000, ackTimeoutMs: 10_000, keepaliveSec: 5,
}
export const EH_DEFAULTS = { maxEvents: 100, maxInFlight: 4, lingerMs: 10, sendTimeoutMs: 6000, retryMaxMs: 2000 }

export interface ChaosRig {
  readonly dir: string
  readonly dataDir: string
  readonly adminPort: number
  readonly admin: AdminClient
  readonly broker: MosquittoHandle | undefined
  readonly collector: Collector | undefined
  readonly peer: EventHubsPeer | undefined
  readonly configPath: string
  /** Uplink ids of the current config. */
  uplinkIds(): string[]
  /** Parameters of the current config's uplinks (for the duplicate bound). */
  windowOf(uplink: string): { maxEvents: number; maxInFlight: number }
  writeConfig(input: RigConfigInput): string
  startGateway(label: string, env?: Record<string, string>): GatewayProcess
  /** What each receiver got so far, by receiver name (`mqtt`, `eh`). */
  receipts(): Map<string, Receipt[]>
  /** Distinct (source, sequence) pairs per receiver. */
  distinct(): Map<string, number>
  /**
   * Waits (admin polling) until every source is `done` (unless `sourcesDone` is false), ingest
   * holds nothing uncommitted and every uplink queue is empty. Gives up early when the gateway logged that a pipeline loop crashed.
   */
  waitDrained(gw: GatewayProcess, timeoutMs: number, sourcesDone?: boolean): Promise<AdminSnapshot>
  /**
   * Waits until every receiver holds every expected (source, sequence) but `allowedMissing`
   * (counted drops), or timeoutMs; never throws (the verdict then shows the loss). Resolves with
   * whether it completed.
   */
  waitReceived(expected: ReadonlyMap<string, number>, timeoutMs: number, allowedMissing?: number): Promise<boolean>
  /** The store's per-source sequence counters; the gateway must be stopped (LevelDB LOCK). */
  storedCounters(): Promise<Map<string, number>>
  /** Counters and, per uplink, the events still queued (`source#sequence`); gateway stopped. */
  storedState(): Promise<StoredState>
  /** Verdict per receiver; `held` (per uplink id = receiver name) are still queued, not lost. */
  judge(expected: ReadonlyMap<string, number>, held?: ReadonlyMap<string, ReadonlySet<string>>): ReceiverVerdict[]
  /** SIGKILLs this rig's gateways that are still running (not other rigs' ones). */
  killGateways(): Promise<void>
  dispose(): Promise<void>
}

export async function startChaosRig(opts: RigOptions = {}): Promise<ChaosRig> {
  const dir = mkdtempSync(path.join(os.tmpdir(), opts.prefix ?? 'eg-chaos-'))
  const dataDir = opts.dataDir ?? path.join(dir, 'data')
  const configPath = path.join(dir, 'config.yaml')
  const adminPort = await freePort()
  const admin = new AdminClient(adminPort)
  let broker: MosquittoHandle | undefined
  let collector: Collector | undefined
  let peer: EventHubsPeer | undefined
  let current: RigConfigInput | undefined
  const windows = new Map<string, { maxEvents: number; maxInFlight: number }>()
  const disposers: Array<() => Promise<void>> = []
  const gateways: GatewayProcess[] = []
  try {
    if (opts.mqtt ?? true) {
      broker = await startMosquitto({ persistence: true, extraConfig: 'max_queued_messages 0\nmax_inflight_messages 0' })
      disposers.push(() => broker!.kill())
      collector = await collectEvents(broker.url, 'edge/#', { protocolVersion: 5, persistentSession: true, clientId: `chaos-sub-${process.pid}-${adminPort}` })
      disposers.push(() => collector!.close().catch(() => undefined))
    }
    if (opts.eventhubs) {
      peer = await startEventHubsPeer({ maxMessageSize: 256 * 1024 })
      disposers.push(() => peer!.close())
    }
  } catch (err) {
    for (const d of disposers.reverse()) await d()
    rmSync(dir, { recursive: true, force: true })
    throw err
  }

  const uplinkIds = (): string[] => [...windows.keys()]

  const rig: ChaosRig = {
    dir, dataDir, adminPort, admin, broker, collector, peer, configPath,
    uplinkIds,
    windowOf: (uplink) => windows.get(uplink) ?? { maxEvents: 0, maxInFlight: 0 },
    writeConfig(input) {
      current = input
      windows.clear()
      const uplinks: object[] = []
      if (broker && input.mqtt !== false) {
        const u = { type: 'mqtt', id: MQTT_UPLINK, url: broker.url, ...MQTT_DEFAULTS, ...(input.mqtt ?? {}) }
        windows.set(MQTT_UPLINK, { maxEvents: u.maxEvents as number, maxInFlight: u.maxInFlight as number })
        uplinks.push(u)
      }
      if (peer) {
        const u = { type: 'eventhubs', id: EH_UPLINK, connectionString: peer.connectionString(), ...EH_DEFAULTS, ...(input.eventhubs ?? {}) }
        windows.set(EH_UPLINK, { maxEvents: u.maxEvents as number, maxInFlight: u.maxInFlight as number })
        uplinks.push(u)
      }
      return writeGatewayConfig(configPath, {
        gateway: { id: input.gatewayId ?? 'gw-chaos', dataDir },
        ...(input.store ? { store: input.store } : {}),
        ...(input.ingest ? { ingest: input.ingest } : {}),
        sources: input.sources,
        uplinks,
        admin: { listen: `127.0.0.1:${adminPort}` },
        log: { level: input.logLevel ?? 'warn' },
      })
    },
    startGateway(label, env) {
      if (!current) throw new Error('chaos rig: writeConfig() before startGateway()')
      const gw = startGatewayProcess({ configPath, label, env })
      gateways.push(gw)
      return gw
    },
    receipts() {
      const m = new Map<string, Receipt[]>()
      if (collector && windows.has(MQTT_UPLINK)) m.set(MQTT_UPLINK, collector.events.map((e) => ({ source: e.source, sequence: e.sequence, id: e.id, timeMs: Date.parse(String(e.event.time)) })))
      if (peer && windows.has(EH_UPLINK)) {
        m.set(EH_UPLINK, peer.received().map((e) => {
          const ce = asCloudEvent(e)
          const time = e.applicationProperties['cloudEvents_time'] ?? e.applicationProperties['cloudEvents:time']
          return { source: ce.source, sequence: ce.sequence, id: ce.id, timeMs: time instanceof Date ? time.getTime() : Date.parse(String(time)) }
        }))
      }
      return m
    },
    distinct() {
      const out = new Map<string, number>()
      for (const [name, list] of rig.receipts()) out.set(name, new Set(list.map((r) => `${r.source}#${r.sequence}`)).size)
      return out
    },
    waitDrained(gw, timeoutMs, sourcesDone = true) {
      return admin.waitFor(
        (s) => {
          const sources = s.health?.components?.sources ?? []
          if (sourcesDone && (sources.length === 0 || !sources.every((x) => x.state === 'done'))) return false
          // A source is `done` once ingest took its readings, not once they are stored.
          if (s.ingestPending !== undefined && s.ingestPending > 0) return false
          return uplinkIds().every((u) => s.metrics.includes(`edge_gateway_queue_depth{uplink="${u}"} 0\n`))
        },
        timeoutMs, `${sourcesDone ? 'sources done and ' : ''}every uplink queue empty`,
        { gateway: gw, intervalMs: 200, giveUp: () => (gw.errors().has(CRASHED) ? `the gateway logged "${CRASHED}" (${gw.errors().get(CRASHED)!.err})` : undefined) },
      )
    },
    async waitReceived(expected, timeoutMs, allowedMissing = 0) {
      const complete = (): boolean => rig.judge(expected).every((v) => v.total.lost <= allowedMissing)
      const waits: Promise<unknown>[] = []
      if (collector && windows.has(MQTT_UPLINK)) waits.push(collector.waitFor(() => complete(), timeoutMs))
      if (peer && windows.has(EH_UPLINK)) waits.push(peer.waitUntil(() => complete(), timeoutMs))
      const results = await Promise.allSettled(waits)
      return results.every((r) => r.status === 'fulfilled') && complete()
    },
    async storedCounters() {
      return (await rig.storedState()).counters
    },
    storedState() {
      return readStoreInChild(path.join(dataDir, 'queue'), uplinkIds())
    },
    judge(expected, held) {
      return [...rig.receipts()].map(([name, list]) => judge(name, list, expected, held?.get(name)))
    },
    async killGateways() {
      await Promise.all(gateways.map((g) => g.kill9()))
    },
    async dispose() {
      await rig.killGateways()
      for (const d of disposers.reverse()) await d().catch(() => undefined)
      rmSync(dir, { recursive: true, force: true })
    },
  }
  return rig
}

/** Queue depth of an uplink from /metrics text (0 when absent). */
export function queueDepth(metrics: string, uplink: string): number {
  return metric(metrics, `edge_gateway_queue_depth{uplink="${uplink}"}`)
}

/** A store-wide drop counter from /metrics text. */
export function dropped(metrics: string, reason: string, uplink = ''): number {
  return metric(metrics, `edge_gateway_events_dropped_total{reason="${reason}",uplink="${uplink}"}`)
}

/** Events ingested (durably stored) for one source id. */
export function ingested(metrics: string, sourceId: string): number {
  return metric(metrics, `edge_gateway_events_ingested_total{source="${sourceId}"}`)
}
