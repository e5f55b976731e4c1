/**
 * The per-uplink dead-letter area `d!<uplink>!<seq>`. Sequences of an uplink are contiguous
 * [first, next): letters are added at the end and removed from the front (overflow, requeue) or all
 * at once (purge), so the count is a subtraction and memory stays O(uplinks).
 */
import type { DeadLetter, Entry } from '../core/types.js'
import type { BatchOp, LevelDb } from './front-trimmer.js'
import { DEAD_LETTER_PREFIX, deadLetterKey, deadLetterPrefix, offsetOfKey, prefixRange, uplinkOfDeadLetterKey } from './keys.js'
import { decodeDeadLetter, encodeDeadLetter } from './value-codec.js'

export interface DeadLetterArea {
  first: number
  next: number
}

export function deadLetterCount(area: DeadLetterArea): number {
  return area.next - area.first
}

async function firstKey(db: LevelDb, range: { gte: string; lt: string }, reverse = false): Promise<string | undefined> {
  const keys = await db.keys({ ...range, reverse, limit: 1 }).all()
  return keys[0]
}

/** Reads the bounds of each configured uplink's area and deletes areas of uplinks no longer configured. */
export async function loadDeadLetterAreas(db: LevelDb, uplinks: readonly string[]): Promise<{ areas: Map<string, DeadLetterArea>; removed: string[] }> {
  const areas = new Map<string, DeadLetterArea>(uplinks.map((u) => [u, { first: 0, next: 0 }]))
  const removed: string[] = []
  let range = prefixRange(DEAD_LETTER_PREFIX)
  // One seek per uplink present on disk, never a walk over every letter.
  for (let key = await firstKey(db, range); key !== undefined; key = await firstKey(db, range)) {
    const uplink = uplinkOfDeadLetterKey(key)
    const own = prefixRange(deadLetterPrefix(uplink))
    if (areas.has(uplink)) {
      const last = (await firstKey(db, own, true)) ?? key
      areas.set(uplink, { first: offsetOfKey(key), next: offsetOfKey(last) + 1 })
    } else {
      await db.clear(own)
      removed.push(uplink)
    }
    range = { gte: own.lt, lt: range.lt }
  }
  return { areas, removed }
}

export interface DeadLetterPlan {
  ops: BatchOp[]
  area: DeadLetterArea
  /** Older letters (or surplus new ones) not kept because the area is full. */
  discarded: number
}

/** Plans storing copies of `entries`, dropping the oldest letters beyond `maxDeadLetters`. */
export function planDeadLetters(
  uplink: string,
  area: DeadLetterArea,
  entries: readonly Entry[],
  details: { reason: string; message: string; nowMs: number; maxDeadLetters: number },
): DeadLetterPlan {
  const kept = entries.slice(Math.max(0, entries.length - details.maxDeadLetters))
  const ops: BatchOp[] = []
  let next = area.next
  for (const entry of kept) {
    const letter: DeadLetter = { uplink, entry, reason: details.reason, message: details.message, deadLetteredMs: details.nowMs }
    ops.push({ type: 'put', key: deadLetterKey(uplink, next++), value: encodeDeadLetter(letter) })
  }
  const first = Math.max(area.first, next - details.maxDeadLetters)
  for (let seq = area.first; seq < Math.min(first, area.next); seq++) ops.push({ type: 'del', key: deadLetterKey(uplink, seq) })
  const discarded = entries.length - kept.length + Math.min(first, area.next) - area.first
  return { ops, area: { first, next }, discarded }
}

/** The oldest `limit` letters of an uplink, with their keys; `letter` is undefined for a damaged one. */
export async function readDeadLetters(db: LevelDb, uplink: string, limit: number): Promise<Array<{ key: string; letter: DeadLetter | undefined }>> {
  const rows = await db.iterator({ ...prefixRange(deadLetterPrefix(uplink)), limit }).all()
  return rows.map(([key, value]) => {
    try {
      return { key, letter: decodeDeadLetter(value) }
    } catch {
      return { key, letter: undefined }
    }
  })
}
