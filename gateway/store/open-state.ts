/**
 * Rebuilds the in-memory view at open() from a handful of point reads: per class the meta key and
 * the first and last entry (iterator limit 1, forward and reverse), the cursors, the counters and
 * the dead-letter bounds. Nothing here walks the backlog.
 */
import { GatewayError } from '../core/errors.js'
import { PRIORITIES, type Priority } from '../core/types.js'
import type { BatchOp, LevelDb } from './front-trimmer.js'
import { COUNTER_PREFIX, CURSOR_PREFIX, cursorKey, entriesAfter, entryKey, metaKey, offsetOfKey, parseCursorKey, prefixRange } from './keys.js'
import { emptyLog, newCursor, type ClassLog, type CursorState, type PerClass } from './log-state.js'
import { decodeEntryHeader } from './value-codec.js'

export interface LoadedState {
  logs: PerClass<ClassLog>
  cursors: Map<string, PerClass<CursorState>>
  counters: Map<string, number>
  /** Uplinks whose cursors were deleted because they are no longer configured. */
  removedUplinks: string[]
}

async function edgeEntry(db: LevelDb, priority: Priority, reverse: boolean): Promise<[string, Buffer] | undefined> {
  const rows = await db.iterator({ ...entriesAfter(priority, -1), reverse, limit: 1 }).all()
  return rows[0]
}

async function loadLog(db: LevelDb, priority: Priority): Promise<ClassLog> {
  const log = emptyLog()
  const meta = await db.get(metaKey(priority))
  if (meta) {
    const [next, lastCum] = meta.toString('latin1').split(',').map(Number)
    log.next = next ?? 0
    log.lastCum = lastCum ?? 0
  }
  const [first, last] = [await edgeEntry(db, priority, false), await edgeEntry(db, priority, true)]
  if (first && last) {
    const head = decodeEntryHeader(first[1])
    log.first = { offset: offsetOfKey(first[0]), cumBefore: head.cumBytes - head.sizeBytes, appendedMs: head.appendedMs }
    log.next = Math.max(log.next, offsetOfKey(last[0]) + 1)
    log.lastCum = decodeEntryHeader(last[1]).cumBytes
  }
  return log
}

/** Persisted cursors of configured uplinks; ops deleting the others. */
async function loadCursors(db: LevelDb, uplinks: readonly string[]) {
  const acked = new Map<string, number>()
  const deletes: BatchOp[] = []
  const removed = new Set<string>()
  for (const [key, value] of await db.iterator(prefixRange(CURSOR_PREFIX)).all()) {
    const parsed = parseCursorKey(key)
    if (parsed && uplinks.includes(parsed.uplink)) {
      acked.set(key, Number(value.toString('latin1')))
    } else {
      deletes.push({ type: 'del', key })
      if (parsed) removed.add(parsed.uplink)
    }
  }
  return { acked, deletes, removed: [...removed] }
}

/** Fills in the cursor's head (cumBytes through `acked`, age of the next entry) with one get. */
export async function refreshCursorHead(db: LevelDb, priority: Priority, cursor: CursorState, log: ClassLog): Promise<void> {
  if (cursor.acked + 1 >= log.next) {
    cursor.ackedCum = log.lastCum
    cursor.headAppendedMs = undefined
    return
  }
  if (!log.first || cursor.acked < log.first.offset) return // the head is log.first; stats use it directly
  const value = await db.get(entryKey(priority, cursor.acked + 1))
  if (!value) throw new GatewayError('GW_ERR_STORE_CORRUPT', `store log has a gap at ${priority} offset ${cursor.acked + 1}`)
  const head = decodeEntryHeader(value)
  cursor.ackedCum = head.cumBytes - head.sizeBytes
  cursor.headAppendedMs = head.appendedMs
}

async function loadCounters(db: LevelDb): Promise<Map<string, number>> {
  const counters = new Map<string, number>()
  for (const [key, value] of await db.iterator(prefixRange(COUNTER_PREFIX)).all()) {
    counters.set(key.slice(COUNTER_PREFIX.length), Number(value.toString('latin1')))
  }
  return counters
}

export async function loadState(db: LevelDb, uplinks: readonly string[]): Promise<LoadedState> {
  const logs = { alert: await loadLog(db, 'alert'), telemetry: await loadLog(db, 'telemetry') }
  const persisted = await loadCursors(db, uplinks)
  if (persisted.deletes.length > 0) await db.batch(persisted.deletes, { sync: true })
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
  return { logs, cursors, counters: await loadCounters(db), removedUplinks: persisted.removed }
}
