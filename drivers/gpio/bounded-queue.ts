/**
 * A fixed-capacity FIFO between a callback producer (the GPIO interrupt) and an async consumer
 * (the loop that awaits `sink.push`). The producer never waits: a full queue refuses the item and
 * the caller counts the drop.
 */
export class BoundedQueue<T> {
  private readonly items: T[] = []
  private wake: (() => void) | undefined

  /** @param capacity most items held at once */
  constructor(readonly capacity: number) {}

  get size(): number {
    return this.items.length
  }

  /** Appends `item`; false (and nothing stored) when the queue is full. */
  offer(item: T): boolean {
    if (this.items.length >= this.capacity) return false
    this.items.push(item)
    this.wake?.()
    return true
  }

  /** The oldest item, waiting for one; undefined once `signal` aborts (items stay queued). */
  async take(signal: AbortSignal): Promise<T | undefined> {
    while (this.items.length === 0) {
      if (signal.aborted) return undefined
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
    return this.items.shift()
  }

  /** Removes and returns everything queued. */
  drain(): T[] {
    return this.items.splice(0)
  }
}
