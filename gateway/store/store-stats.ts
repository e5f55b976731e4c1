/** StoreStats from the in-memory view only: O(classes × uplinks), no I/O. */
import { PRIORITIES, type DropReason, type LeftoverClearStats, type QueueStats, type StoreStats } from '../core/types.js'
import { deadLetterCount } from './dead-letters.js'
import { addQueueStats, classQueueStats, logBytes, logEntries } from './log-state.js'
import type { StoreContext } from './log-writer.js'

const EMPTY_QUEUE: QueueStats = { depth: 0, bytes: 0, oldestAgeMs: 0 }

export function computeStats(
  ctx: StoreContext | undefined,
  config: { maxBytes: number; uplinks: readonly string[] },
  /** Store time now (ages are measured in store time, see store-clock.ts). */
  nowMs: number,
  drops: Record<DropReason, number>,
  /** What the writer and the blocking appender know: leftovers (none before open), waiting appends. */
  live: { leftoverClears?: LeftoverClearStats; blockedAppends: number },
): StoreStats {
  const stats: StoreStats = {
    entries: 0, bytes: 0, maxBytes: config.maxBytes, oldestAgeMs: 0, perUplink: {}, drops, deadLetters: 0,
    leftoverClears: live.leftoverClears ?? { ranges: 0, entries: 0 },
    blockedAppends: live.blockedAppends,
  }
  for (const uplink of config.uplinks) stats.perUplink[uplink] = { ...EMPTY_QUEUE }
  if (!ctx) return stats
  for (const priority of PRIORITIES) {
    const log = ctx.logs[priority]
    stats.entries += logEntries(log)
    stats.bytes += logBytes(log)
    if (log.first) stats.oldestAgeMs = Math.max(stats.oldestAgeMs, nowMs - log.first.storeMs)
  }
  for (const [uplink, state] of ctx.cursors) {
    stats.perUplink[uplink] = PRIORITIES.reduce(
      (sum, p) => addQueueStats(sum, classQueueStats(state[p], ctx.logs[p], nowMs)),
      { ...EMPTY_QUEUE },
    )
  }
  for (const area of ctx.deadLetters.values()) stats.deadLetters += deadLetterCount(area)
  return stats
}
