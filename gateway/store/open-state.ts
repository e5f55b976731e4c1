/**
 * Rebuilds the in-memory view at open() from a handful of point reads: per class the meta key and
 * the first and last entry, the cursors, the counters, the store time and the dead-letter bounds.
 * Nothing here walks the backlog.
 *
 * Damage found here is repaired in place, never thrown: damaged entries at the front of a class
 * are deleted (counted `corrupt_entry`), an unreadable meta or cursor value falls back to what the
 * entries say (a cursor to "nothing acked": duplicates, never loss), a damaged sequence counter is
 * dropped (that source restarts at 1). Only LevelDB read errors escape; open() salvages those.
 *
 * The front key (keys.frontKey) tells deleted from lost: entries below it were deleted on purpose
 * (a leftover of an interrupted db.clear, or deletions a repair undid) and are cleared; offsets
 * from it up to the first entry found are entries LevelDB lost (a truncated or unreadable table
 * holding the oldest entries): counted in `lostEntries`, since no read would ever notice them.
 */
import { GatewayError } from '../core/errors.js'
import { PRIORITIES, type Priority } from '../core/types.js'
import { EntryScanner } from './entry-scanner.js'
import type { BatchOp, LevelDb } from './front-trimmer.js'
import { CLOCK_KEY, COUNTER_PREFIX, CURSOR_PREFIX, cursorKey, entriesAfter, entryKey, entryPrefix, frontKey, isEntryKey, metaKey, offsetOfKey, parseCursorKey, prefixRange } from './keys.js'
import { emptyLog, newCursor, type ClassLog, type CursorState, type PerClass } from './log-state.js'
import { decodeStoreTime } from './store-clock.js'
import { entrySizeBytes, tryDecodeEntryHeader, type EntryHeader } from './value-codec.js'

export interface LoadedState {
  logs: PerClass<ClassLog>
  cursors: Map<string, PerClass<CursorState>>
  counters: Map<string, number>
  /** Uplinks whose cursors were deleted because they are no longer configured. */
  removedUplinks: string[]
  /** Highest store time found: the saved clock and the newest entries. */
  storeMs: number
  /** Damaged entries deleted from the front of a class. */
  damagedEntries: number
  /** Keys whose values were unreadable and were ignored or replaced (meta, cursors, counters). */
  damagedKeys: string[]
  /** Entries missing at the front of a class (between its front key and its first entry): lost to damage. */
  lostEntries: number
}

interface LoadProgress {
  storeMs: number
  damagedEntries: number
  damagedKeys: string[]
  lostEntries: number
}

/** Entries read back from the end of a class looking for an intact one. */
const TAIL_SCAN = 1_000

function safeInt(value: Buffer | undefined): number | undefined {
  const n = value ? Number(value.toString('latin1')) : NaN
  return Number.isSafeInteger(n) ? n : undefined
}

function parseMeta(value: Buffer | undefined): { next: number; lastCum: number } | undefined {
  const [next, lastCum] = (value?.toString('latin1') ?? '').split(',').map(Number)
  return Number.isSafeInteger(next) && next! >= 0 && Number.isFinite(lastCum) && lastCum! >= 0 ? { next: next!, lastCum: lastCum! } : undefined
}

/** The newest intact entry (reading back at most TAIL_SCAN) and the bytes of the damaged entries after it. */
async function lastIntact(db: LevelDb, priority: Priority): Promise<{ offset: number; header: EntryHeader | undefined; after: number } | undefined> {
  const it = db.iterator({ ...entriesAfter(priority, -1), reverse: true, limit: TAIL_SCAN })
  try {
    let last: number | undefined
    let after = 0
    for (let row = await it.next(); row; row = await it.next()) {
      if (!isEntryKey(row[0])) continue // a garbled key from a damaged table
      last ??= offsetOfKey(row[0])
      const header = tryDecodeEntryHeader(row[1])
      if (header) return { offset: last, header, after }
      after += entrySizeBytes(row[1])
    }
    return last === undefined ? undefined : { offset: last, header: undefined, after }
  } finally {
    await it.close()
  }
}

/** One past the highest offset the class ever had: from its meta key and its newest entry key. */
async function logEnd(db: LevelDb, priority: Priority, meta: { next: number } | undefined): Promise<number> {
  const [lastKey] = await db.keys({ ...entriesAfter(priority, -1), reverse: true, limit: 1 }).all()
  const fromKeys = lastKey !== undefined && isEntryKey(lastKey) ? offsetOfKey(lastKey) + 1 : 0
  return Math.max(meta?.next ?? 0, fromKeys)
}

/**
 * The persisted front of a class, after clearing entries left below it; undefined when unknown
 * (older stores) or damaged. The front value carries no checksum, so a value beyond the end of the
 * log is taken as damage: clearing below it would delete live entries uncounted.
 */
async function loadFront(db: LevelDb, priority: Priority, meta: { next: number } | undefined, state: LoadProgress): Promise<number | undefined> {
  const raw = await db.get(frontKey(priority))
  const front = safeInt(raw)
  const valid = front !== undefined && front >= 0 && front <= (await logEnd(db, priority, meta))
  if (raw && !valid) state.damagedKeys.push(frontKey(priority))
  if (!valid) return undefined
  const below = { gte: entryPrefix(priority), lt: entryKey(priority, front) }
  if (front > 0 && (await db.keys({ ...below, limit: 1 }).all()).length > 0) await db.clear(below)
  return front
}

async function loadLog(db: LevelDb, priority: Priority, ops: BatchOp[], state: LoadProgress): Promise<ClassLog> {
  const log = emptyLog()
  const rawMeta = await db.get(metaKey(priority))
  const meta = parseMeta(rawMeta)
  if (rawMeta && !meta) state.damagedKeys.push(metaKey(priority))
  if (meta) Object.assign(log, meta)
  const front = await loadFront(db, priority, meta, state)
  const loaded = await loadEntries(db, priority, log, meta, ops, state)
  const liveFrom = loaded.firstRow ?? log.next
  if (front !== undefined && liveFrom > front) state.lostEntries += liveFrom - front
  const newFront = log.first?.offset ?? log.next
  if (front !== newFront) ops.push({ type: 'put', key: frontKey(priority), value: Buffer.from(String(newFront), 'latin1') })
  return log
}

/** Fills `log` from the entries: its tail (next, lastCum) and its first intact entry. */
async function loadEntries(
  db: LevelDb, priority: Priority, log: ClassLog, meta: { next: number } | undefined, ops: BatchOp[], state: LoadProgress,
): Promise<{ firstRow: number | undefined }> {
  const last = await lastIntact(db, priority)
  if (!last) return { firstRow: undefined }
  // The meta key is written in the same batch as the last entry, so when the newest entries are
  // damaged it still has their cumBytes, if it agrees with the last key. Otherwise: an estimate.
  const metaExact = meta !== undefined && meta.next === last.offset + 1
  if (last.header && (last.after === 0 || !metaExact)) log.lastCum = last.header.cumBytes + last.after
  if (last.header) state.storeMs = Math.max(state.storeMs, last.header.storeMs)
  log.next = Math.max(log.next, last.offset + 1)
  const scanner = new EntryScanner(db, priority, -1, 16)
  let firstRow: number | undefined
  try {
    for (let row = await scanner.next(); row; row = await scanner.next()) {
      firstRow ??= row.offset
      const header = tryDecodeEntryHeader(row.value)
      if (header) {
        log.first = { offset: row.offset, cumBefore: header.cumBytes - header.sizeBytes, storeMs: header.storeMs }
        state.storeMs = Math.max(state.storeMs, header.storeMs)
        break
      }
      ops.push({ type: 'del', key: row.key }) // damaged and at the front: nothing to keep
      state.damagedEntries++
    }
    if (scanner.stuck) throw new GatewayError('GW_ERR_STORE_CORRUPT', `LevelDB cannot read the front of the ${priority} log`)
  } finally {
    await scanner.close()
  }
  if (log.first) log.lastCum = Math.max(log.lastCum, log.first.cumBefore)
  return { firstRow }
}

/** Persisted cursors of configured uplinks; ops deleting the others. */
async function loadCursors(db: LevelDb, uplinks: readonly string[], damagedKeys: string[]) {
  const acked = new Map<string, number>()
  const deletes: BatchOp[] = []
  const removed = new Set<string>()
  for (const [key, value] of await db.iterator(prefixRange(CURSOR_PREFIX)).all()) {
    const parsed = parseCursorKey(key)
    const n = safeInt(value)
    if (parsed && uplinks.includes(parsed.uplink)) {
      if (n === undefined || n < -1) damagedKeys.push(key) // resend from the start of the log
      else acked.set(key, n)
    } else {
      deletes.push({ type: 'del', key })
      if (parsed) removed.add(parsed.uplink)
    }
  }
  return { acked, deletes, removed: [...removed] }
}

/**
 * Fills in the cursor's head: cumBytes through `acked` and the store time of the next entry. A
 * damaged or missing entry after the cursor is passed over (the reader skips it anyway).
 */
export async function refreshCursorHead(db: LevelDb, priority: Priority, cursor: CursorState, log: ClassLog): Promise<void> {
  if (cursor.acked + 1 >= log.next) {
    cursor.ackedCum = log.lastCum
    cursor.headStoreMs = undefined
    return
  }
  if (!log.first || cursor.acked < log.first.offset) return // the head is log.first; stats use it directly
  // The usual case is one point read; a damaged or missing entry (or a LevelDB read error) takes the scan.
  const next = await db.get(entryKey(priority, cursor.acked + 1)).catch(() => undefined)
  const nextHead = next && tryDecodeEntryHeader(next)
  if (nextHead) {
    cursor.ackedCum = nextHead.cumBytes - nextHead.sizeBytes
    cursor.headStoreMs = nextHead.storeMs
    return
  }
  const scanner = new EntryScanner(db, priority, cursor.acked, 4)
  try {
    for (let row = await scanner.next(); row && row.offset < log.next; row = await scanner.next()) {
      const head = tryDecodeEntryHeader(row.value)
      if (!head) continue
      cursor.ackedCum = head.cumBytes - head.sizeBytes
      cursor.headStoreMs = head.storeMs
      return
    }
  } finally {
    await scanner.close()
  }
  cursor.ackedCum = log.lastCum
  cursor.headStoreMs = undefined
}

async function loadCounters(db: LevelDb, damagedKeys: string[]): Promise<Map<string, number>> {
  const counters = new Map<string, number>()
  for (const [key, value] of await db.iterator(prefixRange(COUNTER_PREFIX)).all()) {
    const n = safeInt(value)
    if (n === undefined || n < 0) damagedKeys.push(key)
    else counters.set(key.slice(COUNTER_PREFIX.length), n)
  }
  return counters
}

export async function loadState(db: LevelDb, uplinks: readonly string[]): Promise<LoadedState> {
  const ops: BatchOp[] = []
  const found: LoadProgress = { storeMs: decodeStoreTime(await db.get(CLOCK_KEY)), damagedEntries: 0, damagedKeys: [], lostEntries: 0 }
  const logs = { alert: await loadLog(db, 'alert', ops, found), telemetry: await loadLog(db, 'telemetry', ops, found) }
  const persisted = await loadCursors(db, uplinks, found.damagedKeys)
  ops.push(...persisted.deletes)
  if (ops.length > 0) await db.batch(ops, { sync: true })
  const cursors = new Map<string, PerClass<CursorState>>()
  for (const uplink of uplinks) {
    const state = {} as PerClass<CursorState>
    for (const priority of PRIORITIES) {
      const acked = persisted.acked.get(cursorKey(uplink, priority)) ?? -1
      // A cursor can be ahead of the last key only if offsets were lost; never hand them out again.
      logs[priority].next = Math.max(logs[priority].next, acked + 1)
      state[priority] = newCursor(acked)
    }
    cursors.set(uplink, state)
  }
  for (const state of cursors.values()) {
    for (const priority of PRIORITIES) await refreshCursorHead(db, priority, state[priority], logs[priority])
  }
  const counters = await loadCounters(db, found.damagedKeys)
  return { logs, cursors, counters, removedUplinks: persisted.removed, ...found }
}
