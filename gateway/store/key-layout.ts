/**
 * Moves the counter and meta keys of a store between key layout 1 (`m!`, `s!`: after the entries)
 * and layout 2 (`M!`, `S!`: before them; keys.ts says why they moved). open() moves a store to
 * layout 2 before anything reads it; `edge-gateway store-layout 1` moves it back, for a rollback
 * to a release that reads layout 1 (deploy/upgrade.sh).
 *
 * Invariants
 * - All or nothing: a move is one synced LevelDB batch (puts of the new keys, deletes of the old
 *   ones), so a crash leaves the store in one layout or the other, never half moved.
 * - Idempotent: a store already in the layout asked for is left untouched (one empty range read
 *   per area).
 * - Nothing is lost or reused when keys of both layouts are present (only possible when a release
 *   of the other layout ran on the store after a move): the key being moved is the one written
 *   last, so it wins, except that a sequence counter keeps the higher of the two, because a
 *   CloudEvent sequence number must never be handed out twice.
 * - Values are moved byte for byte: a damaged one stays damaged, for open() to count as before.
 */
import type { BatchOp, LevelDb } from './front-trimmer.js'
import { COUNTER_PREFIX, LEGACY_COUNTER_PREFIX, LEGACY_META_PREFIX, META_PREFIX, prefixRange } from './keys.js'

export type KeyLayout = 1 | 2

/** Counter and meta prefixes of each layout. */
const PREFIXES: Record<KeyLayout, { meta: string; counter: string }> = {
  1: { meta: LEGACY_META_PREFIX, counter: LEGACY_COUNTER_PREFIX },
  2: { meta: META_PREFIX, counter: COUNTER_PREFIX },
}

/** The higher of two counter values; a value that is not a number loses (open() reports it damaged). */
function higherCounter(moving: Buffer, present: Buffer | undefined): Buffer {
  if (present === undefined) return moving
  const a = Number(moving.toString('latin1'))
  const b = Number(present.toString('latin1'))
  if (!Number.isSafeInteger(b)) return moving
  return Number.isSafeInteger(a) && a >= b ? moving : present
}

/** Moves every counter and meta key of the other layout to `layout`; resolves with how many it moved. */
export async function setKeyLayout(db: LevelDb, layout: KeyLayout): Promise<number> {
  const to = PREFIXES[layout]
  const from = PREFIXES[layout === 2 ? 1 : 2]
  const areas = [
    { from: from.meta, to: to.meta, merge: (moving: Buffer) => moving },
    { from: from.counter, to: to.counter, merge: higherCounter },
  ]
  const ops: BatchOp[] = []
  for (const area of areas) {
    for (const [key, value] of await db.iterator(prefixRange(area.from)).all()) {
      const target = area.to + key.slice(area.from.length)
      ops.push({ type: 'put', key: target, value: area.merge(value, await db.get(target)) }, { type: 'del', key })
    }
  }
  if (ops.length > 0) await db.batch(ops, { sync: true })
  return ops.length / 2
}
