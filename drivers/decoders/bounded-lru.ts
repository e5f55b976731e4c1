/**
 * A Map with a fixed capacity that evicts the least recently used key. Used for per-device
 * de-duplication state so memory stays bounded however many devices a scanner hears
 * (ARCHITECTURE.md promise 4: in-memory buffers have fixed caps).
 */
export class BoundedLru<V> {
  private readonly entries = new Map<string, V>()

  /** @param maxEntries capacity, at least 1; a TypeError names the field otherwise. */
  constructor(readonly maxEntries: number) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1) {
      throw new TypeError(`maxEntries must be a positive integer, got ${maxEntries}`)
    }
  }

  /** The value for `key`, marking it most recently used. */
  get(key: string): V | undefined {
    const value = this.entries.get(key)
    if (value !== undefined) {
      this.entries.delete(key)
      this.entries.set(key, value)
    }
    return value
  }

  /** Stores `value` as most recently used, evicting the oldest key when full. */
  set(key: string, value: V): void {
    this.entries.delete(key)
    this.entries.set(key, value)
    if (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value
      if (oldest !== undefined) this.entries.delete(oldest)
    }
  }

  /** Number of keys held (never more than `maxEntries`). */
  get size(): number {
    return this.entries.size
  }
}
