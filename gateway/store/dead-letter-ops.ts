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
 * (whenFull is honoured but never waits). A damaged letter (unreadable JSON) is deleted on the way
 * and counted `corrupt_entry`. `more` is true when the next chunk may have letters to requeue.
 */
export async function requeueDeadLetterChunk(ctx: StoreContext, writer: LogWriter, uplink: string, maxEvents: number): Promise<{ requeued: number; more: boolean }> {
  const rows = await readDeadLetters(ctx.db, uplink, maxEvents)
  if (rows.length === 0) return { requeued: 0, more: false }
  const events: NewEvent[] = []
  for (const { letter } of rows) {
    if (letter) events.push({ priority: letter.entry.priority, source: letter.entry.source, id: letter.entry.id, json: letter.entry.json })
  }
  // Rows consumed when `accepted` letters were stored: through the accepted-th intact one, and the
  // damaged ones right after it when everything was accepted.
  const consumedFor = (accepted: number): number => {
    if (accepted === events.length) return rows.length
    let intact = 0
    for (let i = 0; i < rows.length; i++) if (rows[i]!.letter && ++intact > accepted) return i
    return rows.length
  }
  const result = await writer.commitAppend(prepareEvents(events, { wallMs: ctx.now(), storeMs: ctx.clock.now() }), new Map(), {
    allOrNothing: false,
    stopOnReject: true,
    extraOps: (accepted) => rows.slice(0, consumedFor(accepted)).map(({ key }) => ({ type: 'del', key })),
  })
  const requeued = result?.accepted ?? 0
  const consumed = consumedFor(requeued)
  ctx.drops.add('corrupt_entry', rows.slice(0, consumed).filter((r) => !r.letter).length)
  const area = ctx.deadLetters.get(uplink)!
  ctx.deadLetters.set(uplink, { first: area.first + consumed, next: area.next })
  return { requeued, more: consumed === rows.length && rows.length === maxEvents }
}

/** Deletes every dead letter of the uplink; returns how many there were. */
export async function purgeDeadLetterArea(ctx: StoreContext, uplink: string): Promise<number> {
  const area = ctx.deadLetters.get(uplink)!
  await ctx.db.clear(prefixRange(deadLetterPrefix(uplink)))
  ctx.deadLetters.set(uplink, { first: area.next, next: area.next })
  return deadLetterCount(area)
}
