/**
 * Peers, brokers, subscribers, uplinks and gateways started inside one test and torn down when it
 * finishes, passed or failed. vitest runs `onTestFinished` callbacks last-registered first, so
 * teardown is the reverse of start-up (a gateway stops before the broker or peer it talks to),
 * without a module-level `let x | undefined` and an afterEach per resource in every file.
 * Lives in test/, not test/support, because it registers vitest hooks.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { onTestFinished } from 'vitest'
import type { NewEvent } from '../gateway/core/types.js'
import { LevelStore } from '../gateway/store/index.js'
import { buildEntries } from './support/eh-entries.js'
import { collectEvents, type CollectOptions, type Collector } from './support/collector.js'
import { uplinkFor, type AnyEventHubsUplink } from './support/eh-uplink-harness.js'
import { startEventHubsPeer, type EventHubsPeer, type EventHubsPeerOptions } from './support/eventhubs-peer.js'
import { startTestGateway, type TestGateway, type TestGatewayInput } from './support/gateway-harness.js'
import { spawnGateway, type GatewayProcess } from './support/gateway-process.js'
import { startMosquitto, type MosquittoHandle, type MosquittoOptions } from './support/mosquitto.js'

/** A local Event Hubs (AMQP) peer, closed after the test. */
export async function startPeerForTest(opts: EventHubsPeerOptions = {}): Promise<EventHubsPeer> {
  const peer = await startEventHubsPeer(opts)
  onTestFinished(() => peer.close())
  return peer
}

/** A started Event Hubs uplink on `peer` (uplinkFor: short SDK retry delays; `thread` picks which), stopped after the test. */
export async function startUplinkForTest(peer: EventHubsPeer, overrides: Record<string, unknown> = {}): Promise<AnyEventHubsUplink> {
  const uplink = uplinkFor(peer, overrides)
  onTestFinished(() => uplink.stop())
  await uplink.start()
  return uplink
}

/** A fresh peer with a started uplink on it; the uplink stops before the peer closes. */
export async function startPeerWithUplinkForTest(
  peerOpts: EventHubsPeerOptions = {},
  overrides: Record<string, unknown> = {},
): Promise<{ peer: EventHubsPeer; uplink: AnyEventHubsUplink }> {
  const peer = await startPeerForTest(peerOpts)
  return { peer, uplink: await startUplinkForTest(peer, overrides) }
}

/** A real Mosquitto, stopped after the test (stop is idempotent, so a test may stop it first). */
export async function startMosquittoForTest(opts: MosquittoOptions = {}): Promise<MosquittoHandle> {
  const broker = await startMosquitto(opts)
  onTestFinished(() => broker.stop())
  return broker
}

/** A subscriber recording CloudEvents (collector.ts), disconnected after the test. */
export async function collectEventsForTest(url: string, topicFilter: string, opts: CollectOptions = {}): Promise<Collector> {
  const col = await collectEvents(url, topicFilter, opts)
  onTestFinished(() => col.close())
  return col
}

/** An in-process gateway (gateway-harness.ts), stopped and its data dir deleted after the test. */
export async function startTestGatewayForTest(input: TestGatewayInput): Promise<TestGateway> {
  const gw = await startTestGateway(input)
  onTestFinished(() => gw.dispose())
  return gw
}

/**
 * For broker-outage tests: a Mosquitto that keeps sessions and queued QoS 1 messages across
 * stop()/restart(), and a persistent-session MQTT 5 subscriber on `edge/#`. What the gateway
 * publishes after a restart, before the subscriber has reconnected, is queued for it, so the
 * verdict counts only what the gateway lost. Both gone after the test.
 */
export async function startOutageBrokerForTest(clientId: string): Promise<{ broker: MosquittoHandle; col: Collector }> {
  const broker = await startMosquittoForTest({ persistence: true })
  const col = await collectEventsForTest(broker.url, 'edge/#', { protocolVersion: 5, persistentSession: true, clientId })
  return { broker, col }
}

/**
 * The gateway CLI (`run --config`) in a child process, SIGKILLed after the test if still running:
 * a test that fails half-way must not leave a gateway behind to load the machine for the rest of
 * the suite (or a benchmark started after it).
 */
export function spawnGatewayForTest(configPath: string): GatewayProcess {
  const gateway = spawnGateway(configPath)
  onTestFinished(() => gateway.kill('SIGKILL'))
  return gateway
}

/**
 * A real LevelStore in a temporary directory for one uplink, holding `count` events of one device
 * (eh-entries.ts: sequences 1..count), closed and removed after the test.
 */
export async function storeWithEventsForTest(uplinkId: string, count: number): Promise<{ store: LevelStore; events: NewEvent[] }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'eg-store-'))
  const store = new LevelStore({ dir, maxBytes: 1e9, maxAgeMs: 1e12, uplinks: [uplinkId] })
  await store.open()
  onTestFinished(async () => {
    await store.close()
    rmSync(dir, { recursive: true, force: true })
  })
  const events = buildEntries(count, 1).map(({ priority, source, id, json }) => ({ priority, source, id, json }))
  await store.append({ events, counters: new Map() })
  return { store, events }
}
