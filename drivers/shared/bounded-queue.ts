/**
 * A fixed-capacity FIFO between a callback producer that cannot wait (a GPIO interrupt, noble's
 * discover event) and an async consumer that awaits `sink.push` (ARCHITECTURE 2.4: in-memory
 * buffers have fixed caps). What to do when it is full is the caller's policy (GPIO: count the
 * drop; BLE: evict the oldest telemetry with `shift()`), so this queue only refuses.
 *
 * Invariants:
 * - never holds more than `capacity` items; the slots are allocated once (a ring), so a busy
 *   source never reallocates and push/shift are O(1);
 * - `offer` never waits and never throws: a full queue refuses the item and stores nothing;
 * - items leave in arrival order; a removed item's slot is cleared so it can be collected;
 * - `take` returns undefined once its signal aborts, leaving queued items for `drain()`.
 */
import { ConsumerWakeup } from './consumer-wakeup.js'

export class BoundedQueue<T> {
  private readonly slots: Array<T | undefined>
  private head = 0
  private count = 0

  /**
   * @param capacity most items held at once, a positive integer; TypeError otherwise.
   * @param wakeup notified on every accepted offer; share one between queues that a single
   *   consumer waits on together (drivers/ble/reading-queue.ts).
   */
  constructor(
    readonly capacity: number,
    private readonly wakeup = new ConsumerWakeup(),
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new TypeError(`capacity must be a positive integer, got ${capacity}`)
    this.slots = new Array<T | undefined>(capacity)
  }

  get size(): number {
    return this.count
  }

  /** Appends `item`; false (and nothing stored) when the queue is full. */
  offer(item: T): boolean {
    if (this.count >= this.capacity) return false
    this.slots[(this.head + this.count) % this.capacity] = item
    this.count++
    this.wakeup.notify()
    return true
  }

  /** Removes and returns the oldest item without waiting; undefined when empty. */
  shift(): T | undefined {
    if (this.count === 0) return undefined
    const item = this.slots[this.head]
    this.slots[this.head] = undefined
    this.head = (this.head + 1) % this.capacity
    this.count--
    return item
  }

  /** The oldest item, waiting for one; undefined once `signal` aborts (items stay queued). */
  async take(signal: AbortSignal): Promise<T | undefined> {
    return (await this.wakeup.waitUntil(() => this.count > 0, signal)) ? this.shift() : undefined
  }

  /** Removes and returns everything queued, oldest first. */
  drain(): T[] {
    const out: T[] = []
    while (this.count > 0) out.push(this.shift()!)
    return out
  }
}
