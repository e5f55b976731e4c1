/**
 * Moves a layout-1 store's counter and meta keys to where layout 2 keeps them (keys.ts says why
 * they moved), at open, before anything reads them.
 *
 * Invariants
 * - All or nothing: every move is one synced LevelDB batch (puts of the new keys, deletes of the
 *   old ones), so a crash leaves the store in one layout or the other, never half moved.
 * - Idempotent: a store without layout-1 keys is left untouched (one empty range read per area).
 * - Nothing is lost or reused if both layouts' keys are present (only possible if an older gateway
 *   ran on a migrated store): the layout-1 key is the one that older version wrote last, so it
 *   wins, except that a sequence counter keeps the higher of the two, because a CloudEvent
 *   sequence number must never be handed out twice.
 * - Values are moved byte for byte: a damaged one stays damaged, for open() to count as before.
 */
import type { BatchOp, LevelDb } from './front-trimmer.js'
import { COUNTER_PREFIX, LEGACY_COUNTER_PREFIX, LEGACY_META_PREFIX, META_PREFIX, prefixRange } from './keys.js'

/** The higher of two counter values; a value that is not a number loses (open() reports it damaged). */
function higherCounter(legacy: Buffer, current: Buffer | undefined): Buffer {
  if (current === undefined) return legacy
  const a = Number(legacy.toString('latin1'))
  const b = Number(current.toString('latin1'))
  if (!Number.isSafeInteger(b)) return legacy
  return Number.isSafeInteger(a) && a >= b ? legacy : current
}

/** Moves every layout-1 key; resolves with how many it moved (0 for a layout-2 or new store). */
export async function migrateKeyLayout(db: LevelDb): Promise<number> {
  const ops: BatchOp[] = []
  const areas = [
    { from: LEGACY_META_PREFIX, to: META_PREFIX, merge: (legacy: Buffer) => legacy },
    { from: LEGACY_COUNTER_PREFIX, to: COUNTER_PREFIX, merge: higherCounter },
  ]
  for (const { from, to, merge } of areas) {
    for (const [key, value] of await db.iterator(prefixRange(from)).all()) {
      const target = to + key.slice(from.length)
      ops.push({ type: 'put', key: target, value: merge(value, await db.get(target)) }, { type: 'del', key })
    }
  }
  if (ops.length > 0) await db.batch(ops, { sync: true })
  return ops.length / 2
}
