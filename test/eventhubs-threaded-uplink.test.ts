/**
 * The Event Hubs uplink with the SDK on its own thread (`thread: worker`, threaded-uplink.ts)
 * against the local AMQP peer: the same contract as on the gateway's loop (confirmed means
 * accepted; refused entries come back as the caller's own objects; failures are classified
 * UplinkErrors), plus what only a thread can do: die, and be replaced on the next send. Stop and
 * cancel run for both thread modes in eventhubs-outage.test.ts.
 */
import type { Worker } from 'node:worker_threads'
import { describe, expect, it, onTestFinished } from 'vitest'
import { GatewayError, UplinkError } from '../gateway/core/errors.js'
import { eventHubsUplinkSchema } from '../gateway/uplink/eventhubs/config.js'
import { ThreadedEventHubsUplink } from '../gateway/uplink/eventhubs/threaded-uplink.js'
import { EventHubsUplink } from '../gateway/uplink/eventhubs/eventhubs-uplink.js'
import { until } from './support/gateway-harness.js'
import { buildEntries, buildEntry } from './support/eh-entries.js'
import { never, sendUntilConfirmed, uplinkFor } from './support/eh-uplink-harness.js'
import { startPeerForTest } from './per-test-resources.js'
import { RecordingLogger } from './support/serial-harness.js'

const MAX_MESSAGE_SIZE = 8 * 1024

async function setup(overrides: Record<string, unknown> = {}) {
  const peer = await startPeerForTest({ maxMessageSize: MAX_MESSAGE_SIZE })
  const uplink = uplinkFor(peer, { ...overrides, thread: 'worker' })
  onTestFinished(() => uplink.stop())
  await uplink.start()
  return { peer, uplink }
}

async function rejection(p: Promise<unknown>): Promise<UplinkError> {
  const err = await p.then(() => undefined, (e: unknown) => e)
  expect(err).toBeInstanceOf(UplinkError)
  return err as UplinkError
}

describe('ThreadedEventHubsUplink (SDK on its own thread)', () => {
  it('confirms what the peer accepted and hands back a refused entry as the caller\'s own object', async () => {
    const { peer, uplink } = await setup()
    const small = buildEntries(20, 2)
    const big = buildEntry({ device: 7, padChars: MAX_MESSAGE_SIZE * 2 })
    const result = await uplink.send([...small.slice(0, 10), big, ...small.slice(10)], never)

    expect(result.rejected).toHaveLength(1)
    expect(result.rejected[0]!.entry).toBe(big)
    expect(result.rejected[0]!.reason).toBe('message_too_large')
    expect(peer.received().map((e) => e.messageId).sort()).toEqual(small.map((e) => e.id).sort())
    for (const ev of peer.received()) expect(ev.partitionKey).toBe(small.find((e) => e.id === ev.messageId)!.source)
    expect(uplink.health()).toEqual({ connected: true })
  })

  it('peer down: a retriable UplinkError and health says so; peer back: nothing lost', async () => {
    const { peer, uplink } = await setup()
    await uplink.send(buildEntries(2, 1), never)
    await peer.kill()
    const entries = buildEntries(6, 3, { firstDevice: 10 })
    const err = await rejection(uplink.send(entries, never))
    expect(err.retriable).toBe(true)
    expect(uplink.health().connected).toBe(false)
    expect(uplink.health().detail).toMatch(/\w+: /)

    await peer.restart()
    await sendUntilConfirmed(uplink, entries)
    expect(peer.received().map((e) => e.messageId)).toEqual(expect.arrayContaining(entries.map((e) => e.id)))
    expect(uplink.health()).toEqual({ connected: true })
  })

  it('a thread that dies fails its sends retriable, and the next send starts a new thread', async () => {
    const { peer, uplink } = await setup({ sendTimeoutMs: 60_000 })
    await uplink.send(buildEntries(1, 1), never)
    peer.stallDeliveries(true)
    const entries = buildEntries(4, 2, { firstDevice: 20 })
    const pending = rejection(uplink.send(entries, never))
    await peer.waitUntil(() => peer.stats().stalledDeliveries > 0)
    // Nothing in the product kills its thread on purpose; a crash in the SDK would look like this.
    await (uplink as unknown as { worker: Worker }).worker.terminate()
    expect(await pending).toMatchObject({ reason: 'uplink_thread_exited', retriable: true })
    expect(uplink.health()).toMatchObject({ connected: false, detail: expect.stringMatching(/thread exited/) })

    peer.stallDeliveries(false)
    await sendUntilConfirmed(uplink, entries)
    expect(peer.received().map((e) => e.messageId)).toEqual(expect.arrayContaining(entries.map((e) => e.id)))
    expect(uplink.health()).toEqual({ connected: true })
  })

  it('the thread logs through the gateway\'s logger, errors as plain fields and no secrets', async () => {
    const peer = await startPeerForTest()
    const log = new RecordingLogger()
    const config = eventHubsUplinkSchema.parse({ type: 'eventhubs', id: 'eh', connectionString: peer.connectionString(), sendTimeoutMs: 2_000, thread: 'worker' })
    const uplink = new ThreadedEventHubsUplink(config, { logger: log, sdkRetryOptions: { retryDelayInMs: 50, maxRetryDelayInMs: 100, maxRetries: 0 } })
    onTestFinished(() => uplink.stop())
    await uplink.start()
    await uplink.send(buildEntries(1, 1), never)
    await peer.kill()
    await rejection(uplink.send(buildEntries(1, 1, { firstDevice: 3 }), never))

    expect(log.lines).toContainEqual(expect.objectContaining({ level: 'info', msg: 'Event Hubs reachable, sends confirmed' }))
    const warning = log.lines.find((l) => l.level === 'warn')
    expect(warning).toMatchObject({ obj: { code: 'GW_ERR_UPLINK_UNAVAILABLE', reason: expect.any(String) } })
    const dump = JSON.stringify(log.lines)
    expect(dump).not.toContain('SharedAccessKey=')
    expect(dump).not.toContain('ZHVtbXk=') // the peer's key
  })

  for (const thread of ['main', 'worker'] as const) {
    it(`health turns "not connected" while sends wait unconfirmed, not only when they fail (thread ${thread})`, async () => {
      const peer = await startPeerForTest()
      const config = eventHubsUplinkSchema.parse({ type: 'eventhubs', id: 'eh', connectionString: peer.connectionString(), sendTimeoutMs: 60_000, thread })
      const uplink = thread === 'worker' ? new ThreadedEventHubsUplink(config, { stallMs: 300 }) : new EventHubsUplink(config, { stallMs: 300 })
      onTestFinished(() => uplink.stop())
      await uplink.start()
      await uplink.send(buildEntries(1, 1), never)
      expect(uplink.health()).toEqual({ connected: true })
      peer.stallDeliveries(true)
      const controller = new AbortController()
      const pending = rejection(uplink.send(buildEntries(2, 1, { firstDevice: 5 }), controller.signal))
      await until(() => !uplink.health().connected, 'health reports the stall')
      expect(uplink.health().detail).toMatch(/^no send confirmed for \d+ s \(1 outstanding\)/)
      controller.abort()
      await pending
      expect(uplink.health()).toEqual({ connected: true }) // nothing outstanding, the link itself is up
    })
  }

  it('connection settings the SDK cannot use fail start() with GW_ERR_CONFIG, as on the main loop', async () => {
    const config = eventHubsUplinkSchema.parse({
      type: 'eventhubs', id: 'bad', thread: 'worker',
      // Passes the schema (sb:// endpoint, entity path) but has no key: the SDK refuses to build a client.
      connectionString: 'Endpoint=sb://127.0.0.1:1/;EntityPath=hub',
    })
    const uplink = new ThreadedEventHubsUplink(config)
    const err = await uplink.start().then(() => undefined, (e: unknown) => e)
    expect(err).toBeInstanceOf(GatewayError)
    expect((err as GatewayError).code).toBe('GW_ERR_CONFIG')
    expect((err as Error).message).toContain('uplink bad')
  })
})
