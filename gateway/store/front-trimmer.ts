/**
 * Plans deletions at the front of a class (eviction by bytes, expiry by age). It only collects
 * keys; the caller commits `ops()` in a batch and then applies `finish()` to the in-memory logs,
 * so a failed write leaves memory and disk in agreement.
 */
import type { Level, Iterator as LevelIterator } from 'level'
import type { Priority } from '../core/types.js'
import { entriesAfter, offsetOfKey } from './keys.js'
import { logBytes, type ClassLog, type LogHead, type PerClass } from './log-state.js'
import { decodeEntryHeader, type EntryHeader } from './value-codec.js'

export type LevelDb = Level<string, Buffer>
export type BatchOp = { type: 'put'; key: string; value: Buffer } | { type: 'del'; key: string }

type Cursor = LevelIterator<LevelDb, string, Buffer>

interface ScannedEntry {
  key: string
  header: EntryHeader
}

interface FrontScan {
  iterator: Cursor
  keys: string[]
  bytes: number
  /** The entry read but not (yet) planned for deletion; null when the class is exhausted. */
  peeked: ScannedEntry | null | undefined
}

/** What trimming did to one class. */
export interface TrimResult {
  count: number
  bytes: number
  newFirst: LogHead | null
}

export class FrontTrimmer {
  private readonly scans = new Map<Priority, FrontScan>()

  constructor(
    private readonly db: LevelDb,
    private readonly logs: PerClass<ClassLog>,
  ) {}

  /** Bytes of the class still on disk after the deletions planned so far. */
  remainingBytes(priority: Priority): number {
    return logBytes(this.logs[priority]) - (this.scans.get(priority)?.bytes ?? 0)
  }

  /** Plans deleting the oldest entries until at least `minBytes` are freed (or the class is empty). */
  async trimBytes(priority: Priority, minBytes: number): Promise<number> {
    let freed = 0
    while (freed < minBytes) {
      const entry = await this.take(priority, () => true)
      if (!entry) break
      freed += entry.header.sizeBytes
    }
    return freed
  }

  /** Plans deleting up to `maxCount` of the oldest entries appended before `cutoffMs`. */
  async trimOlderThan(priority: Priority, cutoffMs: number, maxCount: number): Promise<number> {
    let count = 0
    while (count < maxCount && (await this.take(priority, (e) => e.header.appendedMs < cutoffMs))) count++
    return count
  }

  ops(): BatchOp[] {
    const ops: BatchOp[] = []
    for (const scan of this.scans.values()) for (const key of scan.keys) ops.push({ type: 'del', key })
    return ops
  }

  /** The new front of each trimmed class; closes the iterators. */
  async finish(): Promise<Map<Priority, TrimResult>> {
    const results = new Map<Priority, TrimResult>()
    try {
      for (const [priority, scan] of this.scans) {
        if (scan.keys.length === 0) continue
        const next = await this.peek(scan)
        const newFirst = next
          ? { offset: offsetOfKey(next.key), cumBefore: next.header.cumBytes - next.header.sizeBytes, appendedMs: next.header.appendedMs }
          : null
        results.set(priority, { count: scan.keys.length, bytes: scan.bytes, newFirst })
      }
    } finally {
      await this.close()
    }
    return results
  }

  /** Closes the iterators without results (the plan was abandoned). Safe to call twice. */
  async close(): Promise<void> {
    const scans = [...this.scans.values()]
    this.scans.clear()
    await Promise.all(scans.map((s) => s.iterator.close()))
  }

  private async take(priority: Priority, accept: (e: ScannedEntry) => boolean): Promise<ScannedEntry | undefined> {
    const scan = this.scan(priority)
    if (!scan) return undefined
    const entry = await this.peek(scan)
    if (!entry || !accept(entry)) return undefined
    scan.peeked = undefined
    scan.keys.push(entry.key)
    scan.bytes += entry.header.sizeBytes
    return entry
  }

  private scan(priority: Priority): FrontScan | undefined {
    const existing = this.scans.get(priority)
    if (existing) return existing
    const first = this.logs[priority].first
    if (!first) return undefined
    const iterator = this.db.iterator(entriesAfter(priority, first.offset - 1))
    const scan: FrontScan = { iterator, keys: [], bytes: 0, peeked: undefined }
    this.scans.set(priority, scan)
    return scan
  }

  private async peek(scan: FrontScan): Promise<ScannedEntry | null> {
    if (scan.peeked === undefined) {
      const next = await scan.iterator.next()
      scan.peeked = next ? { key: next[0], header: decodeEntryHeader(next[1]) } : null
    }
    return scan.peeked ?? null
  }
}
