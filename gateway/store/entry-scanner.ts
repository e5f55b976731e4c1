/**
 * Reads a class's entries in key (= offset) order, surviving damaged table blocks.
 *
 * LevelDB (without verify_checksums, which classic-level does not expose) skips a table block it
 * cannot decode and reports the error only some rows later, rejecting the whole page that was in
 * flight. The scanner then re-seeks right after the last row it delivered and carries on: the rows
 * of the bad block simply never appear (the caller sees a gap in the offsets). Only when a fresh
 * iterator fails before delivering anything is the scan `stuck` (nothing readable is left).
 * A garbled key (bytes flipped in a table, kept by a repair) is not delivered: its offset would be
 * meaningless; the entry it was shows up as a gap like any other lost one.
 */
import type { Iterator as LevelIterator } from 'level'
import type { Priority } from '../core/types.js'
import type { LevelDb } from './front-trimmer.js'
import { entriesAfter, isEntryKey, offsetOfKey } from './keys.js'

export interface ScannedRow {
  key: string
  offset: number
  value: Buffer
}

type RowIterator = LevelIterator<LevelDb, string, Buffer>

/** Re-seeks allowed per scan; each must have made progress, so this only bounds pathological files. */
const MAX_RESEEKS = 64

export class EntryScanner {
  /** True when the scan ended on a read error it could not get past (not at the end of the class). */
  stuck = false
  private iterator: RowIterator | undefined
  private page: ScannedRow[] = []
  private lastOffset: number
  private done = false
  private reseeks = 0
  private progressSinceSeek = 0

  /**
   * @param afterOffset scan starts strictly after this offset (-1: from the start)
   * @param pageRows rows fetched per native call; the caller may lower it as its budget shrinks
   * @param onError told about each read error swallowed (the store uses it to schedule a repair)
   */
  constructor(
    private readonly db: LevelDb,
    private readonly priority: Priority,
    afterOffset: number,
    public pageRows = 128,
    private readonly onError: (err: unknown) => void = () => undefined,
  ) {
    this.lastOffset = afterOffset
  }

  /** The next row, or null at the end of the class (or when `stuck`). */
  async next(): Promise<ScannedRow | null> {
    while (this.page.length === 0) {
      if (this.done) return null
      await this.fill()
    }
    const row = this.page.shift()!
    this.lastOffset = row.offset
    return row
  }

  async close(): Promise<void> {
    this.done = true
    this.page = []
    const it = this.iterator
    this.iterator = undefined
    await it?.close().catch(() => undefined)
  }

  private async fill(): Promise<void> {
    this.iterator ??= this.db.iterator(entriesAfter(this.priority, this.lastOffset))
    try {
      const rows = await this.iterator.nextv(Math.max(1, this.pageRows))
      if (rows.length === 0) {
        await this.close()
        return
      }
      this.progressSinceSeek += rows.length
      this.page = rows.filter(([key]) => isEntryKey(key)).map(([key, value]) => ({ key, offset: offsetOfKey(key), value }))
    } catch (err) {
      this.onError(err)
      const it = this.iterator
      this.iterator = undefined
      await it?.close().catch(() => undefined)
      if (this.progressSinceSeek === 0 || ++this.reseeks > MAX_RESEEKS) {
        this.stuck = true
        await this.close()
        return
      }
      this.progressSinceSeek = 0 // the next fill re-seeks after lastOffset
    }
  }
}

