/**
 * Binary value format of a stored entry (version 1), big-endian:
 *
 *   u8 version | f64 appendedMs | f64 cumBytes | u32 sourceLen | u32 idLen | source | id | json
 *
 * `cumBytes` is the running total of `sizeBytes` of the class up to and including this entry, so
 * the bytes between two entries are a subtraction and open() needs to read only the first entry
 * of a class. f64 holds integers exactly up to 2^53, far beyond any disk. Priority is not stored:
 * it is the key's class.
 */
import { GatewayError } from '../core/errors.js'
import type { DeadLetter, Entry, NewEvent, Priority } from '../core/types.js'
import { ENTRY_KEY_BYTES, offsetOfKey } from './keys.js'

const VERSION = 1
const APPENDED_AT = 1
const CUM_AT = 9
const SOURCE_LEN_AT = 17
const ID_LEN_AT = 21
const HEADER_BYTES = 25

/** What the store needs from an entry without decoding its strings. */
export interface EntryHeader {
  appendedMs: number
  cumBytes: number
  sizeBytes: number
}

/** An entry as read back, plus its cumulative byte counter. */
export interface StoredEntry extends Entry {
  cumBytes: number
}

/** Encodes an event with `cumBytes` 0; the append fills it in with `setCumBytes` once ordered. */
export function encodeEntryValue(event: NewEvent, appendedMs: number): Buffer {
  const source = Buffer.from(event.source, 'utf8')
  const id = Buffer.from(event.id, 'utf8')
  const jsonBytes = Buffer.byteLength(event.json, 'utf8')
  const value = Buffer.allocUnsafe(HEADER_BYTES + source.length + id.length + jsonBytes)
  value.writeUInt8(VERSION, 0)
  value.writeDoubleBE(appendedMs, APPENDED_AT)
  value.writeDoubleBE(0, CUM_AT)
  value.writeUInt32BE(source.length, SOURCE_LEN_AT)
  value.writeUInt32BE(id.length, ID_LEN_AT)
  source.copy(value, HEADER_BYTES)
  id.copy(value, HEADER_BYTES + source.length)
  value.write(event.json, HEADER_BYTES + source.length + id.length, 'utf8')
  return value
}

export function setCumBytes(value: Buffer, cumBytes: number): void {
  value.writeDoubleBE(cumBytes, CUM_AT)
}

/** Bytes an entry occupies: its key plus its value. */
export function entrySizeBytes(value: Buffer): number {
  return ENTRY_KEY_BYTES + value.length
}

function corrupt(what: string): GatewayError {
  return new GatewayError('GW_ERR_STORE_CORRUPT', `store value is damaged: ${what}`)
}

/** @throws GatewayError GW_ERR_STORE_CORRUPT when the value is not a version-1 entry. */
export function decodeEntryHeader(value: Buffer): EntryHeader {
  if (value.length < HEADER_BYTES || value[0] !== VERSION) throw corrupt(`bad entry header (${value.length} bytes)`)
  return {
    appendedMs: value.readDoubleBE(APPENDED_AT),
    cumBytes: value.readDoubleBE(CUM_AT),
    sizeBytes: entrySizeBytes(value),
  }
}

/** @throws GatewayError GW_ERR_STORE_CORRUPT when the value is not a version-1 entry. */
export function decodeEntry(priority: Priority, key: string, value: Buffer): StoredEntry {
  const header = decodeEntryHeader(value)
  const sourceEnd = HEADER_BYTES + value.readUInt32BE(SOURCE_LEN_AT)
  const idEnd = sourceEnd + value.readUInt32BE(ID_LEN_AT)
  if (idEnd > value.length) throw corrupt(`lengths exceed value (${value.length} bytes)`)
  return {
    priority,
    source: value.toString('utf8', HEADER_BYTES, sourceEnd),
    id: value.toString('utf8', sourceEnd, idEnd),
    json: value.toString('utf8', idEnd),
    offset: offsetOfKey(key),
    appendedMs: header.appendedMs,
    sizeBytes: header.sizeBytes,
    cumBytes: header.cumBytes,
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
