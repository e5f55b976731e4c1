/**
 * What became of each event of one group commit, as the store reported it, for crediting each
 * push with exactly its own readings. A commit packs several sources' pushes back to back, and the
 * store may refuse events anywhere in it (an oversize event mid-batch, drop_oldest skipping the
 * batch's oldest) or, failing, store alerts and a prefix of telemetry: counts alone cannot say
 * whose readings were stored.
 *
 * Cheap on the hot path: a commit where everything was stored has no index lists, and walking
 * them costs one step per listed event plus one per push.
 */
import { PartialAppendError, settledBeforeFailure } from '../core/errors.js'

/** Ascending indices into the commit's events; every event in neither list is stored. */
export interface CommitFate {
  /** Settled without being stored: refused by the store (oversize, whenFull) or skipped as the batch's oldest. */
  refused?: readonly number[]
  /** Lost to a store error. */
  lost?: readonly number[]
}

/** The fate of a commit whose append rejected with `err`, over `events` offered events. */
export function fateOfFailure(err: unknown, events: number): CommitFate {
  const committed = settledBeforeFailure(err)
  if (err instanceof PartialAppendError && err.lost) return { refused: committed.refused, lost: err.lost }
  const refused = committed.refused ?? []
  // Not a PartialAppendError: nothing was settled. One that does not say which events it lost
  // leaves only its counts: assume the stored ones come first (all a count can say).
  let stored = committed.accepted
  const lost: number[] = []
  for (let i = 0, r = 0; i < events; i++) {
    if (r < refused.length && refused[r] === i) r++
    else if (stored > 0) stored--
    else lost.push(i)
  }
  return { refused, lost }
}

/** Walks an ascending index list along consecutive ranges of a commit (one range per push). */
export class IndexCursor {
  private at = 0
  constructor(private readonly indices: readonly number[] = []) {}

  /** How many indices are below `end` that an earlier call did not count. */
  countBelow(end: number): number {
    const start = this.at
    while (this.at < this.indices.length && this.indices[this.at]! < end) this.at++
    return this.at - start
  }
}
