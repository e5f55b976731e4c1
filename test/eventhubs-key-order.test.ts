/**
 * Order per partition key ACROSS concurrent send() calls (the forwarder keeps maxInFlight sends
 * outstanding), with the real SDK against the local peer. Without key-order.ts a later send of a
 * device overtook an earlier one: when the earlier needed several AMQP batches for the key, or
 * when the SDK retried it after ServerBusy while the later went straight through.
 */
import { describe, expect, it } from 'vitest'
import { UplinkError } from '../gateway/core/errors.js'
import { KeyOrder } from '../gateway/uplink/eventhubs/key-order.js'
import { buildEntries } from './support/eh-entries.js'
import { isAscending, never, sequencesByKey } from './support/eh-uplink-harness.js'
import { startPeerWithUplinkForTest } from './per-test-resources.js'

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

describe('KeyOrder', () => {
  it('queues turns per key, cascades failures to pending successors only, and forgets settled keys', async () => {
    const order = new KeyOrder()
    const a = order.enter(['k1', 'k2'])
    const b = order.enter(['k1'])
    const c = order.enter(['k2'])
    expect(order.pendingKeys).toBe(2)
    const bReady = b.get('k1')!.ready(never).then(() => 'ok', (e: Error) => e.message)
    const cReady = c.get('k2')!.ready(never).then(() => 'ok', (e: Error) => e.message)
    a.get('k1')!.settle(new Error('busy'))
    a.get('k2')!.settle()
    expect(await bReady).toBe('busy')
    expect(await cReady).toBe('ok')
    b.get('k1')!.settle(new Error('busy'))
    c.get('k2')!.settle()
    expect(order.pendingKeys).toBe(0)
    await expect(order.enter(['k1']).get('k1')!.ready(never)).resolves.toBeUndefined()
  })

  it('a wait for an earlier turn ends when the send is aborted', async () => {
    const order = new KeyOrder()
    order.enter(['k'])
    const later = order.enter(['k']).get('k')!
    const controller = new AbortController()
    const waiting = later.ready(controller.signal)
    controller.abort(new Error('forwarder stopping'))
    await expect(waiting).rejects.toMatchObject({ name: 'AbortError' })
  })
})
