/**
 * Decides which offered events an append stores and what it evicts, following `whenFull`:
 *
 * - `drop_oldest`: telemetry evicts the oldest telemetry; an alert evicts telemetry first and, when
 *   only alerts are left, the oldest alerts. Telemetry never evicts an alert (promise 5).
 * - `reject_new`: telemetry that does not fit is refused; an alert may still evict telemetry.
 * - `block`: like reject_new, but the caller waits for space instead of refusing.
 *
 * The capacity is `limitBytes`: maxBytes, or less when the filesystem is short of space
 * (disk-space-guard.ts). When even evicting would cost disk the filesystem does not have
 * (`mayEvict` false), every event that does not fit is refused, whatever the policy; and no
 * append stores more than `writableBytes` (what the filesystem can take now), evicting or not.
 *
 * Once one telemetry event is refused, the rest of the batch's telemetry is refused too, so what
 * is stored is always a prefix of each device's readings (order per device, promise 6).
 *
 * The plan says which offered events it did not store (`refused`, by their index in the batch),
 * since they need not be at its end: callers attribute each event to whoever offered it. That
 * list is only allocated when something is refused (an append is ~1000 events on the hot path).
 */
import type { NewEvent, WhenFull } from '../core/types.js'
import type { FrontTrimmer } from './front-trimmer.js'
import { encodeEntryValue, entrySizeBytes, type AppendTimes } from './value-codec.js'

export interface PreparedEvent {
  event: NewEvent
  /** Position in the offered batch (AppendBatch.events): how the store says which events it refused. */
  index: number
  /** Encoded value; its cumBytes is filled in at commit time. */
  value: Buffer
  sizeBytes: number
  times: AppendTimes
}

export interface PlanOptions {
  whenFull: WhenFull
  /** store.maxBytes: an event larger than this can never be stored (oversize). */
  maxBytes: number
  /** What the store may hold after this append: maxBytes, or less when the disk is short of space. @default maxBytes */
  limitBytes?: number
  /** False when the disk is too full even for evictions: nothing is evicted, what does not fit is refused. @default true */
  mayEvict?: boolean
  /** Most bytes of events this append may store, evictions or not (the disk's free space). @default Infinity */
  writableBytes?: number
  /** Bytes stored now. */
  usedBytes: number
  /** Stop at the first event that does not fit, so `accepted` is a prefix of the input. */
  stopOnReject: boolean
  trimmer: FrontTrimmer
}

export interface AppendPlan {
  accepted: PreparedEvent[]
  rejected: number
  /**
   * drop_oldest only: offered telemetry skipped because newer telemetry of the same batch fills
   * the store on its own. They are the oldest readings, so they count as evicted, not refused.
   */
  skippedOldest: number
  /** False when planning stopped early (stopOnReject). */
  complete: boolean
  /** Indices (PreparedEvent.index, ascending) of the events counted in `rejected` or `skippedOldest`; absent when none. */
  refused?: number[]
}

export function prepareEvents(events: readonly NewEvent[], times: AppendTimes): PreparedEvent[] {
  return events.map((event, index) => {
    const value = encodeEntryValue(event, times)
    return { event, index, value, sizeBytes: entrySizeBytes(value), times }
  })
}

/** Bytes that may be evicted to make room for an event of this class under this policy. */
function evictableBytes(isAlert: boolean, opts: PlanOptions): number {
  if (opts.mayEvict === false) return 0
  const telemetry = opts.trimmer.remainingBytes('telemetry')
  if (isAlert) return telemetry + (opts.whenFull === 'drop_oldest' ? opts.trimmer.remainingBytes('alert') : 0)
  return opts.whenFull === 'drop_oldest' ? telemetry : 0
}

async function makeRoom(isAlert: boolean, deficitBytes: number, trimmer: FrontTrimmer): Promise<number> {
  const freed = await trimmer.trimBytes('telemetry', deficitBytes)
  return freed >= deficitBytes || !isAlert ? freed : freed + (await trimmer.trimBytes('alert', deficitBytes - freed))
}

/**
 * Plans one append. Eviction is only planned when it will make the event fit, so a refused event
 * never costs stored data.
 */
export async function planAppend(offered: readonly PreparedEvent[], opts: PlanOptions): Promise<AppendPlan> {
  const limitBytes = Math.min(opts.maxBytes, opts.limitBytes ?? opts.maxBytes)
  const skippedOldest = opts.whenFull === 'drop_oldest' && opts.mayEvict !== false ? oldestThatCannotFit(offered, limitBytes, opts.maxBytes) : 0
  let refused: number[] | undefined
  let events = offered
  if (skippedOldest > 0) {
    refused = []
    events = withoutOldestTelemetry(offered, skippedOldest, opts.maxBytes, refused)
  }
  const accepted: PreparedEvent[] = []
  let usedBytes = opts.usedBytes
  let writable = opts.writableBytes ?? Infinity
  let rejected = 0
  let refuseTelemetry = false
  for (const prepared of events) {
    const isAlert = prepared.event.priority === 'alert'
    const deficitBytes = usedBytes + prepared.sizeBytes - limitBytes
    const oversize = prepared.sizeBytes > opts.maxBytes
    let fits = !oversize && !(refuseTelemetry && !isAlert) && prepared.sizeBytes <= writable
    if (fits && deficitBytes > 0) {
      fits = evictableBytes(isAlert, opts) >= deficitBytes
      if (fits) usedBytes -= await makeRoom(isAlert, deficitBytes, opts.trimmer)
    }
    if (!fits) {
      if (opts.stopOnReject) return { accepted, rejected, skippedOldest, complete: false, ...(refused ? { refused } : {}) }
      rejected++
      refused ??= []
      refused.push(prepared.index)
      // An oversize event is refused on its own; anything else means the store is full.
      if (!isAlert && !oversize) refuseTelemetry = true
      continue
    }
    usedBytes += prepared.sizeBytes
    writable -= prepared.sizeBytes
    accepted.push(prepared)
  }
  // The skipped ones and the refused ones interleave: keep the list in batch order.
  if (skippedOldest > 0 && rejected > 0) refused!.sort((a, b) => a - b)
  return { accepted, rejected, skippedOldest, complete: true, ...(refused ? { refused } : {}) }
}

/**
 * Under drop_oldest the newest readings win, including over older readings of the same batch (a
 * chunk bigger than the whole store after a long outage). Returns how many of the batch's oldest
 * telemetry events cannot be kept even after evicting every stored telemetry entry.
 */
function oldestThatCannotFit(events: readonly PreparedEvent[], limitBytes: number, maxBytes: number): number {
  let bytes = 0
  for (const e of events) if (e.event.priority === 'alert' && e.sizeBytes <= maxBytes) bytes += e.sizeBytes
  let keep = 0
  for (let i = events.length - 1; i >= 0; i--) {
    const e = events[i]!
    if (e.event.priority === 'alert' || e.sizeBytes > maxBytes) continue
    if (bytes + e.sizeBytes > limitBytes) break
    bytes += e.sizeBytes
    keep++
  }
  const telemetry = events.filter((e) => e.event.priority !== 'alert' && e.sizeBytes <= maxBytes).length
  return telemetry - keep
}

/** The batch without its `skip` oldest telemetry events, whose indices go to `skipped`. */
function withoutOldestTelemetry(events: readonly PreparedEvent[], skip: number, maxBytes: number, skipped: number[]): PreparedEvent[] {
  const out: PreparedEvent[] = []
  let left = skip
  for (const e of events) {
    if (left > 0 && e.event.priority !== 'alert' && e.sizeBytes <= maxBytes) {
      left--
      skipped.push(e.index)
      continue
    }
    out.push(e)
  }
  return out
}
