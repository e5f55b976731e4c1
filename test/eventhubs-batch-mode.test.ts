/**
 * `mode: batch`: several CloudEvents of one partition key per AMQP message, as a JSON batch
 * document (application/cloudevents-batch+json), with the real SDK against the local AMQP peer.
 * What arrives, how documents are bounded, and what happens to events that fit no document.
 */
import { describe, expect, it } from 'vitest'
import { buildEntries, buildEntry } from './support/eh-entries.js'
import { isAscending, never, sequencesByKey } from './support/eh-uplink-harness.js'
import { cloudEventsOf } from './support/eh-verdict.js'
import { startPeerWithUplinkForTest } from './per-test-resources.js'

const BATCH_CONTENT_TYPE = 'application/cloudevents-batch+json'

describe('EventHubsUplink, batch mode', () => {
  it('one JSON batch document per partition key: every event once, in order, the stored JSON unchanged', async () => {
    const { peer, uplink } = await startPeerWithUplinkForTest({}, { mode: 'batch' })
    const entries = buildEntries(60, 3)
    expect(await uplink.send(entries, never)).toEqual({ rejected: [] })

    const got = peer.received()
    expect(got).toHaveLength(3) // 20 small events per device fit one 64 KiB document
    for (const message of got) {
      expect(message.contentType).toBe(BATCH_CONTENT_TYPE)
      expect(message.applicationProperties).toEqual({})
      const members = JSON.parse(message.body.toString('utf8')) as Array<{ source: string; id: string }>
      expect(members).toHaveLength(20)
      for (const m of members) expect(m.source).toBe(message.partitionKey)
      // The body is the stored texts, joined: nothing re-serialised.
      const own = entries.filter((e) => e.source === message.partitionKey)
      expect(message.body.toString('utf8')).toBe('[' + own.map((e) => e.json).join(',') + ']')
      expect(message.messageId).toMatch(/^batch-[A-Za-z0-9_-]{43}$/)
    }
    expect(cloudEventsOf(got).map((e) => e.id).sort()).toEqual(entries.map((e) => e.id).sort())
    for (const seqs of sequencesByKey(got).values()) expect(isAscending(seqs)).toBe(true)
  })

  it('the same events resent give the same message_id; other events another', async () => {
    const { peer, uplink } = await startPeerWithUplinkForTest({}, { mode: 'batch' })
    const entries = buildEntries(5, 1)
    await uplink.send(entries, never)
    await uplink.send(entries, never)
    await uplink.send(entries.slice(1), never)
    const ids = peer.received().map((e) => e.messageId)
    expect(ids).toHaveLength(3)
    expect(ids[0]).toBe(ids[1])
    expect(ids[2]).not.toBe(ids[0])
  })

  it('bounds each document by batchMessageBytes, and still fills the AMQP batch with several documents', async () => {
    const { peer, uplink } = await startPeerWithUplinkForTest({}, { mode: 'batch', batchMessageBytes: 2048 })
    const entries = buildEntries(100, 1)
    expect(await uplink.send(entries, never)).toEqual({ rejected: [] })
    const got = peer.received()
    for (const message of got) expect(message.body.length).toBeLessThanOrEqual(2048)
    expect(got.length).toBeGreaterThan(10) // 100 events of ~300 bytes cannot fit fewer 2 KiB documents
    expect(got.every((m) => (JSON.parse(m.body.toString()) as unknown[]).length > 1)).toBe(true)
    expect(peer.batches().length).toBe(1) // the documents travel together in one AMQP batch
    expect(sequencesByKey(got).get(entries[0]!.source)).toEqual(entries.map((_, i) => i + 1))
  })

  it('a document larger than the link allows is split, down to single events; one that fits nowhere is rejected alone', async () => {
    const { peer, uplink } = await startPeerWithUplinkForTest({ maxMessageSize: 4096 }, { mode: 'batch' })
    const entries = buildEntries(30, 1)
    const huge = buildEntry({ device: 0, sequence: 31, padChars: 8192 })
    const { rejected } = await uplink.send([...entries.slice(0, 15), huge, ...entries.slice(15)], never)
    expect(rejected.map((r) => [r.entry.id, r.reason])).toEqual([[huge.id, 'message_too_large']])
    expect(cloudEventsOf(peer.received()).map((e) => e.id)).toEqual(entries.map((e) => e.id)) // all, once, in order
    for (const b of peer.batches()) expect(b.bytes).toBeLessThanOrEqual(4096)
  })

  it('splits a document the service refuses as too large (limit below the advertised one)', async () => {
    const { peer, uplink } = await startPeerWithUplinkForTest({ maxMessageSize: 64 * 1024 }, { mode: 'batch' })
    await uplink.send([buildEntry({ device: 5 })], never) // the link is attached with 64 KiB now
    peer.setMaxMessageSize(2048)
    const entries = buildEntries(40, 1)
    expect(await uplink.send(entries, never)).toEqual({ rejected: [] })
    const dev0 = cloudEventsOf(peer.received()).filter((e) => e.source === entries[0]!.source)
    expect(dev0.map((e) => e.id)).toEqual(entries.map((e) => e.id))
    expect(peer.stats().tooLargeRejections).toBeGreaterThan(1)
  })

  it('an entry that is not a JSON object is rejected alone (invalid_event) and does not spoil the document', async () => {
    const { peer, uplink } = await startPeerWithUplinkForTest({}, { mode: 'batch' })
    const good = buildEntries(3, 1)
    const bad = { ...buildEntry({ device: 0, sequence: 9 }), json: '"not an object"' }
    const { rejected } = await uplink.send([good[0]!, bad, good[1]!, good[2]!], never)
    expect(rejected.map((r) => [r.entry.id, r.reason])).toEqual([[bad.id, 'invalid_event']])
    expect(peer.received()).toHaveLength(1)
    expect(cloudEventsOf(peer.received()).map((e) => e.id)).toEqual(good.map((e) => e.id))
  })
})
