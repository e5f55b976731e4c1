/**
 * Binary value format of a stored entry, big-endian. Version 2 (written since store time and
 * checksums were added):
 *
 *   u8 version=2 | u32 crc32 | f64 appendedMs | f64 storeMs | f64 cumBytes | u32 sourceLen | u32 idLen | source | id | json
 *
 * - `crc32` (zlib) covers every byte after it, so ANY damaged byte is detected when the value is
 *   decoded: LevelDB does not verify block checksums on reads (classic-level exposes no
 *   verify_checksums), and a flipped bit in a table block otherwise reaches us as a plausible value.
 * - `appendedMs` is the wall clock at append (display only); `storeMs` is store time (store-clock.ts),
 *   which expiry and ages use because it never jumps.
 * - `cumBytes` is the running total of `sizeBytes` of the class up to and including this entry, so
 *   the bytes between two entries are a subtraction and open() needs to read only the first entry
 *   of a class. f64 holds integers exactly up to 2^53, far beyond any disk. Priority is not stored:
 *   it is the key's class.
 *
 * Version 1 (no checksum, no store time) is still read: `storeMs` is then 0, the store time of a
 * store that had no clock yet, so such entries age from the first open after the upgrade.
 */
import { crc32 } from 'node:zlib'
import { GatewayError } from '../core/errors.js'
import type { DeadLetter, Entry, NewEvent, Priority } from '../core/types.js'
import { ENTRY_KEY_BYTES } from './keys.js'

interface Layout {
  appendedAt: number
  storeAt: number | undefined
  cumAt: number
  sourceLenAt: number
  idLenAt: number
  headerBytes: number
}

const V1: Layout = { appendedAt: 1, storeAt: undefined, cumAt: 9, sourceLenAt: 17, idLenAt: 21, headerBytes: 25 }
const V2: Layout = { appendedAt: 5, storeAt: 13, cumAt: 21, sourceLenAt: 29, idLenAt: 33, headerBytes: 37 }
const CRC_AT = 1
const CRC_FROM = 5

/** Store time given to version-1 entries (written before the store had a clock). */
export const LEGACY_STORE_MS = 0

/** What the store needs from an entry without decoding its strings. */
export interface EntryHeader {
  appendedMs: number
  storeMs: number
  cumBytes: number
  sizeBytes: number
}

/** Times an entry is stamped with at append. */
export interface AppendTimes {
  /** Wall clock, ms since epoch: Entry.appendedMs, for display. */
  wallMs: number
  /** Store time: what expiry and ages are measured in. */
  storeMs: number
}

/**
 * Encodes an event with `cumBytes` 0 and no checksum yet: the append fills in both with
 * `sealEntryValue` once the entry's place is known (it is never written unsealed). Summing the
 * checksum here too would cost one more crc32 over every value appended.
 */
export function encodeEntryValue(event: NewEvent, times: AppendTimes): Buffer {
  const sourceBytes = Buffer.byteLength(event.source, 'utf8')
  const idBytes = Buffer.byteLength(event.id, 'utf8')
  const jsonAt = V2.headerBytes + sourceBytes + idBytes
  const value = Buffer.allocUnsafe(jsonAt + Buffer.byteLength(event.json, 'utf8'))
  value.writeUInt8(2, 0)
  value.writeUInt32BE(0, CRC_AT)
  value.writeDoubleBE(times.wallMs, V2.appendedAt)
  value.writeDoubleBE(times.storeMs, V2.storeAt!)
  value.writeDoubleBE(0, V2.cumAt)
  value.writeUInt32BE(sourceBytes, V2.sourceLenAt)
  value.writeUInt32BE(idBytes, V2.idLenAt)
  // Strings are written straight into the value: no intermediate Buffer per field.
  value.write(event.source, V2.headerBytes, 'utf8')
  value.write(event.id, V2.headerBytes + sourceBytes, 'utf8')
  value.write(event.json, jsonAt, 'utf8')
  return value
}

/** Sets the cumulative byte counter and the checksum; the value is final afterwards. */
export function sealEntryValue(value: Buffer, cumBytes: number): void {
  value.writeDoubleBE(cumBytes, V2.cumAt)
  value.writeUInt32BE(crc32(value.subarray(CRC_FROM)), CRC_AT)
}

/** Bytes an entry occupies: its key plus its value. */
export function entrySizeBytes(value: Buffer): number {
  return ENTRY_KEY_BYTES + value.length
}

function corrupt(what: string): GatewayError {
  return new GatewayError('GW_ERR_STORE_CORRUPT', `store value is damaged: ${what}`)
}

function layoutOf(value: Buffer): Layout {
  if (value.length >= V2.headerBytes && value[0] === 2) {
    if (value.readUInt32BE(CRC_AT) !== crc32(value.subarray(CRC_FROM))) throw corrupt(`checksum mismatch (${value.length} bytes)`)
    return V2
  }
  if (value.length >= V1.headerBytes && value[0] === 1) return V1
  throw corrupt(`bad entry header (${value.length} bytes)`)
}

function headerOf(value: Buffer, layout: Layout): EntryHeader {
  const header = {
    appendedMs: value.readDoubleBE(layout.appendedAt),
    storeMs: layout.storeAt === undefined ? LEGACY_STORE_MS : value.readDoubleBE(layout.storeAt),
    cumBytes: value.readDoubleBE(layout.cumAt),
    sizeBytes: entrySizeBytes(value),
  }
  // A version-1 value has no checksum: at least refuse numbers that would poison the accounting.
  if (!Number.isFinite(header.storeMs) || !Number.isFinite(header.cumBytes) || header.cumBytes < header.sizeBytes) {
    throw corrupt('implausible header')
  }
  return header
}

/** @throws GatewayError GW_ERR_STORE_CORRUPT when the value is not an intact entry. */
export function decodeEntryHeader(value: Buffer): EntryHeader {
  return headerOf(value, layoutOf(value))
}

/** The header, or undefined when the value is damaged. */
export function tryDecodeEntryHeader(value: Buffer): EntryHeader | undefined {
  try {
    return decodeEntryHeader(value)
  } catch {
    return undefined
  }
}

/**
 * The entry at `offset` (its key's offset: the caller parsed the key already).
 * @throws GatewayError GW_ERR_STORE_CORRUPT when the value is not an intact entry.
 */
export function decodeEntry(priority: Priority, offset: number, value: Buffer): Entry {
  const layout = layoutOf(value)
  const header = headerOf(value, layout)
  const sourceEnd = layout.headerBytes + value.readUInt32BE(layout.sourceLenAt)
  const idEnd = sourceEnd + value.readUInt32BE(layout.idLenAt)
  if (idEnd > value.length) throw corrupt(`lengths exceed value (${value.length} bytes)`)
  return {
    priority,
    source: value.toString('utf8', layout.headerBytes, sourceEnd),
    id: value.toString('utf8', sourceEnd, idEnd),
    json: value.toString('utf8', idEnd),
    offset,
    appendedMs: header.appendedMs,
    sizeBytes: header.sizeBytes,
  }
}

/** Dead letters are rare and read by operators, so plain JSON is fine. */
export function encodeDeadLetter(letter: DeadLetter): Buffer {
  const { priority, source, id, json, offset, appendedMs, sizeBytes } = letter.entry
  const entry: Entry = { priority, source, id, json, offset, appendedMs, sizeBytes }
  return Buffer.from(JSON.stringify({ ...letter, entry }), 'utf8')
}

/** @throws GatewayError GW_ERR_STORE_CORRUPT when the value is not a dead letter. */
export function decodeDeadLetter(value: Buffer): DeadLetter {
  try {
    const letter = JSON.parse(value.toString('utf8')) as DeadLetter
    if (typeof letter.entry?.json !== 'string') throw new TypeError('entry.json missing')
    return letter
  } catch (err) {
    throw new GatewayError('GW_ERR_STORE_CORRUPT', 'store dead letter is damaged', { cause: err })
  }
}
