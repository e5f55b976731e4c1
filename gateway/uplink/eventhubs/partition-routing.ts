/**
 * `routing: partition`: the uplink picks each event's partition itself, from its partition key and
 * the service's own hash (partition-hash.ts), and sends one AMQP batch per PARTITION instead of one
 * per partition key (per device, by default).
 *
 * Why: each AMQP batch costs a round trip to the service and ~100 µs of CPU on each side whatever
 * its size. With many devices a forwarder batch splits into one small AMQP batch per device (100
 * devices: ~40 events each), so the sends take ceil(devices / 32) round trips: on a 100 ms link
 * and 1,000 devices, ~3 s per forwarder batch. Per partition there are at most as many AMQP
 * batches as the hub has partitions (4 to 32 usually), each as full as the service allows.
 *
 * What it changes for consumers: events land on the partition the service would have chosen for
 * their key, in order per device, but they carry no partition key (Event Hubs does not allow a key
 * on a partition sender; the SDK's buffered producer routes keyed events this same way).
 *
 * Invariants:
 * - The partition ids come from the hub (`getPartitionIds`, a `$management` read) and are read
 *   again when older than REFRESH_MS, so a hub whose partition count was raised is followed (the
 *   service's own mapping of keys changes then too). A failed refresh keeps the ids it had; with no
 *   ids at all the send fails (retriable) and nothing is sent.
 * - A key maps to the same partition for as long as the ids do not change: per device order holds
 *   because the uplink's key order (key-order.ts) then runs per partition.
 * - Memory: the key → partition cache is cleared when it reaches CACHE_MAX keys, and when the ids
 *   change.
 */
import type { BatchTarget } from './batch-sender.js'
import { partitionIndexOf } from './partition-hash.js'

/** Partition ids older than this are read again before a send. */
export const REFRESH_MS = 5 * 60_000
const CACHE_MAX = 50_000

export class PartitionRouter {
  private ids: string[] = []
  private fetchedAtMs = -Infinity
  private readonly cache = new Map<string, string>()

  /**
   * @param fetchIds reads the hub's partition ids (under the uplink's deadline)
   * @param now monotonic ms clock
   */
  constructor(
    private readonly fetchIds: () => Promise<string[]>,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Makes sure the ids are known and fresh. Rejects only when none are known. */
  async ready(): Promise<void> {
    if (this.ids.length > 0 && this.now() - this.fetchedAtMs < REFRESH_MS) return
    let ids: string[]
    try {
      ids = await this.fetchIds()
    } catch (err) {
      if (this.ids.length > 0) {
        this.fetchedAtMs = this.now() // keep what we had; try again after REFRESH_MS
        return
      }
      throw err
    }
    if (ids.length === 0) throw new Error('the event hub reported no partitions')
    if (ids.join(',') !== this.ids.join(',')) this.cache.clear()
    this.ids = ids
    this.fetchedAtMs = this.now()
  }

  /** The partition id of `partitionKey`. Call after `ready()` resolved. */
  partitionOf(partitionKey: string): string {
    let id = this.cache.get(partitionKey)
    if (id === undefined) {
      if (this.cache.size >= CACHE_MAX) this.cache.clear()
      id = this.ids[partitionIndexOf(partitionKey, this.ids.length)]!
      this.cache.set(partitionKey, id)
    }
    return id
  }

  /** The number of partitions known (0 before the first `ready()`). */
  get partitionCount(): number {
    return this.ids.length
  }
}

/** The AMQP batch target of a group key: the key itself, or (routing: partition) a partition id. */
export function targetOf(routing: 'key' | 'partition'): (key: string) => BatchTarget {
  return routing === 'partition' ? (id) => ({ partitionId: id }) : (key) => ({ partitionKey: key })
}
