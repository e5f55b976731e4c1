/** Dead-letter operations that need the writer; the caller holds the store's write lock. */
import type { Entry, NewEvent } from '../core/types.js'
import { prepareEvents } from './append-plan.js'
import { planDeadLetters, readDeadLetters, deadLetterCount } from './dead-letters.js'
import { deadLetterPrefix, prefixRange } from './keys.js'
import type { LogWriter, StoreContext } from './log-writer.js'

/** Copies `entries` into the uplink's dead-letter area and acks them, in one batch. */
export async function deadLetterEntries(
  ctx: StoreContext,
  writer: LogWriter,
  uplink: string,
  entries: readonly Entry[],
  details: { reason: string; message: string; maxDeadLetters: number },
): Promise<void> {
  const area = ctx.deadLetters.get(uplink)!
  const plan = planDeadLetters(uplink, area, entries, { ...details, nowMs: ctx.now() })
  await writer.ack(uplink, entries, plan.ops)
  ctx.deadLetters.set(uplink, plan.area)
  ctx.drops.add('dead_letter', entries.length)
  ctx.drops.add('dead_letter_overflow', plan.discarded)
}

/**
 * Re-appends up to `maxEvents` of the oldest dead letters as new entries (same CloudEvent, so the
 * same id) and deletes them in the same batch. Stops early at the first one that does not fit
 * (whenFull is honoured but never waits). Returns how many were requeued.
 */
export async function requeueDeadLetterChunk(ctx: StoreContext, writer: LogWriter, uplink: string, maxEvents: number): Promise<number> {
  const rows = await readDeadLetters(ctx.db, uplink, maxEvents)
  if (rows.length === 0) return 0
  const events: NewEvent[] = rows.map(({ letter: { entry } }) => ({ priority: entry.priority, source: entry.source, id: entry.id, json: entry.json }))
  const result = await writer.commitAppend(prepareEvents(events, ctx.now()), new Map(), {
    allOrNothing: false,
    stopOnReject: true,
    extraOps: (accepted) => rows.slice(0, accepted).map(({ key }) => ({ type: 'del', key })),
  })
  const requeued = result?.accepted ?? 0
  const area = ctx.deadLetters.get(uplink)!
  ctx.deadLetters.set(uplink, { first: area.first + requeued, next: area.next })
  return requeued
}

/** Deletes every dead letter of the uplink; returns how many there were. */
export async function purgeDeadLetterArea(ctx: StoreContext, uplink: string): Promise<number> {
  const area = ctx.deadLetters.get(uplink)!
  await ctx.db.clear(prefixRange(deadLetterPrefix(uplink)))
  ctx.deadLetters.set(uplink, { first: area.next, next: area.next })
  return deadLetterCount(area)
}
