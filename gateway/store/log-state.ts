/**
 * In-memory view of the logs and cursors. Everything here is O(classes + uplinks): the store never
 * keeps a per-entry index, so memory does not grow with the backlog (ARCHITECTURE promise 4).
 */
import type { Priority, QueueStats } from '../core/types.js'
import { OffsetRanges } from './offset-ranges.js'

/** The oldest live entry of a class. */
export interface LogHead {
  offset: number
  /** Cumulative bytes of the class before this entry (its cumBytes minus its size). */
  cumBefore: number
  /** Store time of its append (store-clock.ts). */
  storeMs: number
}

/**
 * One priority class. Live offsets are always the contiguous range [first.offset, next - 1]:
 * entries leave only from the front (acked by all, evicted, expired).
 */
export interface ClassLog {
  next: number
  /** cumBytes of the newest entry ever appended (also when the class is empty now). */
  lastCum: number
  first: LogHead | null
  /**
   * Damaged or missing offsets in [first.offset, next) found so far (a value that fails its
   * checksum, or a key LevelDB lost). Every cursor passes over them as if they were acked.
   */
  damaged: OffsetRanges
}

/** One uplink's position in one class. */
export interface CursorState {
  /** Highest contiguous acked offset as persisted (-1: none). May lag behind evictions. */
  acked: number
  /** cumBytes through `acked`; valid while first.offset <= acked < next. */
  ackedCum: number
  /** storeMs of the first intact entry after `acked`, when it is past the log's first entry. */
  headStoreMs: number | undefined
  /** Offset of the last entry handed out by read(). */
  readPos: number
  /** Bumped by rewind(), so a read that was in flight does not move the position back. */
  readEpoch: number
  /** Acked offsets beyond the contiguous prefix; bounded by what was read. */
  pending: Set<number>
}

export type PerClass<T> = Record<Priority, T>

export function emptyLog(): ClassLog {
  return { next: 0, lastCum: 0, first: null, damaged: new OffsetRanges() }
}

export function newCursor(acked: number): CursorState {
  return { acked, ackedCum: 0, headStoreMs: undefined, readPos: acked, readEpoch: 0, pending: new Set() }
}

export function logEntries(log: ClassLog): number {
  return log.first ? log.next - log.first.offset : 0
}

export function logBytes(log: ClassLog): number {
  return log.first ? log.lastCum - log.first.cumBefore : 0
}

/** The cursor as it really is: evicted or expired entries count as acked. */
export function effectiveAcked(cursor: CursorState, log: ClassLog): number {
  return Math.max(cursor.acked, log.first ? log.first.offset - 1 : log.next - 1)
}

/** How far an uplink has read a class: what it was handed, or what counts as acked if more. */
export function readThrough(cursor: CursorState, log: ClassLog): number {
  return Math.max(cursor.readPos, effectiveAcked(cursor, log))
}

/** Depth, bytes and age of what this uplink has not acked in one class. */
export function classQueueStats(cursor: CursorState, log: ClassLog, nowMs: number): QueueStats {
  const acked = effectiveAcked(cursor, log)
  const depth = log.next - 1 - acked
  if (depth <= 0 || !log.first) return { depth: 0, bytes: 0, oldestAgeMs: 0 }
  const atFirst = acked < log.first.offset
  const cumBefore = atFirst ? log.first.cumBefore : cursor.ackedCum
  const headMs = atFirst ? log.first.storeMs : (cursor.headStoreMs ?? nowMs)
  return { depth, bytes: log.lastCum - cumBefore, oldestAgeMs: Math.max(0, nowMs - headMs) }
}

/** Sums two QueueStats; the oldest age is the max. */
export function addQueueStats(a: QueueStats, b: QueueStats): QueueStats {
  return { depth: a.depth + b.depth, bytes: a.bytes + b.bytes, oldestAgeMs: Math.max(a.oldestAgeMs, b.oldestAgeMs) }
}

/**
 * Moves the contiguous acked prefix forward over `offsets` (any order) and over known damaged
 * entries, and returns the new acked offset; offsets beyond a gap wait in `cursor.pending`.
 */
export function advanceAcked(cursor: CursorState, log: ClassLog, offsets: Iterable<number>): number {
  let acked = effectiveAcked(cursor, log)
  // Offsets at or past `next` were never handed out; acking them must not pre-ack future entries.
  for (const offset of offsets) if (offset > acked && offset < log.next) cursor.pending.add(offset)
  for (;;) {
    if (cursor.pending.delete(acked + 1)) {
      acked++
      continue
    }
    const damagedThrough = log.damaged.size > 0 ? Math.min(log.damaged.endOf(acked + 1) ?? -1, log.next - 1) : -1
    if (damagedThrough <= acked) break
    acked = damagedThrough
  }
  // Offsets that fell below the front (evicted while in flight) are acked implicitly.
  for (const offset of cursor.pending) if (offset <= acked) cursor.pending.delete(offset)
  return acked
}
