/**
 * Key layout of the LevelStore (see the design block in level-store.ts). Every key is ASCII
 * except counter sources, and every variable number is zero-padded so that LevelDB's bytewise key
 * order is queue order.
 */
import type { Priority } from '../core/types.js'

/** Decimal digits of an offset or sequence in a key: 16 digits hold every safe integer (< 2^53). */
export const OFFSET_DIGITS = 16

const CLASS_TAG: Record<Priority, string> = { alert: 'a', telemetry: 't' }
const TAG_CLASS: Record<string, Priority> = { a: 'alert', t: 'telemetry' }

/** Same rule as the config's `componentId`; it also keeps `!` (our separator) out of uplink ids. */
const UPLINK_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/

/** Length in bytes of every entry key (`e!a!` + 16 digits); part of each entry's `sizeBytes`. */
export const ENTRY_KEY_BYTES = 4 + OFFSET_DIGITS

export const CURSOR_PREFIX = 'c!'
export const DEAD_LETTER_PREFIX = 'd!'
/**
 * Sequence counters and meta keys are rewritten by every append, so every LevelDB table holds
 * some. They sort BEFORE the entries (upper case: 'M' and 'S' < 'e'), like cursors and dead
 * letters, so a table's key range ends at its newest entry and a deeper table never spans the
 * entries newer than its own. LevelDB drops an acked entry's deletion marker (and the entry) in a
 * compaction only when no deeper table's range covers the key: with these keys after the entries
 * (layout 1: 'm!', 's!'), every deeper table covered every newer entry, so level 1 filled with
 * dead entries and markers that each level-0 compaction rewrote again. Measured on the Event Hubs
 * bench (300,000 events live): LevelDB's compaction thread 9.7-11.2 µs of CPU per event before,
 * 3.3-3.8 after; the whole process 36 µs before, 29 after (medians of 3 alternating runs).
 * The other side: every table's range now starts before every entry, so a level-0 compaction
 * rewrites all of level 1, which costs most while nothing is acked (offline); the larger write
 * buffer makes those compactions rare (leveldb-footprint.ts).
 */
export const COUNTER_PREFIX = 'S!'
export const META_PREFIX = 'M!'
/** Where layout 1 kept them: open() moves them (key-layout.ts), a salvage copies them too. */
export const LEGACY_COUNTER_PREFIX = 's!'
export const LEGACY_META_PREFIX = 'm!'

function pad(n: number): string {
  return String(n).padStart(OFFSET_DIGITS, '0')
}

/** Range options covering every key that starts with `prefix` (the upper bound bumps its last char). */
export function prefixRange(prefix: string): { gte: string; lt: string } {
  const last = prefix.charCodeAt(prefix.length - 1)
  return { gte: prefix, lt: prefix.slice(0, -1) + String.fromCharCode(last + 1) }
}

export function entryPrefix(priority: Priority): string {
  return `e!${CLASS_TAG[priority]}!`
}

export function entryKey(priority: Priority, offset: number): string {
  return entryPrefix(priority) + pad(offset)
}

/**
 * Range of a class's entries strictly after `afterOffset` (-1 = from the start). Seeking with `gt`
 * to a live position means LevelDB never walks the tombstones of already-deleted entries.
 */
export function entriesAfter(priority: Priority, afterOffset: number): { gt?: string; gte?: string; lt: string } {
  const { gte, lt } = prefixRange(entryPrefix(priority))
  return afterOffset < 0 ? { gte, lt } : { gt: entryKey(priority, afterOffset), lt }
}

const ENTRY_KEY = new RegExp(`^e![at]!\\d{${OFFSET_DIGITS}}$`)

/** False for a key in an entry range that is not one (a damaged table can yield garbled keys). */
export function isEntryKey(key: string): boolean {
  return ENTRY_KEY.test(key)
}

/** Class and offset of an entry key; undefined for anything else (see isEntryKey). */
export function parseEntryKey(key: string): { priority: Priority; offset: number } | undefined {
  return isEntryKey(key) ? { priority: TAG_CLASS[key[2]!]!, offset: offsetOfKey(key) } : undefined
}

export function offsetOfKey(key: string): number {
  return Number(key.slice(-OFFSET_DIGITS))
}

/** Store time (ms, see store-clock.ts) as last saved: with every append, periodically and at close. */
export const CLOCK_KEY = `${META_PREFIX}c`

/** Holds `next offset,cumulative bytes` of a class, written with every append that touches it. */
export function metaKey(priority: Priority): string {
  return META_PREFIX + CLASS_TAG[priority]
}

/**
 * Holds the offset of the first live entry of a class, written in the same batch as every write
 * that deletes at the front (ack collection, eviction, expiry). Entries below it were deleted on
 * purpose; live entries missing above it at open were lost to damage and are counted.
 */
export function frontKey(priority: Priority): string {
  return `${META_PREFIX}f!${CLASS_TAG[priority]}`
}

export function cursorKey(uplink: string, priority: Priority): string {
  return `${CURSOR_PREFIX}${uplink}!${CLASS_TAG[priority]}`
}

export function parseCursorKey(key: string): { uplink: string; priority: Priority } | undefined {
  const sep = key.lastIndexOf('!')
  const priority = TAG_CLASS[key.slice(sep + 1)]
  if (!key.startsWith(CURSOR_PREFIX) || sep <= CURSOR_PREFIX.length || !priority) return undefined
  return { uplink: key.slice(CURSOR_PREFIX.length, sep), priority }
}

export function counterKey(source: string): string {
  return COUNTER_PREFIX + source
}

export function deadLetterPrefix(uplink: string): string {
  return `${DEAD_LETTER_PREFIX}${uplink}!`
}

export function deadLetterKey(uplink: string, seq: number): string {
  return deadLetterPrefix(uplink) + pad(seq)
}

/** The uplink id of a `d!<uplink>!<seq>` key. */
export function uplinkOfDeadLetterKey(key: string): string {
  return key.slice(DEAD_LETTER_PREFIX.length, key.length - OFFSET_DIGITS - 1)
}

/**
 * Every key area of the store: each key it writes starts with one of these prefixes. In the order a
 * salvage copies them (leveldb-child.ts): sequence counters and meta keys before anything a damaged
 * table may cut short, entries last. A new area must be added here, or a salvage leaves it behind.
 */
export const KEY_AREAS: readonly string[] = [COUNTER_PREFIX, META_PREFIX, CURSOR_PREFIX, DEAD_LETTER_PREFIX, entryPrefix('alert'), entryPrefix('telemetry')]

/**
 * What a salvage copies: every key area, the layout-1 counter and meta areas first (a damaged
 * store may predate layout 2; the copy is migrated when it is opened).
 */
export const SALVAGE_AREAS: readonly string[] = [LEGACY_COUNTER_PREFIX, LEGACY_META_PREFIX, ...KEY_AREAS]

/**
 * A key range below every key area: LevelDB's compactRange over it only flushes the memtable (and
 * deletes obsolete files), because no table holds a key in it. (A range of meta keys is not that:
 * every batch writes them, so every table holds them and compacting them rewrites the store.)
 */
export const FLUSH_ONLY_RANGE: readonly [string, string] = ['!', '!~']

/** Throws a TypeError naming the field when an uplink id could break the key layout. */
export function assertUplinkIds(uplinks: readonly string[]): void {
  for (const id of uplinks) {
    if (!UPLINK_ID.test(id)) {
      throw new TypeError(`uplinks: "${id}" must be 1-64 characters of A-Z a-z 0-9 . _ - (it is part of store keys)`)
    }
  }
  if (new Set(uplinks).size !== uplinks.length) throw new TypeError('uplinks: ids must be unique')
}
