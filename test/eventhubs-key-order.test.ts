/**
 * Order per partition key ACROSS concurrent send() calls (the forwarder keeps maxInFlight sends
 * outstanding), with the real SDK against the local peer. Without key-order.ts a later send of a
 * device overtook an earlier one: when the earlier needed several AMQP batches for the key, or
 * when the SDK retried it after ServerBusy while the later went straight through.
 */
import { describe, expect, it, onTestFinished } from 'vitest'
import { UplinkError } from '../gateway/core/errors.js'
import { eventHubsUplinkSchema } from '../gateway/uplink/eventhubs/config.js'
import { EventHubsUplink } from '../gateway/uplink/eventhubs/eventhubs-uplink.js'
import { KeyOrder } from '../gateway/uplink/eventhubs/key-order.js'
import { createProducerClient } from '../gateway/uplink/eventhubs/producer-client.js'
import { buildEntries, sourceOf } from './support/eh-entries.js'
import { isAscending, never, sequencesByKey } from './support/eh-uplink-harness.js'
import { startPeerForTest, startPeerWithUplinkForTest } from './per-test-resources.js'

describe('EventHubsUplink: order per key across concurrent sends', () => {
  it('a later send of a device waits for the earlier one, even when that needs several AMQP batches', async () => {
    const { peer, uplink } = await startPeerWithUplinkForTest({ maxMessageSize: 4096 })
    const all = buildEntries(240, 2) // ~10 events per 4 KiB batch: 6 AMQP batches per key and send
    const sends = [all.slice(0, 120), all.slice(120)].map((batch) => uplink.send(batch, never))
    await Promise.all(sends)
    expect(peer.received()).toHaveLength(240)
    for (const seqs of sequencesByKey(peer.received()).values()) expect(isAscending(seqs)).toBe(true)
  })

  it('when the earlier send of a key fails, the later one fails too without sending that key', async () => {
    const { peer, uplink } = await startPeerWithUplinkForTest()
    const all = buildEntries(20, 1)
    peer.rejectWithServerBusy(3) // the first delivery and both SDK retries of it
    const first = uplink.send(all.slice(0, 10), never).catch((e: unknown) => e)
    const second = uplink.send(all.slice(10), never).catch((e: unknown) => e)
    expect(await first).toMatchObject({ reason: 'throttled', retriable: true })
    const err = await second
    expect(err).toBeInstanceOf(UplinkError)
    expect(err).toMatchObject({ reason: 'throttled', retriable: true })
    expect(peer.received()).toHaveLength(0) // the later events did not overtake
    // A send registered after both settled (the forwarder's resend after a rewind) is not held back.
    await uplink.send(all, never)
    expect(peer.received().map((e) => e.messageId)).toEqual(all.map((e) => e.id))
  })
})

describe('EventHubsUplink: a failed key holds back later sends until the uplink is quiet', () => {
  it('a send entered after a key failed, while the failed send still waits for another key, does not overtake it', { timeout: 20_000 }, async () => {
    const peer = await startPeerForTest()
    const k = sourceOf(0) // the device whose part fails
    const j = sourceOf(1) // a device whose part hangs, keeping the failed send pending
    let kFailed!: () => void
    const kFailure = new Promise<void>((resolve) => (kFailed = resolve))
    const config = eventHubsUplinkSchema.parse({ type: 'eventhubs', id: 'eh', connectionString: peer.connectionString(), sendTimeoutMs: 3000 })
    const uplink = new EventHubsUplink(config, {
      sdkRetryOptions: { retryDelayInMs: 50, maxRetryDelayInMs: 200 },
      // The real producer; only watched, to know when the SDK gave up on device k's batch.
      createProducer: (cfg, options) => {
        const real = createProducerClient(cfg, options)
        return {
          createBatch: (o) => real.createBatch(o),
          sendBatch: (batch, o) => real.sendBatch(batch, o).catch((err: unknown) => {
            if (batch.partitionKey === k) kFailed()
            throw err
          }),
          getPartitionIds: (o) => real.getPartitionIds(o),
          close: () => real.close(),
        }
      },
    })
    await uplink.start()
    onTestFinished(() => uplink.stop())
    const all = buildEntries(40, 2) // devices 0 and 1 alternate, sequences 1..20 each
    const of = (key: string, from: number, to: number) => all.filter((e) => e.source === key).slice(from, to)

    peer.stallDeliveriesOf(j)
    const early = uplink.send(of(j, 0, 5), never).catch((e: unknown) => e) // hangs until its deadline
    await peer.waitUntil(() => peer.stats().stalledDeliveries >= 1)
    peer.rejectWithServerBusy(3) // device k's first delivery and both SDK retries of it
    const failing = uplink.send([...of(k, 0, 10), ...of(j, 5, 10)], never).catch((e: unknown) => e)
    await kFailure
    await new Promise((resolve) => setImmediate(resolve)) // let the uplink settle k's turn
    // The forwarder's next batch, launched in that window: k's part has no pending predecessor.
    const later = await uplink.send(of(k, 10, 20), never).catch((e: unknown) => e)
    expect(later).toMatchObject({ reason: 'throttled', retriable: true })
    expect(peer.received().filter((e) => e.partitionKey === k)).toHaveLength(0) // nothing of k overtook

    expect(await failing).toBeInstanceOf(UplinkError)
    expect(await early).toBeInstanceOf(UplinkError)
    peer.stallDeliveriesOf(undefined)
    await uplink.send([...of(j, 0, 5), ...of(k, 0, 10), ...of(j, 5, 10), ...of(k, 10, 20)], never) // the resend after a rewind
    expect(sequencesByKey(peer.received()).get(k)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1))
  })
})

describe('KeyOrder', () => {
  it('queues turns per key, fails every later part once a key failed, and forgets settled keys', async () => {
    const order = new KeyOrder()
    const places = [order.enter(['k1', 'k2']), order.enter(['k1']), order.enter(['k2'])]
    const [a, b, c] = places.map((p) => p.turns)
    expect(order.pendingKeys).toBe(2)
    const bReady = b!.get('k1')!.ready(never).then(() => 'ok', (e: Error) => e.message)
    const cReady = c!.get('k2')!.ready(never).then(() => 'ok', (e: Error) => e.message)
    a!.get('k1')!.settle(new Error('busy'))
    a!.get('k2')!.settle()
    expect(await bReady).toBe('busy')
    expect(await cReady).toBe('busy') // k2 itself went through, but the forwarder resends c after a anyway
    b!.get('k1')!.settle(new Error('busy'))
    c!.get('k2')!.settle(new Error('busy'))
    expect(order.pendingKeys).toBe(0)
    for (const p of places) p.release()
    await expect(order.enter(['k1']).turns.get('k1')!.ready(never)).resolves.toBeUndefined()
  })

  it('holds a failure until no send is pending: a send entered after a key failed does not go out, of any key', async () => {
    const order = new KeyOrder()
    const a = order.enter(['k1', 'k2'])
    a.turns.get('k1')!.settle(new Error('busy')) // k1 failed; a still waits for k2
    const b = order.enter(['k1', 'k3']) // the forwarder's next batch, entered in that window
    await expect(b.turns.get('k1')!.ready(never)).rejects.toThrow('busy')
    await expect(b.turns.get('k3')!.ready(never)).rejects.toThrow('busy')
    for (const t of b.turns.values()) t.settle(new Error('busy'))
    b.release()
    a.turns.get('k2')!.settle()
    a.release() // quiet now: the forwarder's resend after its rewind goes ahead
    const resend = order.enter(['k1', 'k3'])
    await expect(resend.turns.get('k1')!.ready(never)).resolves.toBeUndefined()
    await expect(resend.turns.get('k3')!.ready(never)).resolves.toBeUndefined()
  })

  it('a wait for an earlier turn ends when the send is aborted', async () => {
    const order = new KeyOrder()
    order.enter(['k'])
    const later = order.enter(['k']).turns.get('k')!
    const controller = new AbortController()
    const waiting = later.ready(controller.signal)
    controller.abort(new Error('forwarder stopping'))
    await expect(waiting).rejects.toMatchObject({ name: 'AbortError' })
  })
})
