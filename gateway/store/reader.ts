/**
 * Reads a class's entries in offset order, seeking past everything already deleted.
 *
 * Damage never stops a read: a value that fails its checksum, or offsets missing between the keys
 * (LevelDB lost a block or a log record), are left out of the result and reported in `skipped`;
 * the store then lets every cursor pass over them (LogWriter.skipDamaged). A read error LevelDB
 * reports is survived by EntryScanner.
 */
import { PRIORITIES, type Entry, type Priority } from '../core/types.js'
import { EntryScanner } from './entry-scanner.js'
import type { LevelDb } from './front-trimmer.js'
import { readThrough, type ClassLog, type CursorState, type PerClass } from './log-state.js'
import { slowestReadPos, type RecentEntries } from './recent-entries.js'
import { decodeEntry } from './value-codec.js'

/** Rows fetched per native call; bounds the over-read when the byte budget ends a read early. */
const PAGE_ROWS = 128

/** Offsets [from, to] of one class that a read found damaged (checksum) or missing (no key). */
export interface SkippedRange {
  priority: Priority
  from: number
  to: number
  /** No key at all: LevelDB lost it (a dropped log record, an unreadable table). */
  missing: boolean
}

export interface ClassRead {
  entries: Entry[]
  bytes: number
  /** True when the event or byte budget ended the read (so a lower class must not be read). */
  budgetSpent: boolean
  skipped: SkippedRange[]
}

export interface ReadBudget {
  maxEvents: number
  maxBytes: number
  atLeastOne: boolean
  /** The class's `next` taken before the read: offsets below it that never showed up are missing. */
  next?: number
  onReadError?: (err: unknown) => void
}

/**
 * Up to `maxEvents` entries and `maxBytes` after `afterOffset`. With `atLeastOne`, the first entry
 * is returned even if it alone exceeds `maxBytes` (an oversize entry must not stall the queue).
 */
export async function readClass(db: LevelDb, priority: Priority, afterOffset: number, budget: ReadBudget): Promise<ClassRead> {
  const result: ClassRead = { entries: [], bytes: 0, budgetSpent: budget.maxEvents <= 0, skipped: [] }
  if (result.budgetSpent) return result
  const scanner = new EntryScanner(db, priority, afterOffset, Math.min(PAGE_ROWS, budget.maxEvents), budget.onReadError)
  const skip = (from: number, to: number, missing: boolean): void => void result.skipped.push({ priority, from, to, missing })
  let expected = afterOffset + 1
  try {
    for (let row = await scanner.next(); row; row = await scanner.next()) {
      scanner.pageRows = Math.min(PAGE_ROWS, budget.maxEvents - result.entries.length)
      if (row.offset > expected) skip(expected, row.offset - 1, true)
      expected = row.offset + 1
      let entry: Entry
      try {
        entry = decodeEntry(priority, row.offset, row.value)
      } catch {
        skip(row.offset, row.offset, false)
        continue
      }
      const mayExceed = budget.atLeastOne && result.entries.length === 0
      if (result.bytes + entry.sizeBytes > budget.maxBytes && !mayExceed) return { ...result, budgetSpent: true }
      result.entries.push(entry)
      result.bytes += entry.sizeBytes
      if (result.entries.length >= budget.maxEvents) return { ...result, budgetSpent: true }
    }
    // The class ended cleanly before `next`: the offsets in between are gone.
    if (!scanner.stuck && budget.next !== undefined && expected < budget.next) skip(expected, budget.next - 1, true)
    return result
  } finally {
    await scanner.close()
  }
}

/** The newest entries in memory, and every uplink's cursors (to release what all have read). */
export interface Tail {
  recent: PerClass<RecentEntries>
  cursors: ReadonlyMap<string, PerClass<CursorState>>
}

/**
 * Store.read for one uplink: alerts first, then telemetry, from its read position; advances the
 * position (also over what was skipped) unless a rewind happened meanwhile. A class read that
 * starts within the newest entries kept in memory (`tail`) is served from there. A read that
 * fails hands out nothing, so it moves no position either: alerts served from memory followed by
 * a telemetry read LevelDB refused (closed while write recovery reopens it) are read again.
 */
export async function readQueue(
  db: LevelDb,
  logs: PerClass<ClassLog>,
  state: PerClass<CursorState>,
  limits: { maxEvents: number; maxBytes: number; onReadError?: (err: unknown) => void },
  tail?: Tail,
): Promise<{ entries: Entry[]; skipped: SkippedRange[] }> {
  const out: Entry[] = []
  const skipped: SkippedRange[] = []
  let bytes = 0
  const moved: Array<{ cursor: CursorState; readPos: number; epoch: number }> = []
  try {
    for (const priority of PRIORITIES) {
      const cursor = state[priority]
      const log = logs[priority]
      const after = readThrough(cursor, log)
      if (after >= log.next - 1) continue // nothing newer: skip the seek
      const epoch = cursor.readEpoch
      const budget = { maxEvents: limits.maxEvents - out.length, maxBytes: limits.maxBytes - bytes, atLeastOne: out.length === 0, next: log.next, onReadError: limits.onReadError }
      const recent = tail?.recent[priority]
      const got = recent?.serves(log, after) ? recent.read(log, after, budget) : await readClass(db, priority, after, budget)
      const last = Math.max(got.entries.at(-1)?.offset ?? -1, got.skipped.at(-1)?.to ?? -1)
      if (last >= 0 && cursor.readEpoch === epoch) {
        moved.push({ cursor, readPos: cursor.readPos, epoch })
        cursor.readPos = Math.max(cursor.readPos, last)
      }
      if (recent && recent.size > 0) recent.release(slowestReadPos(tail!.cursors.values(), log, priority))
      out.push(...got.entries)
      skipped.push(...got.skipped)
      bytes += got.bytes
      if (got.budgetSpent) break
    }
  } catch (err) {
    for (const m of moved) if (m.cursor.readEpoch === m.epoch) m.cursor.readPos = m.readPos
    throw err
  }
  return { entries: out, skipped }
}
