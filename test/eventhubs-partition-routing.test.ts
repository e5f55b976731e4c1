/**
 * `routing: partition`: the uplink computes each event's partition from its key with the service's
 * hash and sends one AMQP batch per partition (gateway/uplink/eventhubs/partition-routing.ts).
 * Real SDK against the local AMQP peer; the hash is checked against the SDK's own (internal) one.
 */
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { describe, expect, it } from 'vitest'
import { partitionIndexOf } from '../gateway/uplink/eventhubs/partition-hash.js'
import { PartitionRouter, REFRESH_MS } from '../gateway/uplink/eventhubs/partition-routing.js'
import { buildEntries, sourceOf } from './support/eh-entries.js'
import { ehVerdict } from './support/eh-verdict.js'
import { never } from './support/eh-uplink-harness.js'
import { repoRoot } from './support/cli-run.js'
import { startPeerWithUplinkForTest } from './per-test-resources.js'

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
  for (const thread of ['main', 'worker'] as const) {
    it(`sends each device's events to the partition of its key, one AMQP batch per partition, in order (thread: ${thread})`, async () => {
      const { peer, uplink } = await startPeerWithUplinkForTest({ partitionCount: 4 }, { routing: 'partition', mode: 'structured', thread })
      const devices = 40
      const entries = buildEntries(devices * 10, devices)
      expect(await uplink.send(entries, never)).toEqual({ rejected: [] })

      const got = peer.received()
      expect(got).toHaveLength(entries.length)
      for (const ev of got) {
        const source = (JSON.parse(ev.body.toString('utf8')) as { source: string }).source
        expect(ev.address).toBe(`hub/Partitions/${partitionIndexOf(source, 4)}`)
        expect(ev.partitionKey).toBeUndefined() // a partition sender carries no key
      }
      expect(peer.batches().length).toBeLessThanOrEqual(4) // not one per device
      const expected = new Map(Array.from({ length: devices }, (_, d) => [sourceOf(d), 10]))
      expect(ehVerdict(got, expected)).toMatchObject({ delivered: entries.length, lost: 0, reordered: 0, duplicated: 0 })
    })
  }
})

describe('PartitionRouter', () => {
  it('reads the ids once, again when stale, keeps them when a refresh fails, and fails only with none', async () => {
    let nowMs = 0
    const answers: Array<string[] | Error> = [new Error('hub unreachable'), ['0', '1'], new Error('blip'), ['0', '1', '2', '3']]
    let fetches = 0
    const router = new PartitionRouter(async () => {
      const a = answers[fetches++]!
      if (a instanceof Error) throw a
      return a
    }, () => nowMs)

    await expect(router.ready()).rejects.toThrow('hub unreachable') // nothing known: the send fails (retriable)
    await router.ready()
    expect(router.partitionCount).toBe(2)
    const key = sourceOf(3)
    expect(router.partitionOf(key)).toBe(String(partitionIndexOf(key, 2)))
    await router.ready() // fresh: no fetch
    expect(fetches).toBe(2)

    nowMs += REFRESH_MS
    await router.ready() // stale, the refresh fails: the old ids stay
    expect(router.partitionCount).toBe(2)
    nowMs += REFRESH_MS
    await router.ready() // the hub grew: keys are mapped anew
    expect(router.partitionCount).toBe(4)
    expect(router.partitionOf(key)).toBe(String(partitionIndexOf(key, 4)))
  })
})
