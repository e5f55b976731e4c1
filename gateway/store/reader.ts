/** Reads a class's entries in offset order, seeking past everything already deleted. */
import { PRIORITIES, type Entry, type Priority } from '../core/types.js'
import type { LevelDb } from './front-trimmer.js'
import { entriesAfter } from './keys.js'
import { effectiveAcked, type ClassLog, type CursorState, type PerClass } from './log-state.js'
import { decodeEntry } from './value-codec.js'

/** Rows fetched per native call; bounds the over-read when the byte budget ends a read early. */
const PAGE_ROWS = 128

export interface ClassRead {
  entries: Entry[]
  bytes: number
  /** True when the event or byte budget ended the read (so a lower class must not be read). */
  budgetSpent: boolean
}

/**
 * Up to `maxEvents` entries and `maxBytes` after `afterOffset`. With `atLeastOne`, the first entry
 * is returned even if it alone exceeds `maxBytes` (an oversize entry must not stall the queue).
 */
export async function readClass(
  db: LevelDb,
  priority: Priority,
  afterOffset: number,
  budget: { maxEvents: number; maxBytes: number; atLeastOne: boolean },
): Promise<ClassRead> {
  const result: ClassRead = { entries: [], bytes: 0, budgetSpent: budget.maxEvents <= 0 }
  if (result.budgetSpent) return result
  const iterator = db.iterator({ ...entriesAfter(priority, afterOffset), limit: budget.maxEvents })
  try {
    for (;;) {
      const rows = await iterator.nextv(Math.min(PAGE_ROWS, budget.maxEvents - result.entries.length))
      if (rows.length === 0) return result
      for (const [key, value] of rows) {
        const { cumBytes: _cum, ...entry } = decodeEntry(priority, key, value)
        const mayExceed = budget.atLeastOne && result.entries.length === 0
        if (result.bytes + entry.sizeBytes > budget.maxBytes && !mayExceed) return { ...result, budgetSpent: true }
        result.entries.push(entry)
        result.bytes += entry.sizeBytes
      }
      if (result.entries.length >= budget.maxEvents) return { ...result, budgetSpent: true }
    }
  } finally {
    await iterator.close()
  }
}

/**
 * Store.read for one uplink: alerts first, then telemetry, from its read position; advances the
 * position unless a rewind happened meanwhile.
 */
export async function readQueue(
  db: LevelDb,
  logs: PerClass<ClassLog>,
  state: PerClass<CursorState>,
  limits: { maxEvents: number; maxBytes: number },
): Promise<Entry[]> {
  const out: Entry[] = []
  let bytes = 0
  for (const priority of PRIORITIES) {
    const cursor = state[priority]
    const log = logs[priority]
    const after = Math.max(cursor.readPos, effectiveAcked(cursor, log))
    if (after >= log.next - 1) continue // nothing newer: skip the seek
    const epoch = cursor.readEpoch
    const budget = { maxEvents: limits.maxEvents - out.length, maxBytes: limits.maxBytes - bytes, atLeastOne: out.length === 0 }
    const got = await readClass(db, priority, after, budget)
    if (got.entries.length > 0 && cursor.readEpoch === epoch) cursor.readPos = got.entries[got.entries.length - 1]!.offset
    out.push(...got.entries)
    bytes += got.bytes
    if (got.budgetSpent) break
  }
  return out
}
