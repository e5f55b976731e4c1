/**
 * Delivery tally with memory bounded by the number of sequences, not the number of receipts: an
 * hour-long soak receives over a million events, and the collector (test/support/collector.ts)
 * keeps every message and parsed event. `absorb()` folds what the collector holds into one bit per
 * (source, sequence) and empties the collector's arrays, so call it every few seconds.
 *
 * The verdict means what the collector's (`Verdict`) means, sequences 1..n expected per source,
 * except that `unexpected` counts distinct (source, sequence) pairs rather than receipts.
 */
import type { Collector, Verdict } from '../../test/support/collector.js'

interface SourceTally {
  /** seen[seq] = 1 once sequence `seq` arrived; grown by doubling. */
  seen: Uint8Array
  distinct: number
  maxSeq: number
}

export class SequenceTally {
  private readonly sources = new Map<string, SourceTally>()
  private duplicated = 0
  private reordered = 0
  private withoutSequence = 0
  private decodeErrors = 0
  /** Every receipt, duplicates included. */
  received = 0

  /** Moves the collector's events into the tally and clears its arrays (bounded memory). */
  absorb(col: Collector): void {
    for (const e of col.events) this.record(e.source, e.sequence)
    this.decodeErrors += col.errors.length
    col.events.splice(0)
    col.messages.splice(0)
    col.errors.splice(0)
  }

  /** Distinct (source, sequence) pairs received so far. */
  distinct(): number {
    let n = 0
    for (const t of this.sources.values()) n += t.distinct
    return n
  }

  /** Judged against `expected` (source → n, sequences 1..n). */
  verdict(expected: ReadonlyMap<string, number>): Verdict & { decodeErrors: number; withoutSequence: number } {
    const v = { delivered: 0, lost: 0, duplicated: this.duplicated, reordered: this.reordered, unexpected: 0, decodeErrors: this.decodeErrors, withoutSequence: this.withoutSequence }
    for (const [source, t] of this.sources) if (!expected.has(source)) v.unexpected += t.distinct
    for (const [source, n] of expected) {
      const t = this.sources.get(source)
      let got = 0
      if (t) for (let seq = 1; seq <= Math.min(n, t.seen.length - 1); seq++) got += t.seen[seq]!
      v.delivered += got
      v.lost += n - got
    }
    return v
  }

  private record(source: string, seq: number | undefined): void {
    this.received++
    if (seq === undefined) {
      this.withoutSequence++
      return
    }
    let t = this.sources.get(source)
    if (!t) this.sources.set(source, (t = { seen: new Uint8Array(1024), distinct: 0, maxSeq: 0 }))
    if (seq >= t.seen.length) {
      let size = t.seen.length
      while (size <= seq) size *= 2
      const grown = new Uint8Array(size)
      grown.set(t.seen)
      t.seen = grown
    }
    if (t.seen[seq]) {
      this.duplicated++
      return
    }
    t.seen[seq] = 1
    t.distinct++
    if (seq < t.maxSeq) this.reordered++
    else t.maxSeq = seq
  }
}
