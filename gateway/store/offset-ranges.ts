/**
 * A small set of offset ranges: the damaged or missing entries of one class that the store already
 * knows about. Damage is rare, so a sorted array of disjoint ranges is plenty; it is capped so that
 * memory stays bounded however much is damaged (forgetting a range only means it is found, and
 * counted, again).
 */
export class OffsetRanges {
  /** Sorted, disjoint, non-adjacent [from, to] pairs (inclusive). */
  private ranges: Array<[number, number]> = []

  constructor(private readonly maxRanges = 1024) {}

  get size(): number {
    return this.ranges.length
  }

  /** Adds [from, to]; returns how many of its offsets were not in the set before. */
  add(from: number, to: number): number {
    if (to < from) return 0
    let added = to - from + 1
    let lo = from
    let hi = to
    const kept: Array<[number, number]> = []
    for (const [a, b] of this.ranges) {
      if (b < from - 1 || a > to + 1) {
        kept.push([a, b])
        continue
      }
      added -= Math.max(0, Math.min(b, to) - Math.max(a, from) + 1) // overlap was already known
      lo = Math.min(lo, a)
      hi = Math.max(hi, b)
    }
    kept.push([lo, hi])
    kept.sort((x, y) => x[0] - y[0])
    this.ranges = kept.length > this.maxRanges ? kept.slice(kept.length - this.maxRanges) : kept
    return added
  }

  /** The last offset of the range that contains `offset`, or undefined. */
  endOf(offset: number): number | undefined {
    for (const [a, b] of this.ranges) {
      if (a > offset) return undefined
      if (offset <= b) return b
    }
    return undefined
  }

  /** Forgets every offset below `offset` (entries that left the log). */
  dropBelow(offset: number): void {
    if (this.ranges.length === 0 || this.ranges[0]![0] >= offset) return
    this.ranges = this.ranges.filter(([, b]) => b >= offset).map(([a, b]) => [Math.max(a, offset), b])
  }
}
