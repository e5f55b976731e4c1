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
 * - The partition count comes from the hub (`getPartitionIds`, a `$management` read) before the
 *   first send. Every REFRESH_MS it is read again in the background while sends go on with the
 *   count they have, so a hub whose partition count was raised is followed (the service's own
 *   mapping of keys changes then too). A failed refresh keeps the count; with none known yet the
 *   send fails (retriable) and nothing is sent.
 * - Partition ids are "0".."n-1", as the SDK's own mapping assumes; a hub answering otherwise is
 *   refused with a clear error rather than routed by guesswork.
 * - If the hub refuses to tell its partitions (401: a Send-only policy, where the service wants
 *   Listen for runtime information), the uplink falls back to partition keys for the life of this
 *   router and says so once. The service's hash is ours, so every device stays on the partition
 *   it would have had: nothing is reordered by the fallback, only batched per device again.
 * - A key maps to the same partition for as long as the count does not change: order per device
 *   holds because the uplink's key order (key-order.ts) then runs per partition.
 * - Memory: the key → partition cache is cleared when it reaches CACHE_MAX keys, and when the
 *   count changes.
 */
import type { BatchTarget } from './batch-sender.js'
import { partitionIndexOf } from './partition-hash.js'

/** The partition count is read again, in the background, when older than this. */
export const REFRESH_MS = 5 * 60_000
const CACHE_MAX = 50_000

export interface PartitionRouterOptions {
  /** Monotonic ms clock. @default performance.now */
  now?: () => number
  /** Whether a failed `getPartitionIds` means "not allowed" (fall back to keys) rather than "try again". @default never */
  refusedIds?: (err: unknown) => boolean
  /** Called once when the router falls back to partition keys. */
  onFallback?: (err: unknown) => void
}

export class PartitionRouter {
  private count = 0
  private fetchedAtMs = -Infinity
  private refreshing: Promise<void> | undefined
  /** The hub would not tell its partitions: route by key (see the module comment). */
  private keyed = false
  private readonly cache = new Map<string, string>()
  private readonly now: () => number

  /** @param fetchIds reads the hub's partition ids (under the uplink's deadline) */
  constructor(
    private readonly fetchIds: () => Promise<string[]>,
    private readonly options: PartitionRouterOptions = {},
  ) {
    this.now = options.now ?? (() => performance.now())
  }

  /**
   * Resolves once routes can be computed: at once when the count is known (a stale one is
   * refreshed in the background); else after reading it. Rejects only when no count is known
   * and the hub could not be asked.
   */
  async ready(): Promise<void> {
    if (this.keyed) return
    if (this.count > 0) {
      if (this.now() - this.fetchedAtMs >= REFRESH_MS) {
        this.refreshing ??= this.fetch().catch(() => undefined).finally(() => (this.refreshing = undefined))
      }
      return
    }
    await this.fetch()
  }

  /** What a group of events is keyed by: a partition id, or (fallen back) the partition key itself. */
  routeOf(partitionKey: string): string {
    if (this.keyed) return partitionKey
    let id = this.cache.get(partitionKey)
    if (id === undefined) {
      if (this.cache.size >= CACHE_MAX) this.cache.clear()
      id = String(partitionIndexOf(partitionKey, this.count))
      this.cache.set(partitionKey, id)
    }
    return id
  }

  /** Where the AMQP batches of a route go. */
  targetOf(route: string): BatchTarget {
    return this.keyed ? { partitionKey: route } : { partitionId: route }
  }

  /** The number of partitions known (0 before the first `ready()`, or after falling back to keys). */
  get partitionCount(): number {
    return this.keyed ? 0 : this.count
  }

  /** Resolves once no background refresh is running (tests). */
  async idle(): Promise<void> {
    await this.refreshing
  }

  /** Whether the router fell back to partition keys. */
  get fellBackToKeys(): boolean {
    return this.keyed
  }

  private async fetch(): Promise<void> {
    let ids: string[]
    try {
      ids = await this.fetchIds()
    } catch (err) {
      if (this.count > 0) {
        this.fetchedAtMs = this.now() // keep the count; try again after REFRESH_MS
        return
      }
      if (this.options.refusedIds?.(err)) {
        this.keyed = true
        this.options.onFallback?.(err)
        return
      }
      throw err
    }
    if (ids.length === 0 || ids.some((id, i) => id !== String(i))) {
      throw new Error(`the event hub reported partition ids ${JSON.stringify(ids.slice(0, 8))}; routing: partition needs "0".."n-1"`)
    }
    if (ids.length !== this.count) this.cache.clear()
    this.count = ids.length
    this.fetchedAtMs = this.now()
  }
}
