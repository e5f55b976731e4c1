/**
 * Plans deletions at the front of a class (eviction by bytes, expiry by age). It only collects
 * keys; the caller commits the ops from `finish()` in a batch and then applies the results to the
 * in-memory logs, so a failed write leaves memory and disk in agreement.
 *
 * Damage: a value that fails its checksum is always taken (its age and cumBytes are unknown, and
 * it must never become the front); missing offsets between the keys it meets are reported too.
 * Both come back in `TrimResult.damaged` so the writer counts them `corrupt_entry`, not evicted.
 */
import type { Level } from 'level'
import type { Priority } from '../core/types.js'
import { EntryScanner } from './entry-scanner.js'
import { logBytes, type ClassLog, type LogHead, type PerClass } from './log-state.js'
import { entrySizeBytes, tryDecodeEntryHeader, type EntryHeader } from './value-codec.js'

export type LevelDb = Level<string, Buffer>
export type BatchOp = { type: 'put'; key: string; value: Buffer } | { type: 'del'; key: string }

interface ScannedEntry {
  key: string
  offset: number
  /** undefined: the value is damaged. */
  header: EntryHeader | undefined
  sizeBytes: number
}

interface FrontScan {
  scanner: EntryScanner
  keys: string[]
  bytes: number
  /** Intact entries taken. */
  count: number
  damaged: Array<[number, number]>
  /** Offset the next taken entry should have; a larger one means the offsets between are missing. */
  expected: number
  /** cumBytes through the last taken entry, and the store time of the last intact one. */
  cumThrough: number
  lastStoreMs: number
  /** The entry read but not (yet) planned for deletion; null when the class is exhausted. */
  peeked: ScannedEntry | null | undefined
}

/** What trimming did to one class. */
export interface TrimResult {
  /** Intact entries removed (evicted or expired). */
  count: number
  bytes: number
  newFirst: LogHead | null
  /** Offsets removed or passed over that were damaged or missing ([from, to] inclusive). */
  damaged: Array<[number, number]>
}

export class FrontTrimmer {
  private readonly scans = new Map<Priority, FrontScan>()

  constructor(
    private readonly db: LevelDb,
    private readonly logs: PerClass<ClassLog>,
    private readonly onReadError: (err: unknown) => void = () => undefined,
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
      freed += entry.sizeBytes
    }
    return freed
  }

  /** Plans deleting up to `maxCount` of the oldest entries appended before store time `cutoffMs`. */
  async trimOlderThan(priority: Priority, cutoffMs: number, maxCount: number): Promise<number> {
    let count = 0
    while (count < maxCount && (await this.take(priority, (h) => h.storeMs < cutoffMs))) count++
    return count
  }

  /** The delete ops and the new front of each trimmed class; closes the iterators. */
  async finish(): Promise<{ ops: BatchOp[]; results: Map<Priority, TrimResult> }> {
    const results = new Map<Priority, TrimResult>()
    const ops: BatchOp[] = []
    try {
      for (const [priority, scan] of this.scans) {
        if (scan.keys.length === 0) continue
        let next = await this.peek(scan)
        while (next && !next.header) {
          this.consume(scan, next)
          next = await this.peek(scan)
        }
        if (next && next.offset > scan.expected) scan.damaged.push([scan.expected, next.offset - 1])
        let newFirst: LogHead | null = null
        if (next?.header) newFirst = { offset: next.offset, cumBefore: next.header.cumBytes - next.header.sizeBytes, storeMs: next.header.storeMs }
        // Unreadable beyond this point: keep a front that continues where the trimmed part ended.
        else if (scan.scanner.stuck) newFirst = { offset: scan.expected, cumBefore: scan.cumThrough, storeMs: scan.lastStoreMs }
        for (const key of scan.keys) ops.push({ type: 'del', key })
        results.set(priority, { count: scan.count, bytes: scan.bytes, newFirst, damaged: scan.damaged })
      }
    } finally {
      await this.close()
    }
    return { ops, results }
  }

  /** Closes the iterators without results (the plan was abandoned). Safe to call twice. */
  async close(): Promise<void> {
    const scans = [...this.scans.values()]
    this.scans.clear()
    await Promise.all(scans.map((s) => s.scanner.close()))
  }

  private async take(priority: Priority, accept: (h: EntryHeader) => boolean): Promise<ScannedEntry | undefined> {
    const scan = this.scan(priority)
    if (!scan) return undefined
    const entry = await this.peek(scan)
    if (!entry || (entry.header && !accept(entry.header))) return undefined
    this.consume(scan, entry)
    return entry
  }

  private consume(scan: FrontScan, entry: ScannedEntry): void {
    scan.peeked = undefined
    scan.keys.push(entry.key)
    scan.bytes += entry.sizeBytes
    if (entry.offset > scan.expected) scan.damaged.push([scan.expected, entry.offset - 1])
    scan.expected = entry.offset + 1
    if (entry.header) {
      scan.count++
      scan.cumThrough = entry.header.cumBytes
      scan.lastStoreMs = entry.header.storeMs
    } else {
      scan.damaged.push([entry.offset, entry.offset])
      scan.cumThrough += entry.sizeBytes
    }
  }

  private scan(priority: Priority): FrontScan | undefined {
    const existing = this.scans.get(priority)
    if (existing) return existing
    const first = this.logs[priority].first
    if (!first) return undefined
    const scan: FrontScan = {
      scanner: new EntryScanner(this.db, priority, first.offset - 1, 128, this.onReadError),
      keys: [],
      bytes: 0,
      count: 0,
      damaged: [],
      expected: first.offset,
      cumThrough: first.cumBefore,
      lastStoreMs: first.storeMs,
      peeked: undefined,
    }
    this.scans.set(priority, scan)
    return scan
  }

  private async peek(scan: FrontScan): Promise<ScannedEntry | null> {
    if (scan.peeked === undefined) {
      const row = await scan.scanner.next()
      scan.peeked = row ? { key: row.key, offset: row.offset, header: tryDecodeEntryHeader(row.value), sizeBytes: entrySizeBytes(row.value) } : null
    }
    return scan.peeked ?? null
  }
}
