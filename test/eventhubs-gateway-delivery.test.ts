/**
 * Issue 4 acceptance, through the REAL gateway: simulator → ingest → LevelStore → forwarder →
 * EventHubsUplink (the real @azure/event-hubs producer) → the local AMQP peer. What arrives, in
 * which shape (both CloudEvents AMQP binding modes, and batch mode), within which size, judged from source +
 * sequence; and an event too large for the hub is dead-lettered alone while the rest flows.
 */
import { describe, expect, it } from 'vitest'
import { expectedFromSimulator, until } from './support/gateway-harness.js'
import { distinctPairs, ehVerdict } from './support/eh-verdict.js'
import type { ReceivedEvent } from './support/eventhubs-peer.js'
import { startPeerForTest, startTestGatewayForTest } from './per-test-resources.js'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/
const MAX_MESSAGE_SIZE = 8 * 1024

/** A peer and a gateway forwarding `sources` to it, both gone after the test. */
async function start(mode: 'binary' | 'structured' | 'batch', sources: unknown[], uplink: Record<string, unknown> = {}) {
  const peer = await startPeerForTest({ maxMessageSize: MAX_MESSAGE_SIZE })
  const gw = await startTestGatewayForTest({
    gatewayId: `gw-eh-${mode}`,
    sources,
    uplinks: [{ type: 'eventhubs', id: 'eh', connectionString: peer.connectionString(), mode, ...uplink }],
  })
  return { peer, gw }
}

function expectBinaryEvent(ev: ReceivedEvent): void {
  const p = ev.applicationProperties
  expect(ev.partitionKey).toBe(p['cloudEvents_source'])
  expect(ev.messageId).toBe(p['cloudEvents_id'])
  expect(ev.messageId).toMatch(UUID)
  expect(ev.contentType).toBe('application/json')
  expect(Object.keys(p).sort()).toEqual(
    ['cloudEvents_id', 'cloudEvents_sequence', 'cloudEvents_source', 'cloudEvents_specversion', 'cloudEvents_time', 'cloudEvents_type'],
  )
  expect(p).toMatchObject({ cloudEvents_specversion: '1.0', cloudEvents_type: 'io.edgegateway.environment' })
  expect(String(p['cloudEvents_sequence'])).toMatch(/^\d{20}$/)
  expect(JSON.parse(ev.body.toString('utf8'))).toMatchObject({ temperatureC: expect.any(Number), humidityPct: expect.any(Number) })
}

function expectStructuredEvent(ev: ReceivedEvent): void {
  const ce = JSON.parse(ev.body.toString('utf8')) as Record<string, unknown>
  expect(ev.contentType).toBe('application/cloudevents+json')
  expect(ev.applicationProperties).toEqual({})
  expect(ev.partitionKey).toBe(ce.source)
  expect(ev.messageId).toBe(ce.id)
  expect(ev.messageId).toMatch(UUID)
  expectCloudEvent(ce)
}

function expectBatchDocument(ev: ReceivedEvent): void {
  const members = JSON.parse(ev.body.toString('utf8')) as Array<Record<string, unknown>>
  expect(ev.contentType).toBe('application/cloudevents-batch+json')
  expect(ev.applicationProperties).toEqual({})
  expect(ev.messageId).toMatch(/^batch-/)
  expect(members.length).toBeGreaterThan(0)
  for (const ce of members) {
    expect(ce.source).toBe(ev.partitionKey) // one device per document
    expect(ce.id).toMatch(UUID)
    expectCloudEvent(ce)
  }
}

function expectCloudEvent(ce: Record<string, unknown>): void {
  expect(ce).toMatchObject({ specversion: '1.0', type: 'io.edgegateway.environment', datacontenttype: 'application/json' })
  expect(ce.data).toMatchObject({ temperatureC: expect.any(Number) })
}

describe('gateway → Event Hubs peer: what arrives', () => {
  // Both binding modes and batch mode on the gateway's loop, and binary and batch mode with the SDK
  // on its own thread (`thread: worker`, threaded-uplink.ts): the forwarder must not be able to
  // tell them apart.
  const cases = [
    { mode: 'binary', thread: 'main' },
    { mode: 'structured', thread: 'main' },
    { mode: 'binary', thread: 'worker' },
    { mode: 'batch', thread: 'main' },
    { mode: 'batch', thread: 'worker' },
  ] as const
  for (const { mode, thread } of cases) {
    it(`every reading once, in order per device, keyed by device, within max_message_size (${mode}, thread ${thread})`, async () => {
      const devices = 4
      const count = 150
      const total = devices * count
      // maxInFlight 4 with several AMQP batches per key and send: the case where a later forwarder
      // batch could overtake an earlier one of the same device if keys were not serialised.
      const { peer, gw } = await start(mode, [{ type: 'simulator', id: 'sim', devices, intervalMs: 0, count }], { maxEvents: 200, maxInFlight: 4, thread })
      await peer.waitUntil(() => distinctPairs(peer.received()) >= total)
      // The forwarded counter moves just after the ack's store write resolved: wait for both.
      await until(() => gw.metrics.snapshot().forwarded >= total && gw.gateway.store.stats().perUplink.eh?.depth === 0, 'queue drained')

      const expected = expectedFromSimulator(`gw-eh-${mode}`, 'sim', devices, count)
      expect(ehVerdict(peer.received(), expected)).toEqual({ delivered: total, lost: 0, duplicated: 0, reordered: 0, unexpected: 0 })
      expect(gw.metrics.snapshot().forwarded).toBe(total)

      for (const ev of peer.received()) {
        expect(ev.address).toBe('hub') // keyed sends: the service picks the partition
        if (mode === 'batch') expectBatchDocument(ev)
        else if (mode === 'binary') expectBinaryEvent(ev)
        else expectStructuredEvent(ev)
        expect(ev.partitionKey).toMatch(/^\/gateways\/gw-eh-[a-z]+\/sim\/sim-000[1-4]$/)
      }
      if (mode !== 'batch') expect(new Set(peer.received().map((e) => e.messageId)).size).toBe(total)

      // Batching happened, and never beyond what the link advertised.
      const batches = peer.batches()
      for (const b of batches) expect(b.bytes).toBeLessThanOrEqual(MAX_MESSAGE_SIZE)
      expect(batches.length).toBeLessThan(total / 5)
      expect(batches.length).toBeGreaterThan(total * 300 / MAX_MESSAGE_SIZE / 2) // ~300-byte events: 8 KiB cannot hold them all
      // batch mode: documents of several events, bounded by the link (8 KiB < batchMessageBytes).
      if (mode === 'batch') expect(peer.received().length).toBeLessThan(total / 5)
      expect(peer.stats().tooLargeRejections).toBe(0)
      // One partition key per AMQP batch: each delivery carries one device only.
      const keysPerBatch = new Map<number, Set<string | undefined>>()
      for (const e of peer.received()) keysPerBatch.set(e.batch, (keysPerBatch.get(e.batch) ?? new Set()).add(e.partitionKey))
      for (const keys of keysPerBatch.values()) expect(keys.size).toBe(1)
    })
  }

  for (const thread of ['main', 'worker'] as const) it(`dead-letters an event larger than the hub accepts, alone; the rest flows (thread ${thread})`, async () => {
    const { peer, gw } = await start('binary', [
      { type: 'simulator', id: 'sim', devices: 3, intervalMs: 0, count: 60 },
      { type: 'simulator', id: 'big', devices: 1, intervalMs: 0, count: 3, padBytes: MAX_MESSAGE_SIZE + 2000 },
    ], { thread })
    const small = (source: string): boolean => source.includes('/sim/')
    await peer.waitUntil(() => distinctPairs(peer.received(), small) >= 180)
    await until(() => gw.gateway.store.stats().deadLetters === 3, 'three dead letters')
    await until(() => gw.gateway.store.stats().entries === 0 && gw.metrics.snapshot().forwarded >= 180, 'store empty')

    const verdict = ehVerdict(peer.received(), expectedFromSimulator('gw-eh-binary', 'sim', 3, 60))
    expect(verdict).toEqual({ delivered: 180, lost: 0, duplicated: 0, reordered: 0, unexpected: 0 })
    const letters = await gw.gateway.store.deadLetters('eh', 10)
    expect(letters).toHaveLength(3)
    for (const l of letters) {
      expect(l.reason).toBe('message_too_large')
      expect(l.entry.source).toBe('/gateways/gw-eh-binary/big/sim-0001')
      expect(l.entry.sizeBytes).toBeGreaterThan(MAX_MESSAGE_SIZE)
    }
    expect(letters.map((l) => JSON.parse(l.entry.json).sequence)).toEqual(['1', '2', '3'].map((n) => n.padStart(20, '0')))
    expect(gw.metrics.snapshot().dropped).toEqual({ dead_letter: 3 })
    expect(gw.metrics.snapshot().forwarded).toBe(180)
    // Refused by the client-side size check (tryAdd on an empty batch), never put on the wire.
    expect(peer.stats().tooLargeRejections).toBe(0)
    expect(peer.batches().every((b) => b.bytes <= MAX_MESSAGE_SIZE)).toBe(true)
    const rendered = await gw.metrics.render()
    expect(rendered).toMatch(/edge_gateway_events_dropped_total\{reason="dead_letter",uplink="eh"\} 3\b/)
  })
})

describe('gateway → Event Hubs peer: many sends outstanding', () => {
  it('maxInFlight 16 delivers everything without a false "possible memory leak" warning', async () => {
    const warnings: string[] = []
    const onWarning = (w: Error): void => void warnings.push(`${w.name}: ${w.message}`)
    process.on('warning', onWarning)
    try {
      const { peer, gw } = await start('structured', [{ type: 'simulator', id: 'sim', devices: 4, intervalMs: 0, count: 400 }], { maxEvents: 10, maxInFlight: 16 })
      await peer.waitUntil(() => distinctPairs(peer.received()) >= 1600)
      await until(() => gw.metrics.snapshot().forwarded >= 1600, 'all forwarded')
      expect(ehVerdict(peer.received(), expectedFromSimulator('gw-eh-structured', 'sim', 4, 400))).toMatchObject({ delivered: 1600, lost: 0, reordered: 0 })
      // Each outstanding send listens on the forwarder's and the uplink's signals; Node warns from 11.
      expect(warnings.filter((w) => w.startsWith('MaxListenersExceededWarning'))).toEqual([])
    } finally {
      process.off('warning', onWarning)
    }
  })
})
