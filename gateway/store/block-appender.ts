/**
 * whenFull=block: an append that does not fit waits for acks or expiry to free room.
 *
 * - Alerts never wait behind telemetry (promise 5): they are committed first and may evict
 *   telemetry; they wait only when the store holds nothing but alerts.
 * - Telemetry waits in a FIFO across appends, so a later append cannot overtake an earlier one
 *   (order per device, promise 6). Each part is committed all-or-nothing.
 */
import { GatewayError } from '../core/errors.js'
import type { AppendResult } from '../core/types.js'
import type { PreparedEvent } from './append-plan.js'
import type { CommitOptions } from './log-writer.js'
import type { Notifier } from './serial-lock.js'
import { chunkBySize } from './store-util.js'

const ALL_OR_NOTHING: CommitOptions = { allOrNothing: true, stopOnReject: true }

export interface BlockingDeps {
  maxBytes: number
  /** One locked commit attempt; undefined when the events did not all fit. */
  commit: (events: PreparedEvent[], counters: ReadonlyMap<string, number>, opts: CommitOptions) => Promise<AppendResult | undefined>
  /** Notified whenever room was freed. */
  space: Notifier
  /** Throws GW_ERR_STORE_CLOSED once the store is closing. */
  assertOpen: () => void
}

export class BlockingAppender {
  private readonly telemetryQueue: object[] = []

  constructor(private readonly deps: BlockingDeps) {}

  /** @throws GatewayError GW_ERR_STORE_FULL when `signal` aborts while waiting. */
  async append(events: PreparedEvent[], counters: ReadonlyMap<string, number>, signal?: AbortSignal): Promise<AppendResult> {
    if (this.telemetryQueue.length === 0) {
      const result = await this.deps.commit(events, counters, ALL_OR_NOTHING)
      if (result) return result
    }
    const total: AppendResult = { accepted: 0, rejected: 0, evicted: 0 }
    const add = (r: AppendResult): void => {
      total.accepted += r.accepted
      total.evicted += r.evicted
    }
    for (const chunk of chunkBySize(events.filter((e) => e.event.priority === 'alert'), this.deps.maxBytes)) {
      add(await this.commitWhenRoom(chunk, counters, signal, undefined))
    }
    const telemetry = events.filter((e) => e.event.priority === 'telemetry')
    if (telemetry.length === 0) return total
    const ticket = {}
    this.telemetryQueue.push(ticket)
    try {
      for (const chunk of chunkBySize(telemetry, this.deps.maxBytes)) add(await this.commitWhenRoom(chunk, counters, signal, ticket))
    } finally {
      this.telemetryQueue.splice(this.telemetryQueue.indexOf(ticket), 1)
      this.deps.space.notify() // the next queued append may now be first
    }
    return total
  }

  private async commitWhenRoom(
    chunk: PreparedEvent[],
    counters: ReadonlyMap<string, number>,
    signal: AbortSignal | undefined,
    ticket: object | undefined,
  ): Promise<AppendResult> {
    for (;;) {
      this.deps.assertOpen()
      if (signal?.aborted) {
        throw new GatewayError('GW_ERR_STORE_FULL', 'store full (whenFull=block): append aborted while waiting for room', { cause: signal.reason })
      }
      const epoch = this.deps.space.epoch
      if (!ticket || this.telemetryQueue[0] === ticket) {
        const result = await this.deps.commit(chunk, counters, ALL_OR_NOTHING)
        if (result) return result
      }
      // Only sleep if no room was freed since the attempt started; otherwise retry at once.
      if (this.deps.space.epoch === epoch) await this.deps.space.wait(signal)
    }
  }
}
