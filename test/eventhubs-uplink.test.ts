/**
 * The real @azure/event-hubs producer against the local AMQP peer (UseDevelopmentEmulator=true):
 * what arrives, in which shape, in which order, and within which size.
 */
import { describe, expect, it } from 'vitest'
import { buildEntries, buildEntry } from './support/eh-entries.js'
import { isAscending, never, sequencesByKey } from './support/eh-uplink-harness.js'
import { startPeerWithUplinkForTest } from './per-test-resources.js'

describe('EventHubsUplink with the real SDK', () => {
  it('binary mode: partition key, message_id, content type, cloudEvents_ properties, data as body', async () => {
    const { peer, uplink } = await startPeerWithUplinkForTest()
    const entries = buildEntries(30, 3)
    expect(await uplink.send(entries, never)).toEqual({ rejected: [] })

    const got = peer.received()
    expect(got).toHaveLength(30)
    const byId = new Map(got.map((e) => [e.messageId, e]))
    for (const entry of entries) {
      const ce = JSON.parse(entry.json)
      const ev = byId.get(entry.id)!
      expect(ev.partitionKey).toBe(entry.source)
      expect(ev.contentType).toBe('application/json')
      expect(ev.applicationProperties).toEqual({
        cloudEvents_specversion: '1.0',
        cloudEvents_id: ce.id,
        cloudEvents_source: ce.source,
        cloudEvents_type: ce.type,
        cloudEvents_time: ce.time,
        cloudEvents_sequence: ce.sequence,
      })
      expect(JSON.parse(ev.body.toString('utf8'))).toEqual(ce.data)
      expect(ev.address).toBe('hub') // keyed sends go to the hub, the service picks the partition
    }
    for (const seqs of sequencesByKey(got).values()) expect(isAscending(seqs)).toBe(true)
    expect(uplink.health()).toEqual({ connected: true })
  })

  it('structured mode: the stored JSON with application/cloudevents+json', async () => {
    const { peer, uplink } = await startPeerWithUplinkForTest({}, { mode: 'structured' })
    const entries = buildEntries(10, 2)
    await uplink.send(entries, never)
    const got = peer.received()
    expect(got.map((e) => e.messageId)).toEqual(expect.arrayContaining(entries.map((e) => e.id)))
    for (const ev of got) {
      const entry = entries.find((e) => e.id === ev.messageId)!
      expect(ev.contentType).toBe('application/cloudevents+json')
      expect(ev.body.toString('utf8')).toBe(entry.json)
      expect(ev.applicationProperties).toEqual({})
      expect(ev.partitionKey).toBe(entry.source)
    }
  })

  it('renders the partition key template', async () => {
    const { peer, uplink } = await startPeerWithUplinkForTest({}, { partitionKey: '{gatewayId}-{deviceId}' })
    await uplink.send(buildEntries(4, 2), never)
    expect(new Set(peer.received().map((e) => e.partitionKey))).toEqual(new Set(['gw-dev-0', 'gw-dev-1']))
  })

  it('never exceeds the max_message_size the link advertised, and keeps per-device order', async () => {
    const { peer, uplink } = await startPeerWithUplinkForTest({ maxMessageSize: 4096 })
    const entries = buildEntries(200, 3)
    expect(await uplink.send(entries, never)).toEqual({ rejected: [] })
    const batches = peer.batches()
    expect(peer.received()).toHaveLength(200)
    expect(batches.length).toBeGreaterThan(3) // 200 events of ~300 bytes cannot fit 3 batches of 4 KiB
    for (const b of batches) expect(b.bytes).toBeLessThanOrEqual(4096)
    // ...and fills them: ~10 events of ~400 bytes per 4 KiB batch, not one event per delivery.
    expect(batches.every((b) => b.count > 1)).toBe(true)
    expect(batches.length).toBeLessThanOrEqual(30)
    for (const seqs of sequencesByKey(peer.received()).values()) expect(isAscending(seqs)).toBe(true)
  })

  it('rejects a single event that does not fit an empty batch, and sends the rest', async () => {
    const { peer, uplink } = await startPeerWithUplinkForTest({ maxMessageSize: 4096 })
    const entries = buildEntries(10, 1)
    const huge = buildEntry({ device: 0, sequence: 11, padChars: 8192 })
    const batch = [...entries.slice(0, 5), huge, ...entries.slice(5)]
    const { rejected } = await uplink.send(batch, never)
    expect(rejected).toHaveLength(1)
    expect(rejected[0]).toMatchObject({ entry: huge, reason: 'message_too_large' })
    expect(peer.received().map((e) => e.messageId)).toEqual(entries.map((e) => e.id))
  })

  it('splits a batch the service refuses as too large (limit below the advertised one)', async () => {
    const { peer, uplink } = await startPeerWithUplinkForTest({ maxMessageSize: 64 * 1024 })
    await uplink.send([buildEntry({ device: 5 })], never) // the link is attached with 64 KiB now
    peer.setMaxMessageSize(2048)
    const entries = buildEntries(40, 1)
    const big = buildEntry({ device: 0, sequence: 41, padChars: 3000 })
    const { rejected } = await uplink.send([...entries.slice(0, 20), big, ...entries.slice(20)], never)
    expect(rejected.map((r) => [r.entry.id, r.reason])).toEqual([[big.id, 'message_too_large']])
    const dev0 = peer.received().filter((e) => e.partitionKey === entries[0]!.source)
    expect(dev0.map((e) => e.messageId)).toEqual(entries.map((e) => e.id)) // all, once, in order
    expect(peer.stats().tooLargeRejections).toBeGreaterThan(1)
  })

  it('returns an entry that is not a CloudEvent object as rejected (invalid_event), not the batch', async () => {
    const { peer, uplink } = await startPeerWithUplinkForTest()
    const good = buildEntries(3, 1)
    const bad = { ...buildEntry({ device: 1 }), json: '"not an object"' }
    const { rejected } = await uplink.send([good[0]!, bad, good[1]!, good[2]!], never)
    expect(rejected.map((r) => r.reason)).toEqual(['invalid_event'])
    expect(peer.received().map((e) => e.messageId)).toEqual(good.map((e) => e.id))
  })

  it('exposes limits for the forwarder', async () => {
    const { uplink } = await startPeerWithUplinkForTest({}, { maxEvents: 100, lingerMs: 10, maxInFlight: 2 })
    expect(uplink.limits).toEqual({ maxEvents: 100, maxBytes: 2 * 1024 * 1024, lingerMs: 10, maxInFlight: 2 })
    expect(uplink.type).toBe('eventhubs')
  })
})
