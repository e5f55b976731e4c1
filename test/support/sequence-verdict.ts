/**
 * Delivery judged from CloudEvent `source` + `sequence`, whatever carried the events: the MQTT
 * collector (collector.ts) and the Event Hubs peer (eh-verdict.ts) both reduce what they received
 * to {@link SequencedEvent}s in arrival order and hand them here, so "lost", "duplicated" and
 * "reordered" mean the same thing for every uplink.
 *
 * Rules (sequences 1..n are expected per source):
 * - a receipt of a (source, sequence) pair already received is a duplicate, never a reorder;
 * - a FIRST receipt whose sequence is below one already received for that source is a reorder;
 * - events without a decimal `sequence` are ignored (they cannot be judged), except that events
 *   of a source not in `expected` count as unexpected either way.
 * No vitest import (usable from benches too).
 */

/** One received event, reduced to what delivery is judged by. */
export interface SequencedEvent {
  source: string
  /** The `sequence` extension as a number, or undefined when absent/not decimal. */
  sequence: number | undefined
}

/** Delivery judged per source against the expected count (sequences 1..n). */
export interface Verdict {
  /** Distinct expected (source, sequence) pairs received. */
  delivered: number
  /** Expected pairs never received. */
  lost: number
  /** Receipts of a pair already received. */
  duplicated: number
  /** First receipts whose sequence is below one already received for that source. */
  reordered: number
  /** Events from sources not in `expected`. */
  unexpected: number
}

/** Reads the CloudEvents `sequence` extension (a string attribute): its number when decimal, else undefined. */
export function parseSequence(value: unknown): number | undefined {
  return typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : undefined
}

/** Judges `events` (in arrival order) against `expected` (source → n, i.e. sequences 1..n). */
export function sequenceVerdict(events: Iterable<SequencedEvent>, expected: ReadonlyMap<string, number>): Verdict {
  const v: Verdict = { delivered: 0, lost: 0, duplicated: 0, reordered: 0, unexpected: 0 }
  const seen = new Map<string, Set<number>>()
  const maxSeen = new Map<string, number>()
  for (const e of events) {
    if (!expected.has(e.source)) {
      v.unexpected++
      continue
    }
    if (e.sequence === undefined) continue
    let s = seen.get(e.source)
    if (!s) seen.set(e.source, (s = new Set()))
    if (s.has(e.sequence)) {
      v.duplicated++
      continue
    }
    s.add(e.sequence)
    const max = maxSeen.get(e.source) ?? 0
    if (e.sequence < max) v.reordered++
    else maxSeen.set(e.source, e.sequence)
  }
  for (const [source, n] of expected) {
    let got = 0
    for (const seq of seen.get(source) ?? []) if (seq >= 1 && seq <= n) got++
    v.delivered += got
    v.lost += n - got
  }
  return v
}

/** Highest sequence received per source (sources whose events carry no sequence are absent). */
export function maxSequences(events: Iterable<SequencedEvent>): Map<string, number> {
  const m = new Map<string, number>()
  for (const e of events) if (e.sequence !== undefined) m.set(e.source, Math.max(m.get(e.source) ?? 0, e.sequence))
  return m
}

/** Distinct (source, sequence) pairs received, optionally only for sources `only` accepts. */
export function distinctPairs(events: Iterable<SequencedEvent>, only?: (source: string) => boolean): number {
  const seen = new Set<string>()
  for (const e of events) if (!only || only(e.source)) seen.add(`${e.source}#${e.sequence}`)
  return seen.size
}

/**
 * True when, for every source, as many distinct sequences arrived as its highest one: nothing is
 * missing below what was seen. For runs whose total is not known up front (restarts after kills).
 */
export function noGapsBelowMax(events: Iterable<SequencedEvent>): boolean {
  const list = [...events]
  let expected = 0
  for (const max of maxSequences(list).values()) expected += max
  return distinctPairs(list) >= expected
}
