/**
 * Fills and sends Event Hubs batches for one `send()` call.
 *
 * Invariants:
 * - One partition key (or partition id) per AMQP batch (the service routes a batch by the key of
 *   the envelope, or by the partition link it arrives on), and
 *   within a key, events leave in the order given; a key's next batch is sent only after its
 *   previous one was accepted, and nothing more of that key is sent after a failure, so a retry of
 *   the whole forwarder batch cannot overtake what is still missing. Across concurrent `send()`
 *   calls the same holds through the `KeyTurn`s of key-order.ts: a key waits for its part of
 *   every earlier pending send, and fails with it.
 * - Batch size is the service's business: `createBatch()` reads `max_message_size` from the link
 *   and `tryAdd` refuses what would exceed it. With our own encoding (encoded-batch.ts, the same
 *   bytes and size rules), the limit is read once per link per send and our batch refuses. An
 *   event that does not fit an EMPTY batch is rejected alone (`message_too_large`); the others go
 *   on. A message carrying several entries (batch mode) is split in two instead, down to single
 *   entries.
 * - If the service still refuses a batch as too large (its limit shrank below what the link
 *   advertised), the batch is resent in halves, in order, down to single messages, and a single
 *   message of several entries is split; a single entry it refuses is rejected alone. At most
 *   log2(n) extra sends per level.
 * - Resolves only after every sendBatch of every key resolved. On the first failure no new key is
 *   started; keys already in flight finish, then the failures are thrown together (the caller
 *   classifies them). Keys that were accepted before the failure are resent on retry: duplicates,
 *   never loss (at-least-once; consumers dedupe by CloudEvent source + id).
 */
import type { EventDataBatch } from '@azure/event-hubs'
import type { Entry, SendResult } from '../../core/types.js'
import { isMessageTooLarge } from './classify-error.js'
import type { KeyTurn } from './key-order.js'
import { EncodedBatch, sdkEventOf } from './encoded-batch.js'
import type { WireEvent } from './amqp-wire.js'

/** Where one AMQP batch goes: a partition key (the service picks the partition) or a partition id. */
export type BatchTarget = { partitionKey: string } | { partitionId: string }

/** The two producer calls we use; `EventHubProducerClient` satisfies it (tests may fake it). */
export interface BatchProducer {
  createBatch(options: { partitionKey?: string; partitionId?: string; abortSignal?: AbortSignal }): Promise<EventDataBatch>
  sendBatch(batch: EventDataBatch, options: { abortSignal?: AbortSignal }): Promise<void>
}

/** Runs one SDK call under the uplink's deadline and stop signal (see op-deadline.ts). */
export type GuardedCall = <T>(what: string, op: (signal: AbortSignal) => Promise<T>) => Promise<T>

/** One AMQP message and the stored entries it carries (one, or several in batch mode). */
export interface PreparedEvent {
  entries: Entry[]
  event: WireEvent
}

/** Re-encodes a message of several entries as two (in order); undefined for a single entry. */
export type SplitMessage = (message: PreparedEvent) => PreparedEvent[] | undefined

export type Rejection = SendResult['rejected'][number]

interface KeyContext {
  producer: BatchProducer
  call: GuardedCall
  target: BatchTarget
  rejected: Rejection[]
  split: SplitMessage
  /** With our own encoding: the link's size limit, asked once per link per send (linkLimit). */
  linkMaxSizes: Map<string, Promise<number>> | undefined
}

function reject(ctx: KeyContext, item: PreparedEvent, reason: string, message: string): void {
  for (const entry of item.entries) ctx.rejected.push({ entry, reason, message })
}

function bytesOf(item: PreparedEvent): number {
  return item.entries.reduce((n, e) => n + e.sizeBytes, 0)
}

/**
 * The `max_message_size` of the link `ctx.target` goes over, from one SDK batch per link per
 * send(): every partition key shares the hub's link, each partition id has its own. (With the
 * SDK's own encoding, every AMQP batch is an SDK batch from createBatch.) If the service lowers
 * its limit meanwhile, it refuses the batch as too large and sendMembers splits it.
 */
function linkLimit(ctx: KeyContext, sizes: Map<string, Promise<number>>): Promise<number> {
  const link = 'partitionId' in ctx.target ? `partition ${ctx.target.partitionId}` : 'hub'
  let limit = sizes.get(link)
  if (!limit) {
    limit = ctx.call('createBatch', (signal) => ctx.producer.createBatch({ ...ctx.target, abortSignal: signal })).then((b) => b.maxSizeInBytes)
    sizes.set(link, limit)
    // A failure reaches every key that waits on it; a later send() asks again.
    limit.catch(() => undefined)
  }
  return limit
}

/** Sends `items` of one key in order, at most `maxPerBatch` per AMQP batch. */
async function sendKey(ctx: KeyContext, given: PreparedEvent[], maxPerBatch: number): Promise<void> {
  const items = [...given] // splitting replaces an item by its halves in place
  let i = 0
  while (i < items.length) {
    const batch = ctx.linkMaxSizes
      ? new EncodedBatch(await linkLimit(ctx, ctx.linkMaxSizes), ctx.target)
      : await ctx.call('createBatch', (signal) => ctx.producer.createBatch({ ...ctx.target, abortSignal: signal }))
    const members: PreparedEvent[] = []
    while (i < items.length && members.length < maxPerBatch) {
      const item = items[i]!
      let added: boolean
      try {
        added = batch instanceof EncodedBatch ? batch.add(item.event) : batch.tryAdd(sdkEventOf(item.event))
      } catch (err) {
        // The SDK validates while encoding (e.g. message_id longer than 128 characters).
        reject(ctx, item, 'invalid_event', String((err as Error)?.message ?? err))
        i++
        continue
      }
      if (added) {
        members.push(item)
        i++
      } else if (members.length === 0) {
        const halves = ctx.split(item)
        if (halves) {
          items.splice(i, 1, ...halves)
          continue
        }
        reject(ctx, item, 'message_too_large', `event of ${bytesOf(item)} bytes does not fit an empty batch (max ${batch.maxSizeInBytes} bytes)`)
        i++
      } else {
        break // full: send it, the next batch starts with this item
      }
    }
    if (members.length > 0) await sendMembers(ctx, batch, members)
  }
}

async function sendMembers(ctx: KeyContext, batch: EventDataBatch, members: PreparedEvent[]): Promise<void> {
  try {
    await ctx.call('sendBatch', (signal) => ctx.producer.sendBatch(batch, { abortSignal: signal }))
  } catch (err) {
    if (!isMessageTooLarge(err)) throw err
    if (members.length === 1) {
      const halves = ctx.split(members[0]!)
      if (halves) return sendKey(ctx, halves, Number.POSITIVE_INFINITY)
      reject(ctx, members[0]!, 'message_too_large', `refused by the service as too large: ${String((err as Error)?.message ?? err)}`)
      return
    }
    await sendKey(ctx, members, Math.ceil(members.length / 2))
  }
}

/** Groups by key, keeping each key's order; Map iteration order is first-seen order. */
export function groupByKey<T>(items: readonly T[], keyOf: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>()
  for (const item of items) {
    const key = keyOf(item)
    const list = groups.get(key)
    if (list) list.push(item)
    else groups.set(key, [item])
  }
  return groups
}

/** How `sendGroups` sends; only `producer`, `call` and `concurrency` are required. */
export interface SendGroupsOptions {
  producer: BatchProducer
  call: GuardedCall
  /** Keys sent at once; each key stays sequential. */
  concurrency: number
  /** Each key's place in line (key-order.ts); a key without one goes at once. */
  turns?: ReadonlyMap<string, KeyTurn>
  /** Ends waits for a turn. */
  signal?: AbortSignal
  /** Splits a message of several entries (batch mode) that the hub refused as too large. */
  split?: SplitMessage
  /** Where a key's AMQP batches go. @default the key as partition key */
  target?: (key: string) => BatchTarget
  /**
   * Encode events ourselves (encoded-batch.ts) instead of with the SDK's tryAdd, and ask each
   * link's size limit once per call instead of creating an SDK batch per AMQP batch. @default false
   */
  ownEncoding?: boolean
}

/**
 * Sends every group, up to `concurrency` keys at once. A group's key is a partition key, or with
 * `target` mapping it, a partition id (routing: partition). Each key first waits for its turn (when
 * `turns` has one: earlier sends of the same key settled OK), and its turn is settled with the
 * outcome; keys never started because another key failed are settled with that failure.
 * Resolves with the events refused for their content; rejects with the SDK failure(s) (an
 * AggregateError when several keys failed).
 */
export async function sendGroups(groups: Map<string, PreparedEvent[]>, options: SendGroupsOptions): Promise<Rejection[]> {
  const { producer, call, concurrency, turns = new Map<string, KeyTurn>(), signal = new AbortController().signal, ownEncoding = false } = options
  const split = options.split ?? (() => undefined)
  const target = options.target ?? ((key: string): BatchTarget => ({ partitionKey: key }))
  const rejected: Rejection[] = []
  const failures: unknown[] = []
  const linkMaxSizes = ownEncoding ? new Map<string, Promise<number>>() : undefined
  const queue = [...groups.entries()]
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < queue.length && failures.length === 0) {
      const [key, items] = queue[next++]!
      const turn = turns.get(key)
      try {
        await turn?.ready(signal)
        await sendKey({ producer, call, target: target(key), rejected, split, linkMaxSizes }, items, Number.POSITIVE_INFINITY)
        turn?.settle()
      } catch (err) {
        failures.push(err)
        turn?.settle(err)
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, queue.length) }, worker))
  for (let i = next; i < queue.length; i++) turns.get(queue[i]![0])?.settle(failures[0])
  if (failures.length === 1) throw failures[0]
  if (failures.length > 1) throw new AggregateError(failures, `${failures.length} partition keys failed`)
  return rejected
}
