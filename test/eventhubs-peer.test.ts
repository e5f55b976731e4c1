/**
 * The local Event Hubs peer itself: it decodes deliveries when a test reads them, not on arrival
 * (so that the benchmark's yardstick is bounded by the SDK, not by the peer's decoder), and a
 * delivery it cannot decode fails the next read loudly instead of vanishing.
 */
import { afterEach, describe, expect, it } from 'vitest'
import rhea from 'rhea'
import type { Connection, Sender } from 'rhea'
import { EventHubProducerClient } from '@azure/event-hubs'
import { startEventHubsPeer, type EventHubsPeer } from './support/eventhubs-peer.js'
import { BATCH_MESSAGE_FORMAT } from './support/amqp-batch-decode.js'

let peer: EventHubsPeer | undefined
afterEach(async () => {
  await peer?.close()
  peer = undefined
})

/** A bare AMQP client on the hub link: sends one raw delivery in `format`, resolves when settled. */
async function sendRaw(port: number, hubName: string, payload: Buffer, format: number): Promise<string> {
  const container = rhea.create_container({ id: 'raw-client' })
  const connection: Connection = container.connect({ host: '127.0.0.1', port, reconnect: false })
  try {
    const sender: Sender = connection.open_sender({ target: { address: hubName } })
    await new Promise<void>((resolve) => sender.once('sendable', () => resolve()))
    return await new Promise<string>((resolve) => {
      sender.once('accepted', () => resolve('accepted'))
      sender.once('rejected', () => resolve('rejected'))
      sender.send(payload as never, undefined, format)
    })
  } finally {
    connection.close()
  }
}

describe('Event Hubs test peer', () => {
  it('decodes on read: events and batch counts appear when read, in arrival order', async () => {
    peer = await startEventHubsPeer()
    const client = new EventHubProducerClient(peer.connectionString())
    try {
      for (const n of [3, 2]) {
        const batch = await client.createBatch({ partitionKey: 'dev-1' })
        for (let i = 0; i < n; i++) expect(batch.tryAdd({ body: Buffer.from(`{"n":${n * 10 + i}}`), messageId: `m${n}-${i}` })).toBe(true)
        await client.sendBatch(batch)
      }
    } finally {
      await client.close()
    }
    expect(peer.stats().undecodedDeliveries).toBe(2) // nothing read them yet
    expect(peer.batches().map((b) => b.count)).toEqual([3, 2])
    expect(peer.stats().undecodedDeliveries).toBe(0)
    expect(peer.received().map((e) => e.messageId)).toEqual(['m3-0', 'm3-1', 'm3-2', 'm2-0', 'm2-1'])
    expect(peer.received().every((e) => e.partitionKey === 'dev-1')).toBe(true)
  })

  it('accepts a delivery it cannot decode, then fails every read and every waiting test, naming it', async () => {
    peer = await startEventHubsPeer()
    // Settled into a value at once: the rejection arrives while the raw send is still awaited.
    const waiting = peer.waitFor((events) => events.length > 0, 10_000).then(() => 'met', (err: Error) => err.message)
    const garbage = Buffer.from([0x00, 0x53, 0x75, 0xb0, 0xff, 0xff, 0xff, 0xff]) // data section claiming 4 GiB
    expect(await sendRaw(peer.port, peer.hubName, garbage, BATCH_MESSAGE_FORMAT)).toBe('accepted')
    expect(await waiting).toMatch(/delivery 0 to hub .*could not be decoded/)
    expect(() => peer!.received()).toThrow(/could not be decoded/)
    expect(() => peer!.batches()).toThrow(/could not be decoded/)
    const closing = peer.close()
    peer = undefined
    await expect(closing).rejects.toThrow(/could not be decoded/)
  })

  it('close() fails on an undecodable delivery that no test read', async () => {
    peer = await startEventHubsPeer()
    expect(await sendRaw(peer.port, peer.hubName, Buffer.from([0x00, 0x53, 0x75, 0xb0, 0xff, 0xff, 0xff, 0xff]), BATCH_MESSAGE_FORMAT)).toBe('accepted')
    const closing = peer.close()
    peer = undefined
    await expect(closing).rejects.toThrow(/delivery 0 to hub .*could not be decoded/)
  })
})
