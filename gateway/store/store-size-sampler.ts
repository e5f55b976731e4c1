/**
 * The store directory's size for the free-space guard (disk-space-guard.ts), without listing a
 * large store every second.
 *
 * Invariants:
 * - Listing stats every file: ~500 for a 1 GiB store. Above MAX_COMPACTION_BYTES the guard's need
 *   is capped and the exact size does not matter, so when the caller allows it (`mayReuse`: the
 *   guard has room) a store that large is listed only every STORE_LIST_INTERVAL_MS. A store that
 *   shrank meanwhile is taken as larger, so the estimate errs towards "fuller", for at most that long.
 * - Every other call lists: a small store, a guard short of room, a fresh sample. On a small
 *   filesystem a compaction that just shrank the store is what turns "full" back into "room".
 */
import { MAX_COMPACTION_BYTES } from './leveldb-footprint.js'

/** How often a store above MAX_COMPACTION_BYTES is listed while the guard has room. */
export const STORE_LIST_INTERVAL_MS = 30_000

export class StoreSizeSampler {
  private lastBytes = 0
  private listedAtMs = -Infinity

  constructor(
    private readonly dir: string,
    private readonly list: (dir: string) => Promise<number>,
    private readonly now: () => number,
  ) {}

  /** The store's bytes: listed now, or the last listing when `mayReuse` and the rule above allow. */
  async bytes(mayReuse: boolean): Promise<number> {
    const t = this.now()
    if (mayReuse && this.lastBytes >= MAX_COMPACTION_BYTES && t - this.listedAtMs < STORE_LIST_INTERVAL_MS) return this.lastBytes
    this.listedAtMs = t
    this.lastBytes = await this.list(this.dir)
    return this.lastBytes
  }
}
