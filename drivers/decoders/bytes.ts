/**
 * Small byte helpers shared by the BLE decoders. Every bounds check throws a DecodeError, never a
 * RangeError: a decoder must not let Node's buffer errors escape as "another error type".
 */
import { DecodeError } from '../../gateway/core/errors.js'

/** Throws `truncated` unless `buf` has at least `offset + n` bytes. */
export function need(buf: Buffer, offset: number, n: number, what: string): void {
  if (offset + n > buf.length) {
    throw new DecodeError(
      'truncated',
      `${what}: need ${n} byte(s) at offset ${offset}, have ${Math.max(0, buf.length - offset)}`,
    )
  }
}

/** Lower-case hex of a byte range. */
export function hex(buf: Buffer): string {
  return buf.toString('hex')
}

/** Parses an even-length hex string (spaces/colons allowed); throws DecodeError `bad_hex`. */
export function parseHex(text: string, what: string): Buffer {
  const clean = text.replace(/[\s:]/g, '').replace(/^0x/i, '')
  if (clean.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(clean)) {
    throw new DecodeError('bad_hex', `${what}: not an even-length hex string`)
  }
  return Buffer.from(clean, 'hex')
}

/** Formats 6 bytes (in printed order) as `aa:bb:cc:dd:ee:ff`. */
export function formatMac(bytes: Buffer): string {
  return [...bytes].map((b) => b.toString(16).padStart(2, '0')).join(':')
}

/** Parses `aa:bb:cc:dd:ee:ff` (any case, `-` or `:` or none) into 6 bytes in printed order. */
export function macBytes(address: string): Buffer | undefined {
  const clean = address.replace(/[:-]/g, '')
  return /^[0-9a-fA-F]{12}$/.test(clean) ? Buffer.from(clean, 'hex') : undefined
}

/** Normalises a MAC address to the lower-case colon form used as map key. */
export function normaliseAddress(address: string): string {
  const bytes = macBytes(address)
  return bytes ? formatMac(bytes) : address.toLowerCase()
}

/**
 * The Bluetooth Base UUID (Core spec Vol 3 Part B 2.5.1): a 16-bit UUID xxxx is
 * 0000xxxx-0000-1000-8000-00805f9b34fb. noble gives 16-bit UUIDs as 4 hex chars and 128-bit ones
 * as 32 hex chars without dashes; accept both, plus `0x` prefixes and dashes.
 */
export function uuid16(uuid: string): string | undefined {
  const clean = uuid.toLowerCase().replace(/-/g, '').replace(/^0x/, '')
  if (/^[0-9a-f]{4}$/.test(clean)) return clean
  const m = /^0000([0-9a-f]{4})00001000800000805f9b34fb$/.exec(clean)
  return m ? m[1] : undefined
}

/** Divides an integer by a power of ten; gives the double nearest the decimal value (25.06, not 25.060000000000002). */
export function scaled(raw: number, divisor: number, multiplier = 1): number {
  return (raw * multiplier) / divisor
}
