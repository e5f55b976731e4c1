/**
 * DeviceTracker: each device's last reading and when it arrived, for `GET /api/devices` and the
 * status page. It sits between the sources and ingest as a ReadingSink wrapper (`wrap(ingest)`),
 * so no source or pipeline code knows about it.
 *
 * Design:
 * - Bounded: at most `maxDevices` devices; when a new device arrives at the limit, the least
 *   recently heard one is forgotten and counted in `evicted`. A device's `data` is kept only when
 *   a bounded walk finds it smaller than `maxDataBytes`; larger data is replaced by a marker, so
 *   memory is at most about maxDevices × maxDataBytes whatever the sources send.
 * - Cheap on the hot path: per reading one Map lookup and a few field writes (no key strings, no
 *   reordering); per device of a push one bounded size walk of its last reading's data.
 *   Nothing is serialised here.
 * - Recorded when ingest admitted the push (`push` resolved), before the commit: the page shows
 *   what the gateway received. A push refused because the gateway is stopping is not recorded.
 * - Memory only; a restart starts empty.
 */
import type { IngestReceipt, Priority, Reading, ReadingSink } from '../core/types.js'

export interface DeviceTrackerOptions {
  /** Most devices remembered; beyond it the least recently heard is forgotten. @default 1000 */
  maxDevices?: number
  /** Largest `data` kept, estimated bytes of JSON; larger data is replaced by a marker. @default 1024 */
  maxDataBytes?: number
  /** Wall clock, ms since epoch. @default Date.now */
  now?: () => number
}

/** One device as `list()` reports it. */
export interface DeviceSnapshot {
  source: string
  deviceId: string
  kind: string
  priority: Priority
  /** The reading's own time (the sensor's or driver's clock), ms since epoch. */
  timeMs: number
  /** When the gateway received it, ms since epoch. */
  receivedMs: number
  /** now − receivedMs. */
  ageMs: number
  /** Readings of this device since the gateway started (or since it was last evicted). */
  readings: number
  /** The last reading's data, or `{ omitted: "..." }` when it was larger than maxDataBytes. */
  data: unknown
}

interface Tracked {
  source: string
  deviceId: string
  kind: string
  priority: Priority
  timeMs: number
  receivedMs: number
  readings: number
  data: unknown
  /** Sequence number of the push that last touched it: recency for eviction, once-per-push work. */
  push: number
  /** The last reading of the current push, until record() has processed it. */
  pending: Reading | undefined
}

export class DeviceTracker {
  private readonly maxDevices: number
  private readonly maxDataBytes: number
  private readonly now: () => number
  /** source id → device id → device; nested so the hot path builds no key strings. */
  private readonly bySource = new Map<string, Map<string, Tracked>>()
  private count = 0
  private pushes = 0
  private evictedCount = 0

  /** @throws TypeError when maxDevices or maxDataBytes is not a positive integer. */
  constructor(opts: DeviceTrackerOptions = {}) {
    this.maxDevices = opts.maxDevices ?? 1000
    this.maxDataBytes = opts.maxDataBytes ?? 1024
    if (!Number.isSafeInteger(this.maxDevices) || this.maxDevices < 1) throw new TypeError('maxDevices must be an integer >= 1')
    if (!Number.isSafeInteger(this.maxDataBytes) || this.maxDataBytes < 1) throw new TypeError('maxDataBytes must be an integer >= 1')
    this.now = opts.now ?? Date.now
  }

  /** Devices forgotten to stay within maxDevices. */
  get evicted(): number {
    return this.evictedCount
  }

  get size(): number {
    return this.count
  }

  get capacity(): number {
    return this.maxDevices
  }

  /**
   * A ReadingSink that forwards to `sink` and records what it admitted. Same failure semantics as
   * `sink.push`: a rejection passes through unchanged (and nothing is recorded).
   */
  wrap(sink: ReadingSink): ReadingSink {
    return {
      push: async (sourceId: string, readings: Reading[]): Promise<IngestReceipt> => {
        const receipt = await sink.push(sourceId, readings)
        try {
          this.record(sourceId, readings)
        } catch {
          // Only exotic data (a throwing getter) gets here; the readings are admitted regardless,
          // and the page is not worth failing a source's push for.
        }
        return receipt
      },
    }
  }

  /** Records readings of one source as received now. Does not throw for JSON-shaped data. */
  record(sourceId: string, readings: readonly Reading[]): void {
    if (readings.length === 0) return
    const receivedMs = this.now()
    const push = ++this.pushes
    let devices = this.bySource.get(sourceId)
    if (!devices) this.bySource.set(sourceId, (devices = new Map()))
    const touched: Tracked[] = []
    for (const r of readings) {
      let t = devices.get(r.deviceId)
      if (!t) {
        if (this.count >= this.maxDevices) this.evictLeastRecent()
        t = { source: sourceId, deviceId: r.deviceId, kind: r.kind, priority: r.priority, timeMs: r.timeMs, receivedMs, readings: 0, data: undefined, push: 0, pending: undefined }
        devices.set(r.deviceId, t)
        this.count++
      }
      t.readings++
      t.receivedMs = receivedMs
      t.pending = r
      if (t.push !== push) {
        t.push = push
        touched.push(t)
      }
    }
    // Once per device of this push, for its last reading: fields and one bounded size walk.
    for (const t of touched) {
      const r = t.pending!
      t.pending = undefined // hold no reading beyond this call
      t.kind = r.kind
      t.priority = r.priority
      t.timeMs = r.timeMs
      t.data = boundedJsonSize(r.data, this.maxDataBytes) <= this.maxDataBytes ? r.data : { omitted: `data larger than ${this.maxDataBytes} bytes` }
    }
  }

  /** Devices sorted by source then device id; fresh objects. */
  list(): DeviceSnapshot[] {
    const now = this.now()
    const out: DeviceSnapshot[] = []
    for (const devices of this.bySource.values()) {
      for (const { push: _push, pending: _pending, ...t } of devices.values()) out.push({ ...t, ageMs: Math.max(0, now - t.receivedMs) })
    }
    return out.sort((a, b) => (a.source === b.source ? cmp(a.deviceId, b.deviceId) : cmp(a.source, b.source)))
  }

  /**
   * Forgets the device heard longest ago. O(devices), but only when a NEW device arrives while
   * the tracker is full; the steady state (known devices reporting) never gets here.
   */
  private evictLeastRecent(): void {
    let oldest: Tracked | undefined
    for (const devices of this.bySource.values()) {
      for (const t of devices.values()) if (!oldest || t.push < oldest.push) oldest = t
    }
    if (!oldest) return
    const devices = this.bySource.get(oldest.source)!
    devices.delete(oldest.deviceId)
    if (devices.size === 0) this.bySource.delete(oldest.source)
    this.count--
    this.evictedCount++
  }
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)

const MAX_DEPTH = 16

/**
 * An estimate of `JSON.stringify(value).length` that stops as soon as it exceeds `budget`
 * (returns a number > budget), so its cost is bounded by the budget, not by the value's size.
 * Depth beyond MAX_DEPTH and values JSON cannot hold sensibly count as over budget.
 */
export function boundedJsonSize(value: unknown, budget: number): number {
  let total = 0
  const over = budget + 1
  const visit = (v: unknown, depth: number): boolean => {
    if (depth > MAX_DEPTH) return false
    switch (typeof v) {
      case 'string':
        total += v.length + 2
        break
      case 'number':
      case 'boolean':
        total += 8
        break
      case 'undefined':
        total += 4
        break
      case 'object': {
        if (v === null) {
          total += 4
          break
        }
        total += 2
        if (Array.isArray(v)) {
          for (const item of v) {
            total += 1
            if (total > budget || !visit(item, depth + 1)) return false
          }
        } else {
          for (const key in v) {
            if (!Object.prototype.hasOwnProperty.call(v, key)) continue
            total += key.length + 4
            if (total > budget || !visit((v as Record<string, unknown>)[key], depth + 1)) return false
          }
        }
        break
      }
      default:
        return false // bigint, function, symbol: not something to show
    }
    return total <= budget
  }
  return visit(value, 0) ? total : Math.max(over, total)
}
