/**
 * The uplink's own AMQP encoding (amqp-wire.ts, encoded-batch.ts) against the real SDK's batches
 * on a link to the local peer: byte for byte on random events, the same fill decisions at the
 * size limit, the run-time check that turns it off when the SDK differs, and the uplink using it.
 */
import { EventHubProducerClient, type EventDataBatch } from '@azure/event-hubs'
import { describe, expect, it, onTestFinished } from 'vitest'
import { readFileSync } from 'node:fs'
import { checkEncodedBatches, EncodedBatch, sdkEventOf, VERIFIED_SDK_VERSION } from '../gateway/uplink/eventhubs/encoded-batch.js'
import type { WireEvent } from '../gateway/uplink/eventhubs/amqp-wire.js'
import { createProducerClient, type ProducerClient } from '../gateway/uplink/eventhubs/producer-client.js'
import { eventHubsUplinkSchema } from '../gateway/uplink/eventhubs/config.js'
import { EventHubsUplink } from '../gateway/uplink/eventhubs/eventhubs-uplink.js'
import { buildEntries } from './support/eh-entries.js'
import { never } from './support/eh-uplink-harness.js'
import type { EventHubsPeer } from './support/eventhubs-peer.js'
import { RecordingLogger } from './support/recording-logger.js'
import { seededRandom as prng } from './support/chaos-verdict.js'
import { startPeerForTest } from './per-test-resources.js'

type Internals = EventDataBatch & { _generateMessage(): Buffer }

/** Characters of 1, 2, 3 and 4 UTF-8 bytes, and a lone surrogate (3 bytes once encoded). */
const CHARS = ['a', 'Z', '-', ':', 'ü', 'ß', '€', '\u{1F600}', '\uD800']
/** Lengths around the 8-bit/32-bit boundary of each width, and the 128-character message id limit. */
const LENGTHS = [0, 1, 5, 63, 84, 85, 86, 127, 128, 253, 254, 255, 256, 257, 300, 1000]

function randomString(rand: () => number, ascii = false): string {
  const n = LENGTHS[Math.floor(rand() * LENGTHS.length)]!
  let s = ''
  const pool = ascii ? CHARS.slice(0, 4) : CHARS
  while (s.length < n) s += pool[Math.floor(rand() * pool.length)]
  return s.slice(0, n) // may cut a surrogate pair in half: one more lone surrogate
}

function randomEvent(rand: () => number): WireEvent {
  // A string body stands for its UTF-8 bytes; the SDK gets those bytes as a Buffer (sdkEventOf).
  const text = randomString(rand)
  const ev: WireEvent = { body: rand() < 0.5 ? text : Buffer.from(text, 'utf8') }
  if (rand() < 0.8) ev.messageId = randomString(rand, rand() < 0.7).slice(0, 128)
  if (rand() < 0.8) ev.contentType = randomString(rand, rand() < 0.8)
  if (rand() < 0.6) {
    ev.properties = {}
    const n = Math.floor(rand() * 8)
    for (let i = 0; i < n; i++) ev.properties[`cloudEvents_${randomString(rand, true).slice(0, 40)}${i}`] = rand() < 0.2 ? rand() < 0.5 : randomString(rand)
  }
  return ev
}

async function sdkClient(peer: EventHubsPeer): Promise<EventHubProducerClient> {
  const client = new EventHubProducerClient(peer.connectionString())
  onTestFinished(() => client.close())
  await client.createBatch() // connect before the comparisons
  return client
}

/** Adds `events` to a fresh SDK batch and to an EncodedBatch alike; both must agree at every step. */
async function compareOn(client: EventHubProducerClient, target: { partitionKey?: string }, events: WireEvent[], seed: number): Promise<void> {
  const sdk = (await client.createBatch(target)) as Internals
  const ours = new EncodedBatch(sdk.maxSizeInBytes, target)
  for (const ev of events) {
    expect(ours.add(ev), `seed ${seed}`).toBe(sdk.tryAdd(sdkEventOf(ev)))
    expect(ours.sizeInBytes, `seed ${seed}`).toBe(sdk.sizeInBytes)
  }
  expect(ours.count).toBe(sdk.count)
  if (sdk.count > 0) expect(ours._generateMessage().equals(sdk._generateMessage()), `seed ${seed}`).toBe(true)
}

describe('the uplink\'s own AMQP encoding', () => {
  it('writes the SDK\'s bytes for random events, keyed and without a key, and counts sizes alike', async () => {
    const peer = await startPeerForTest()
    const client = await sdkClient(peer)
    for (let seed = 1; seed <= 200; seed++) {
      const rand = prng(seed)
      const events = Array.from({ length: 1 + Math.floor(rand() * 6) }, () => randomEvent(rand))
      const target = rand() < 0.5 ? { partitionKey: randomString(rand) || 'k' } : {}
      await compareOn(client, target, events, seed)
    }
  })

  it('refuses a message id over 128 characters with the SDK\'s own error', async () => {
    const peer = await startPeerForTest()
    const client = await sdkClient(peer)
    const ev: WireEvent = { body: Buffer.from('x'), messageId: 'i'.repeat(129) }
    const sdk = await client.createBatch({ partitionKey: 'k' })
    const sdkError = (() => { try { sdk.tryAdd(sdkEventOf(ev)); return undefined } catch (err) { return (err as Error).message } })()
    expect(sdkError).toContain('128')
    expect(() => new EncodedBatch(sdk.maxSizeInBytes, { partitionKey: 'k' }).add(ev)).toThrow(sdkError!)
  })

  it('fills a batch to the same event as the SDK at a small max_message_size', async () => {
    const peer = await startPeerForTest({ maxMessageSize: 3000 })
    const client = await sdkClient(peer)
    for (let seed = 1; seed <= 30; seed++) {
      const rand = prng(1000 + seed)
      const events = Array.from({ length: 40 }, () => randomEvent(rand))
      const sdk = await client.createBatch({ partitionKey: 'dev-1' })
      expect(sdk.maxSizeInBytes).toBe(3000)
      await compareOn(client, { partitionKey: 'dev-1' }, events, seed) // the SDK refuses some: so must we
    }
  })

  it('as an EventDataBatch, takes no other EventData shape: a string body (JSON to the SDK) or a numeric property is a TypeError', () => {
    const batch = new EncodedBatch(1024 * 1024, { partitionKey: 'k' })
    expect(() => batch.tryAdd({ body: 'text' })).toThrow(TypeError)
    expect(() => batch.tryAdd({ body: Buffer.from('x'), properties: { n: 1 } })).toThrow(TypeError)
    expect(batch.count).toBe(0)
  })
})

describe('the run-time check against the installed SDK', () => {
  it('passes on this SDK, and names what differs when its batches do', async () => {
    const peer = await startPeerForTest()
    const client = await sdkClient(peer)
    expect(await checkEncodedBatches((target) => client.createBatch(target))).toBeUndefined()

    // An SDK whose batches no longer expose _generateMessage, or encode a byte differently.
    const withoutInternals = (target: { partitionKey?: string }): Promise<EventDataBatch> =>
      client.createBatch(target).then((b) => hideGenerate(b))
    expect(await checkEncodedBatches(withoutInternals)).toMatch(/_generateMessage/)
    const otherBytes = (target: { partitionKey?: string }): Promise<EventDataBatch> =>
      client.createBatch(target).then((b) => Object.assign(hideGenerate(b), { _generateMessage: () => Buffer.from('other') }))
    expect(await checkEncodedBatches(otherBytes)).toMatch(/differs/)
    // A probe the SDK refuses to take (say, a new validation) is a difference, not "link down".
    const throwing = (target: { partitionKey?: string }): Promise<EventDataBatch> =>
      client.createBatch(target).then((b) => Object.assign(hideGenerate(b), { tryAdd: () => { throw new Error('new rule') } }))
    expect(await checkEncodedBatches(throwing)).toMatch(/probe event failed: new rule/)
    // The link not up: nothing is decided (the caller asks again later).
    await expect(checkEncodedBatches(() => Promise.reject(new Error('link down')))).rejects.toThrow('link down')
  })

  it('is verified for the SDK version package.json pins, which is the one installed', () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { dependencies: Record<string, string> }
    const installed = JSON.parse(readFileSync(new URL('../node_modules/@azure/event-hubs/package.json', import.meta.url), 'utf8')) as { version: string }
    // Upgrading the SDK means re-running this file's comparisons and then moving all three together.
    expect(pkg.dependencies['@azure/event-hubs']).toBe(VERIFIED_SDK_VERSION)
    expect(installed.version).toBe(VERIFIED_SDK_VERSION)
  })

  it('an SDK that took our batch for a single event would fail the send, not deliver an empty event', async () => {
    const peer = await startPeerForTest()
    const client = await sdkClient(peer)
    const ours = new EncodedBatch(1024 * 1024, { partitionKey: 'k' })
    ours.add({ body: 'reading', messageId: 'm1' })
    // The SDK's path for an array of events is what it would take if it stopped recognising ours.
    await expect(client.sendBatch([ours as never], { partitionKey: 'k' })).rejects.toThrow(/taken for a single event/)
    expect(peer.received()).toHaveLength(0)
  })

  it('an uplink uses its own encoding after the check, asks the link\'s size limit once per send, and delivers everything', async () => {
    const peer = await startPeerForTest()
    const log = new RecordingLogger()
    const targets: Array<{ partitionKey?: string; partitionId?: string }> = []
    const createProducer = (...args: Parameters<typeof createProducerClient>): ProducerClient => {
      const real = createProducerClient(...args)
      return {
        createBatch: (options) => {
          targets.push({ partitionKey: options.partitionKey, partitionId: options.partitionId })
          return real.createBatch(options)
        },
        sendBatch: (batch, options) => real.sendBatch(batch, options),
        getPartitionIds: (options) => real.getPartitionIds(options),
        close: () => real.close(),
      }
    }
    const uplink = new EventHubsUplink(configFor(peer), { logger: log, createProducer })
    onTestFinished(() => uplink.stop())
    await uplink.start()
    await log.waitFor('encoding events directly')
    expect(uplink.encoding).toBe('gateway')
    targets.length = 0
    const entries = buildEntries(50, 5) // 5 devices: 5 partition keys, one AMQP batch each
    expect(await uplink.send(entries, never)).toEqual({ rejected: [] })
    expect(peer.received().map((e) => e.messageId).sort()).toEqual(entries.map((e) => e.id).sort())
    expect(new Set(peer.received().map((e) => e.partitionKey)).size).toBe(5)
    expect(targets).toHaveLength(1) // the hub's link, shared by every key (the SDK's way: 5)
  })

  it('an uplink whose SDK batches differ keeps the SDK\'s encoding, says so, and delivers everything', async () => {
    const peer = await startPeerForTest()
    const log = new RecordingLogger()
    // The producer's batches hide _generateMessage from the check (as an SDK upgrade might);
    // sendBatch gets the real batch back, so only the comparison sees the difference.
    const createProducer = (...args: Parameters<typeof createProducerClient>): ProducerClient => {
      const real = createProducerClient(...args)
      const hidden = new WeakMap<object, EventDataBatch>()
      return {
        createBatch: async (options) => {
          const batch = await real.createBatch(options)
          const view = hideGenerate(batch)
          hidden.set(view, batch)
          return view
        },
        sendBatch: (batch, options) => real.sendBatch(hidden.get(batch) ?? batch, options),
        getPartitionIds: (options) => real.getPartitionIds(options),
        close: () => real.close(),
      }
    }
    const uplink = new EventHubsUplink(configFor(peer), { logger: log, createProducer })
    onTestFinished(() => uplink.stop())
    await uplink.start()
    const warning = await log.waitFor('batches events differently')
    expect(warning.obj).toMatchObject({ differs: expect.stringContaining('_generateMessage') })
    expect(uplink.encoding).toBe('sdk')
    const entries = buildEntries(50, 5)
    expect(await uplink.send(entries, never)).toEqual({ rejected: [] })
    expect(peer.received().map((e) => e.messageId).sort()).toEqual(entries.map((e) => e.id).sort())
  })
})

function configFor(peer: EventHubsPeer): ReturnType<typeof eventHubsUplinkSchema.parse> {
  return eventHubsUplinkSchema.parse({ type: 'eventhubs', id: 'eh', connectionString: peer.connectionString(), sendTimeoutMs: 5_000 })
}

/** A view of `batch` with its public members only (no SDK internals). */
function hideGenerate(batch: EventDataBatch): EventDataBatch {
  return {
    get partitionKey() { return batch.partitionKey },
    get partitionId() { return batch.partitionId },
    get sizeInBytes() { return batch.sizeInBytes },
    get count() { return batch.count },
    get maxSizeInBytes() { return batch.maxSizeInBytes },
    tryAdd: (event, options) => batch.tryAdd(event, options),
  }
}
