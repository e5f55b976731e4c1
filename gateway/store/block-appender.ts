/**
 * whenFull=block: an append that does not fit waits for acks or expiry to free room.
 *
 * - Alerts never wait behind telemetry (promise 5): they are committed first and may evict
 *   telemetry; they wait only when the store holds nothing but alerts.
 * - Telemetry waits in a FIFO across appends, so a later append cannot overtake an earlier one
 *   (order per device, promise 6). Each part is committed all-or-nothing, in order.
 * - A part only waits for room if it could fit once the store has room: it is at most maxBytes,
 *   and at most the store's capacity an attempt found (its bytes plus the disk's headroom, when
 *   the disk is the limit). A larger part is split at once: on a disk smaller than one append,
 *   waiting for the whole of it would never end, even with the store empty.
 * - An abort while waiting rejects with AppendAbortedError carrying what the parts committed so far
 *   stored and evicted: those parts are durable and will be delivered, so a caller must not count
 *   them as dropped. A commit already in flight when the signal fires is not undone. Any other
 *   failure after a part was committed (the store closing, a write error) rejects with a
 *   PartialAppendError (AppendAbortedError's base) carrying the same counts.
 * - Observable: `waiting` counts the appends parked until room is freed (StoreStats.blockedAppends),
 *   and `parked` is notified each time one parks, so a caller can await "this append is blocked"
 *   instead of guessing with a timer.
 * - Either error says which events are lost (`lost`: those of no committed part), since with
 *   alerts committed first they need not be the batch's last ones.
 */
import { AppendAbortedError, withSettled } from '../core/errors.js'
import type { AppendResult } from '../core/types.js'
import type { PreparedEvent } from './append-plan.js'
import type { CommitOptions } from './log-writer.js'
import { Notifier } from './serial-lock.js'

const ALL_OR_NOTHING: CommitOptions = { allOrNothing: true, stopOnReject: true }

export interface BlockingDeps {
  maxBytes: number
  /** One locked commit attempt; undefined when the events did not all fit. */
  commit: (events: PreparedEvent[], counters: ReadonlyMap<string, number>, opts: CommitOptions) => Promise<AppendResult | undefined>
  /** Notified whenever room was freed. Only this appender waits on it: its waiters are the parked appends. */
  space: Notifier
  /** Throws GW_ERR_STORE_CLOSED once the store is closing. */
  assertOpen: () => void
}

/** One class's events of an append and how many of them (a prefix) are committed so far. */
interface Progress {
  events: readonly PreparedEvent[]
  committed: number
}

/** Batch indices of the events not committed yet, ascending: what a failure now loses. */
function uncommitted(progress: readonly Progress[]): number[] {
  return progress.flatMap((p) => p.events.slice(p.committed).map((e) => e.index)).sort((a, b) => a - b)
}

/** How many events from `from` on make a part of at most `maxBytes` (always at least one). */
function partLength(events: readonly PreparedEvent[], from: number, maxBytes: number): number {
  let bytes = events[from]!.sizeBytes
  let end = from + 1
  while (end < events.length && bytes + events[end]!.sizeBytes <= maxBytes) bytes += events[end++]!.sizeBytes
  return end - from
}

export class BlockingAppender {
  private readonly telemetryQueue: object[] = []
  /** Notified each time an append parks to wait for room; the store notifies it at close too. */
  readonly parked = new Notifier()

  constructor(private readonly deps: BlockingDeps) {}

  /**
   * Appends parked right now until room is freed (for room itself, or behind an earlier waiting
   * append). Room being announced releases them at once, so the count drops before they retry,
   * and rises again only for those that find too little.
   */
  get waiting(): number {
    return this.deps.space.waiting
  }

  /**
   * @throws AppendAbortedError (GW_ERR_STORE_FULL) when `signal` aborts while waiting; its
   * `committed` counts the parts already stored, its `lost` lists the other events. Other failures
   * after a part was committed throw a PartialAppendError with the same.
   */
  async append(events: PreparedEvent[], counters: ReadonlyMap<string, number>, signal?: AbortSignal): Promise<AppendResult> {
    if (this.telemetryQueue.length === 0) {
      const result = await this.deps.commit(events, counters, ALL_OR_NOTHING)
      if (result) return result
    }
    const committed: AppendResult = { accepted: 0, rejected: 0, evicted: 0 }
    const alerts: Progress = { events: events.filter((e) => e.event.priority === 'alert'), committed: 0 }
    const telemetry: Progress = { events: events.filter((e) => e.event.priority === 'telemetry'), committed: 0 }
    try {
      await this.commitInParts(alerts, counters, signal, undefined, committed)
      if (telemetry.events.length === 0) return committed
      const ticket = {}
      this.telemetryQueue.push(ticket)
      try {
        await this.commitInParts(telemetry, counters, signal, ticket, committed)
      } finally {
        this.telemetryQueue.splice(this.telemetryQueue.indexOf(ticket), 1)
        this.deps.space.notify() // the next queued append may now be first
      }
      return committed
    } catch (err) {
      // Aborted, closing or a write error after some parts: say which events are stored.
      throw withSettled(err, committed, uncommitted([alerts, telemetry]))
    }
  }

  /**
   * Commits `progress.events` in order, in parts (see the invariants), each once there is room for
   * it, and adds each part to `committed` and `progress` as soon as it is durable (an abort
   * reports what is in it).
   */
  private async commitInParts(
    progress: Progress,
    counters: ReadonlyMap<string, number>,
    signal: AbortSignal | undefined,
    ticket: object | undefined,
    committed: AppendResult,
  ): Promise<void> {
    const { events } = progress
    let capacityBytes = this.deps.maxBytes
    let from = 0
    while (from < events.length) {
      const part = events.slice(from, from + partLength(events, from, capacityBytes))
      const result = await this.commitWhenRoom(part, counters, signal, ticket, committed)
      if ('capacityBytes' in result) {
        capacityBytes = result.capacityBytes // split the part, without waiting
        continue
      }
      committed.accepted += result.accepted
      committed.evicted += result.evicted
      from += part.length
      progress.committed = from
    }
  }

  /** Commits `part` once there is room, or says the store's capacity is below it (it must be split). */
  private async commitWhenRoom(
    part: PreparedEvent[],
    counters: ReadonlyMap<string, number>,
    signal: AbortSignal | undefined,
    ticket: object | undefined,
    committed: Readonly<AppendResult>,
  ): Promise<AppendResult | { capacityBytes: number }> {
    const partBytes = part.reduce((n, e) => n + e.sizeBytes, 0)
    for (;;) {
      this.deps.assertOpen()
      if (signal?.aborted) throw new AppendAbortedError({ ...committed }, signal.reason)
      const epoch = this.deps.space.epoch
      if (!ticket || this.telemetryQueue[0] === ticket) {
        const found = { capacityBytes: Infinity }
        const result = await this.deps.commit(part, counters, { ...ALL_OR_NOTHING, onShortfall: (bytes) => (found.capacityBytes = bytes) })
        if (result) return result
        if (part.length > 1 && found.capacityBytes < partBytes) return found
      }
      // Only sleep if no room was freed since the attempt started; otherwise retry at once.
      if (this.deps.space.epoch === epoch) {
        const roomFreed = this.deps.space.wait(signal)
        this.parked.notify()
        await roomFreed
      }
    }
  }
}
