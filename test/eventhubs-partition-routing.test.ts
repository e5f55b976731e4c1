/**
 * `routing: partition`: the uplink computes each event's partition from its key with the service's
 * hash and sends one AMQP batch per partition (gateway/uplink/eventhubs/partition-routing.ts).
 * Real SDK against the local AMQP peer; the hash is checked against the SDK's own (internal) one.
 */
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { describe, expect, it, onTestFinished } from 'vitest'
import { UplinkError } from '../gateway/core/errors.js'
import { eventHubsUplinkSchema } from '../gateway/uplink/eventhubs/config.js'
import { EventHubsUplink } from '../gateway/uplink/eventhubs/eventhubs-uplink.js'
import { partitionIndexOf } from '../gateway/uplink/eventhubs/partition-hash.js'
import { PartitionRouter, REFRESH_MS } from '../gateway/uplink/eventhubs/partition-routing.js'
import { buildEntries, sourceOf } from './support/eh-entries.js'
import { cloudEventsIn, cloudEventsOf, ehVerdict } from './support/eh-verdict.js'
import { never } from './support/eh-uplink-harness.js'
import { repoRoot } from './support/cli-run.js'
import { startPeerForTest, startPeerWithUplinkForTest, startUplinkForTest } from './per-test-resources.js'

/** The SDK's client-side key → partition mapping (used by its buffered producer); not exported, so loaded by path. */
async function sdkMapper(): Promise<(key: string, count: number) => number> {
  const file = path.join(repoRoot, 'node_modules/@azure/event-hubs/dist/esm/impl/partitionKeyToIdMapper.js')
  const mod = (await import(pathToFileURL(file).href)) as { mapPartitionKeyToId: (key: string, count: number) => number }
  return mod.mapPartitionKeyToId
}

describe('partition hash', () => {
  it('gives every key the partition the SDK (and so the service) gives it, for any length and UTF-8', async () => {
    const sdk = await sdkMapper()
    const alphabet = [...'aZ09/-_.:é漢😀']
    let seed = 7
    const random = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31)
    const mismatches: string[] = []
    for (let length = 0; length <= 40; length++) {
      for (let t = 0; t < 50; t++) {
        const key = Array.from({ length }, () => alphabet[Math.floor(random() * alphabet.length)]).join('')
        for (const count of [1, 2, 4, 7, 32, 1024]) {
          if (partitionIndexOf(key, count) !== sdk(key, count)) mismatches.push(`${JSON.stringify(key)} of ${count}`)
        }
      }
    }
    expect(mismatches).toEqual([])
    expect(new Set(Array.from({ length: 100 }, (_, d) => partitionIndexOf(sourceOf(d), 4)))).toEqual(new Set([0, 1, 2, 3]))
  })
})

describe('EventHubsUplink, routing: partition', () => {
  // batch mode too: a JSON batch document then holds several devices of one partition.
  const cases = [['main', 'structured'], ['worker', 'structured'], ['main', 'batch']] as const
  for (const [thread, mode] of cases) {
    it(`sends each device's events to the partition of its key, one AMQP batch per partition, in order (thread: ${thread}, ${mode})`, async () => {
      const { peer, uplink } = await startPeerWithUplinkForTest({ partitionCount: 4 }, { routing: 'partition', mode, thread })
      const devices = 40
      const entries = buildEntries(devices * 10, devices)
      expect(await uplink.send(entries, never)).toEqual({ rejected: [] })

      const got = peer.received()
      expect(cloudEventsOf(got)).toHaveLength(entries.length)
      for (const ev of got) {
        for (const { source } of cloudEventsIn(ev)) expect(ev.address).toBe(`hub/Partitions/${partitionIndexOf(source, 4)}`)
        expect(ev.partitionKey).toBeUndefined() // a partition sender carries no key
      }
      expect(peer.batches().length).toBeLessThanOrEqual(4) // not one per device
      const expected = new Map(Array.from({ length: devices }, (_, d) => [sourceOf(d), 10]))
      expect(ehVerdict(got, expected)).toMatchObject({ delivered: entries.length, lost: 0, reordered: 0, duplicated: 0 })
    })
  }
})

describe('EventHubsUplink, routing: partition, when the hub will not list its partitions', () => {
  it('refused (a Send-only policy): falls back to partition keys, same partitions, nothing held back', async () => {
    const peer = await startPeerForTest({ partitionCount: 4 })
    peer.refuseManagement(true)
    const uplink = await startUplinkForTest(peer, { routing: 'partition', mode: 'structured' })
    const entries = buildEntries(40, 4)
    expect(await uplink.send(entries, never)).toEqual({ rejected: [] })
    const got = peer.received()
    expect(got).toHaveLength(40)
    for (const ev of got) {
      // Sent keyed, to the hub: the service hashes the key to the partition we would have chosen.
      expect(ev.partitionKey).toBe((JSON.parse(ev.body.toString('utf8')) as { source: string }).source)
      expect(ev.address).toBe('hub')
    }
    expect(ehVerdict(got, new Map([0, 1, 2, 3].map((d) => [sourceOf(d), 10])))).toMatchObject({ delivered: 40, lost: 0, reordered: 0 })
  })

  it('failing (transient): a send queued behind the failed one fails with it instead of going out first', async () => {
    const peer = await startPeerForTest({ partitionCount: 4 })
    peer.failManagement(2) // the warm-up's read and the first send's; a third would be answered
    let warmedUp!: () => void
    const warmUp = new Promise<void>((resolve) => (warmedUp = resolve))
    const config = eventHubsUplinkSchema.parse({ type: 'eventhubs', id: 'eh', connectionString: peer.connectionString(), routing: 'partition', mode: 'structured' })
    const uplink = new EventHubsUplink(config, {
      sdkRetryOptions: { maxRetries: 0 }, // one $management read per attempt: the count above is exact
      onHealthChange: (h) => (h.detail !== 'connecting' ? warmedUp() : undefined),
    })
    await uplink.start()
    onTestFinished(() => uplink.stop())
    await warmUp // its read failed
    const all = buildEntries(20, 1)
    const first = uplink.send(all.slice(0, 10), never).catch((e: unknown) => e)
    const second = uplink.send(all.slice(10), never).catch((e: unknown) => e) // the forwarder's next batch
    expect(await first).toBeInstanceOf(UplinkError)
    expect(await second).toBeInstanceOf(UplinkError)
    expect(peer.received()).toHaveLength(0) // the later events did not overtake
    expect(peer.stats().managementRequests).toBe(2) // and the queued send did not ask the hub again
    await uplink.send(all, never) // the resend after the rewind: the hub answers now
    expect(ehVerdict(peer.received(), new Map([[sourceOf(0), 20]]))).toMatchObject({ delivered: 20, lost: 0, reordered: 0 })
    expect(peer.received().every((e) => e.address === `hub/Partitions/${partitionIndexOf(sourceOf(0), 4)}`)).toBe(true)
  })
})

describe('PartitionRouter', () => {
  it('reads the count before the first send, refreshes it in the background, keeps it when a refresh fails', async () => {
    let nowMs = 0
    const answers: Array<string[] | Error> = [new Error('hub unreachable'), ['0', '1'], new Error('blip'), ['0', '1', '2', '3']]
    let fetches = 0
    const router = new PartitionRouter(async () => {
      const a = answers[fetches++]!
      if (a instanceof Error) throw a
      return a
    }, { now: () => nowMs })

    await expect(router.ready()).rejects.toThrow('hub unreachable') // nothing known: the send fails (retriable)
    await router.ready()
    expect(router.partitionCount).toBe(2)
    const key = sourceOf(3)
    expect(router.routeOf(key)).toBe(String(partitionIndexOf(key, 2)))
    expect(router.targetOf('1')).toEqual({ partitionId: '1' })
    await router.ready() // fresh: no fetch
    expect(fetches).toBe(2)

    nowMs += REFRESH_MS
    await router.ready() // stale: the refresh runs in the background and fails; the count stays
    await router.idle()
    expect(fetches).toBe(3)
    expect(router.partitionCount).toBe(2)
    nowMs += REFRESH_MS
    await router.ready() // the hub grew: seen once the background refresh is back
    await router.idle()
    expect(router.partitionCount).toBe(4)
    expect(router.routeOf(key)).toBe(String(partitionIndexOf(key, 4)))
  })

  it('refuses ids other than "0".."n-1", and falls back to keys when the hub will not tell them', async () => {
    await expect(new PartitionRouter(async () => ['a', 'b']).ready()).rejects.toThrow(/needs "0".."n-1"/)
    const fallbacks: unknown[] = []
    const refused = Object.assign(new Error('401'), { code: 'UnauthorizedError' })
    const router = new PartitionRouter(async () => { throw refused }, { refusedIds: (err) => err === refused, onFallback: (err) => fallbacks.push(err) })
    await router.ready()
    expect(router.fellBackToKeys).toBe(true)
    expect(router.routeOf('dev-1')).toBe('dev-1')
    expect(router.targetOf('dev-1')).toEqual({ partitionKey: 'dev-1' })
    await router.ready()
    expect(fallbacks).toEqual([refused]) // said once
  })
})
