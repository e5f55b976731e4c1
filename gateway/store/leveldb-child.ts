/**
 * The risky LevelDB work of a salvage, run as a CHILD process (`node leveldb-child.js <mode> ...`):
 * on some damaged table files LevelDB does not return an error but abort()s the whole process
 * (an assertion in TableBuilder::Add when a damaged block yields keys out of order, during a
 * repair or a compaction). A worker thread would not help (abort ends the process), so the store
 * spawns this file and judges it by its exit: code 0 and a JSON line = done; anything else,
 * including death by a signal, = failed, and the parent takes the next fallback (child-salvage.ts).
 *
 * Modes
 *   repair <dir>              LevelDB repair of <dir> (a hard-linked snapshot, never the live
 *                             store), then a full compaction and a full ordered scan, so every
 *                             table has been rebuilt and read once: a DB that passes cannot abort
 *                             the gateway later. Prints {"keys": n}.
 *   copy <from> <to> [after]  Copies every readable key/value of the store's key areas (counters
 *                             first, entries last) from <from> into <to>, in batches, printing
 *                             {"last": key, "copied": n} after each committed batch (so a parent
 *                             can resume after a crash), then {"done": true, "copied": n, ...}.
 *                             Garbled entry keys (not `e!<class>!<16 digits>`) are left out.
 *                             When <to> cannot be opened or written (disk full, LOCK held) it
 *                             prints {"targetError": message} and exits 1: not damage, and the
 *                             parent must not take the copy for done.
 *
 * Started with an IPC channel (child-salvage.ts), the child exits when that closes: the gateway
 * died, and its successor will clear or copy again whatever the child would go on writing.
 *
 * The key format comes from keys.ts (its one definition: a copy here that went stale would make a
 * salvage skip every entry as garbled). keys.ts has no runtime imports of its own, so the child
 * stays small; compiled, it is this file's sibling (core/compiled-script.ts).
 */
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { Level } from 'level'
import { SALVAGE_AREAS, entryKey, entryPrefix, isEntryKey, parseEntryKey, prefixRange } from './keys.js'

type Db = Level<string, Buffer>

/** `level` is classic-level on Node; its typings leave out the LevelDB-only methods used here. */
interface ClassicExtras {
  compactRange(start: string, end: string): Promise<void>
}
const repairDb = (Level as unknown as { repair: (dir: string) => Promise<void> }).repair.bind(Level)

const BATCH = 500

function openDb(dir: string, createIfMissing: boolean): Promise<Db> {
  const db = new Level<string, Buffer>(dir, { keyEncoding: 'utf8', valueEncoding: 'buffer' })
  return db.open({ createIfMissing }).then(() => db)
}

function print(obj: object): void {
  process.stdout.write(`${JSON.stringify(obj)}\n`)
}

async function repairAndVerify(dir: string): Promise<void> {
  await repairDb(dir)
  const db = await openDb(dir, false)
  try {
    // Rebuilds every table: a block that would trip an assertion trips it here, in the child.
    await (db as unknown as ClassicExtras).compactRange('\u0000', '\uffff')
    let keys = 0
    let previous: string | undefined
    for await (const key of db.keys()) {
      if (previous !== undefined && key <= previous) throw new Error(`keys out of order after repair: ${previous} then ${key}`)
      previous = key
      keys++
    }
    print({ keys })
  } finally {
    await db.close()
  }
}

/** The key `step` offsets after an entry key (used to get past an unreadable stretch); undefined for other keys. */
function entryKeyAfter(key: string, step: number): string | undefined {
  const entry = parseEntryKey(key)
  return entry && entryKey(entry.priority, entry.offset + step)
}

/** Opening or writing the target store failed: the copy must stop, not skip ahead as after a read error. */
class TargetError extends Error {}

function target<T>(write: Promise<T>): Promise<T> {
  return write.catch((err: unknown) => {
    throw new TargetError(err instanceof Error ? err.message : String(err))
  })
}

interface Totals {
  copied: number
  /** Garbled keys left out. */
  skipped: number
  /** Read errors met (each means an unreadable stretch). */
  readErrors: number
}

/** The entry areas (e!a!, e!t!): their keys must be well-formed entry keys. */
const ENTRY_AREAS = new Set([entryPrefix('alert'), entryPrefix('telemetry')])

/** A damaged table can yield garbled keys; an entry key must be exactly what keys.ts writes. */
function copyable(area: string, key: string): boolean {
  return !ENTRY_AREAS.has(area) || isEntryKey(key)
}

async function copyRows(to: Db, area: string, rows: Array<[string, Buffer]>, totals: Totals): Promise<void> {
  const ops = rows.filter(([key]) => copyable(area, key)).map(([key, value]) => ({ type: 'put' as const, key, value }))
  totals.skipped += rows.length - ops.length
  if (ops.length > 0) await target(to.batch(ops, { sync: true }))
  totals.copied += ops.length
}

/**
 * Copies one key area forwards, re-seeking after a read error (and, for entries, jumping ahead
 * over offsets when a re-seek makes no progress). Returns the last key copied.
 */
async function copyForward(from: Db, to: Db, area: string, after: string | undefined, totals: Totals): Promise<string | undefined> {
  const range = prefixRange(area)
  let last = after !== undefined && after >= range.gte && after < range.lt ? after : undefined
  let probe = 1
  for (;;) {
    const it = from.iterator(last === undefined ? range : { gt: last, lt: range.lt })
    let progressed = false
    try {
      for (;;) {
        const rows = await it.nextv(BATCH)
        if (rows.length === 0) return last
        await copyRows(to, area, rows, totals)
        last = rows[rows.length - 1]![0]
        progressed = true
        probe = 1
        print({ last, copied: totals.copied })
      }
    } catch (err) {
      if (err instanceof TargetError) throw err
      totals.readErrors++
      if (!progressed) {
        const next = last === undefined || probe > 1 << 20 ? undefined : entryKeyAfter(last, probe)
        if (next === undefined) return last
        last = next
        probe *= 4
      }
    } finally {
      await it.close().catch(() => undefined)
    }
  }
}

/**
 * Copies one key area backwards from its end down to `stopAt`: a damaged block poisons every seek
 * that lands on it, including a seek to the start of an area whose first keys sit in that block,
 * while a reverse seek from the end reaches the keys after it.
 */
async function copyBackward(from: Db, to: Db, area: string, stopAt: string | undefined, totals: Totals): Promise<void> {
  const range = prefixRange(area)
  const it = from.iterator({ ...(stopAt === undefined ? { gte: range.gte } : { gt: stopAt }), lt: range.lt, reverse: true })
  try {
    for (;;) {
      const rows = await it.nextv(BATCH)
      if (rows.length === 0) return
      await copyRows(to, area, rows, totals)
    }
  } catch (err) {
    if (err instanceof TargetError) throw err
    totals.readErrors++
  } finally {
    await it.close().catch(() => undefined)
  }
}

async function copyStore(fromDir: string, toDir: string, after: string | undefined): Promise<void> {
  const from = await openDb(fromDir, false)
  try {
    const to = await target(openDb(toDir, true))
    try {
      const totals: Totals = { copied: 0, skipped: 0, readErrors: 0 }
      const start = after === undefined ? 0 : Math.max(0, SALVAGE_AREAS.findIndex((a) => after.startsWith(a)))
      for (const area of SALVAGE_AREAS.slice(start)) {
        const last = await copyForward(from, to, area, after, totals)
        if (totals.readErrors > 0) await copyBackward(from, to, area, last, totals)
      }
      print({ done: true, ...totals })
    } finally {
      await to.close()
    }
  } finally {
    await from.close()
  }
}

async function main(argv: string[]): Promise<void> {
  const [mode, a, b, c] = argv
  if (mode === 'repair' && a) return repairAndVerify(a)
  if (mode === 'copy' && a && b) return copyStore(a, b, c || undefined)
  throw new Error('usage: leveldb-child.js repair <dir> | copy <from> <to> [afterKey]')
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  if (process.channel) {
    process.channel.unref() // only watched, never keeps the child alive
    process.once('disconnect', () => process.exit(2))
  }
  main(process.argv.slice(2)).catch((err: unknown) => {
    if (err instanceof TargetError) print({ targetError: err.message })
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`)
    process.exit(1)
  })
}
