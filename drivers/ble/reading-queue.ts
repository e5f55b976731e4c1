/**
 * The bounded buffer between noble's callbacks (which cannot wait) and the loop that awaits
 * `sink.push` (which waits whenever the ingest buffer is full). ARCHITECTURE 2.5: BLE adverts are
 * periodic, so under backpressure they are dropped and counted, never buffered without bound;
 * doorbell-type alerts are not dropped for telemetry.
 *
 * Policy when `capacity` readings are queued:
 * - new telemetry: the OLDEST queued telemetry goes (core `Priority`: "under pressure the oldest
 *   go first"; a fresh measurement is worth more than a stale one of the same sensor);
 * - new alert: the oldest queued telemetry goes to make room; only when the queue holds nothing
 *   but alerts is the new alert refused (the caller counts it as an alert drop and logs an error).
 * Readings leave alerts first, then telemetry, each class in arrival order.
 */
import type { Reading } from '../../gateway/core/types.js'
import { BoundedQueue } from '../shared/bounded-queue.js'
import { ConsumerWakeup } from '../shared/consumer-wakeup.js'

/** What {@link ReadingQueue.offer} did. */
export interface OfferResult {
  /** False: the reading was not queued (only an alert into a queue full of alerts). */
  queued: boolean
  /** Telemetry readings removed to make room (0 or 1). */
  evicted: number
}

export class ReadingQueue {
  // One bounded FIFO per class, each sized for the whole capacity (either class may fill it);
  // `size` across both is what the policy bounds. One wakeup: `take` waits on both together.
  private readonly wakeup = new ConsumerWakeup()
  private readonly alerts: BoundedQueue<Reading>
  private readonly telemetry: BoundedQueue<Reading>

  /** @param capacity most readings held at once, at least 1; TypeError otherwise. */
  constructor(readonly capacity: number) {
    this.alerts = new BoundedQueue(capacity, this.wakeup)
    this.telemetry = new BoundedQueue(capacity, this.wakeup)
  }

  get size(): number {
    return this.alerts.size + this.telemetry.size
  }

  /** Queues `reading` by the policy in the module header. Never waits, never throws. */
  offer(reading: Reading): OfferResult {
    let evicted = 0
    if (this.size >= this.capacity) {
      if (this.telemetry.size === 0) return { queued: false, evicted: 0 }
      this.telemetry.shift()
      evicted = 1
    }
    ;(reading.priority === 'alert' ? this.alerts : this.telemetry).offer(reading)
    return { queued: true, evicted }
  }

  /**
   * Up to `max` readings (alerts first), waiting while the queue is empty. Resolves with [] once
   * `signal` aborts; queued readings stay for {@link takeNow}.
   */
  async take(max: number, signal: AbortSignal): Promise<Reading[]> {
    return (await this.wakeup.waitUntil(() => this.size > 0, signal)) ? this.takeNow(max) : []
  }

  /** Up to `max` queued readings, alerts first, without waiting. */
  takeNow(max: number): Reading[] {
    const out: Reading[] = []
    while (out.length < max && this.alerts.size > 0) out.push(this.alerts.shift()!)
    while (out.length < max && this.telemetry.size > 0) out.push(this.telemetry.shift()!)
    return out
  }
}
