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

/** Fixed-capacity FIFO ring: O(1) push/shift, no reallocation while the source runs. */
class Ring<T> {
  private readonly slots: Array<T | undefined>
  private head = 0
  size = 0

  constructor(capacity: number) {
    this.slots = new Array<T | undefined>(capacity)
  }

  push(item: T): void {
    this.slots[(this.head + this.size) % this.slots.length] = item
    this.size++
  }

  shift(): T | undefined {
    if (this.size === 0) return undefined
    const item = this.slots[this.head]
    this.slots[this.head] = undefined // let the reading be collected
    this.head = (this.head + 1) % this.slots.length
    this.size--
    return item
  }
}

/** What {@link ReadingQueue.offer} did. */
export interface OfferResult {
  /** False: the reading was not queued (only an alert into a queue full of alerts). */
  queued: boolean
  /** Telemetry readings removed to make room (0 or 1). */
  evicted: number
}

export class ReadingQueue {
  private readonly alerts: Ring<Reading>
  private readonly telemetry: Ring<Reading>
  private wake: (() => void) | undefined

  /** @param capacity most readings held at once, at least 1; TypeError otherwise. */
  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new TypeError(`capacity must be a positive integer, got ${capacity}`)
    this.alerts = new Ring(capacity)
    this.telemetry = new Ring(capacity)
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
    ;(reading.priority === 'alert' ? this.alerts : this.telemetry).push(reading)
    this.wake?.()
    return { queued: true, evicted }
  }

  /**
   * Up to `max` readings (alerts first), waiting while the queue is empty. Resolves with [] once
   * `signal` aborts; queued readings stay for {@link drain}.
   */
  async take(max: number, signal: AbortSignal): Promise<Reading[]> {
    while (this.size === 0) {
      if (signal.aborted) return []
      await new Promise<void>((resolve) => {
        const done = (): void => {
          signal.removeEventListener('abort', done)
          this.wake = undefined
          resolve()
        }
        this.wake = done
        signal.addEventListener('abort', done, { once: true })
      })
    }
    return this.takeNow(max)
  }

  /** Up to `max` queued readings, alerts first, without waiting. */
  takeNow(max: number): Reading[] {
    const out: Reading[] = []
    while (out.length < max && this.alerts.size > 0) out.push(this.alerts.shift()!)
    while (out.length < max && this.telemetry.size > 0) out.push(this.telemetry.shift()!)
    return out
  }
}
