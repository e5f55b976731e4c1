/**
 * Which partition Event Hubs gives a partition key, computed here (`routing: partition`).
 *
 * The service hashes the key's UTF-8 bytes with Bob Jenkins' lookup3 (`hashlittle2`, both seeds
 * 0), folds the two 32-bit results into a signed 16-bit number (low 16 bits of c XOR b) and takes
 * |hash mod partitionCount| as the index into the hub's partition ids. The SDK's buffered producer
 * routes keyed events the same way on the client (its internal partitionKeyToIdMapper, which is
 * not exported); test/eventhubs-partition-routing.test.ts checks this module against it, so a
 * change in the SDK shows up as a failing test, not as devices silently moving partitions.
 *
 * Pure functions; all arithmetic is on uint32 values (`>>> 0` after every step).
 */

const rot = (x: number, k: number): number => ((x << k) | (x >>> (32 - k))) >>> 0

/** Little-endian 32-bit word of `bytes` at `i`, missing bytes counted as 0. */
function word(bytes: Uint8Array, i: number, n = 4): number {
  let w = 0
  for (let j = n - 1; j >= 0; j--) w = (w * 256 + (bytes[i + j] ?? 0)) >>> 0
  return w
}

/** lookup3 `hashlittle2` of `bytes` with both seeds 0: the two results [c, b]. */
export function lookup3Pair(bytes: Uint8Array): [number, number] {
  let a = (0xdeadbeef + bytes.length) >>> 0
  let b = a
  let c = a
  let i = 0
  let left = bytes.length
  // mix(a, b, c) over every 12-byte block but the last
  while (left > 12) {
    a = (a + word(bytes, i)) >>> 0
    b = (b + word(bytes, i + 4)) >>> 0
    c = (c + word(bytes, i + 8)) >>> 0
    a = (a - c) >>> 0; a = (a ^ rot(c, 4)) >>> 0; c = (c + b) >>> 0
    b = (b - a) >>> 0; b = (b ^ rot(a, 6)) >>> 0; a = (a + c) >>> 0
    c = (c - b) >>> 0; c = (c ^ rot(b, 8)) >>> 0; b = (b + a) >>> 0
    a = (a - c) >>> 0; a = (a ^ rot(c, 16)) >>> 0; c = (c + b) >>> 0
    b = (b - a) >>> 0; b = (b ^ rot(a, 19)) >>> 0; a = (a + c) >>> 0
    c = (c - b) >>> 0; c = (c ^ rot(b, 4)) >>> 0; b = (b + a) >>> 0
    i += 12
    left -= 12
  }
  if (left === 0) return [c, b] // no final mix for an empty key, as in lookup3
  // The last 1..12 bytes, little-endian, the missing ones as zeros.
  a = (a + word(bytes, i, Math.min(left, 4))) >>> 0
  if (left > 4) b = (b + word(bytes, i + 4, Math.min(left - 4, 4))) >>> 0
  if (left > 8) c = (c + word(bytes, i + 8, left - 8)) >>> 0
  // final(a, b, c)
  c = (c ^ b) >>> 0; c = (c - rot(b, 14)) >>> 0
  a = (a ^ c) >>> 0; a = (a - rot(c, 11)) >>> 0
  b = (b ^ a) >>> 0; b = (b - rot(a, 25)) >>> 0
  c = (c ^ b) >>> 0; c = (c - rot(b, 16)) >>> 0
  a = (a ^ c) >>> 0; a = (a - rot(c, 4)) >>> 0
  b = (b ^ a) >>> 0; b = (b - rot(a, 14)) >>> 0
  c = (c ^ b) >>> 0; c = (c - rot(b, 24)) >>> 0
  return [c, b]
}

/** The index (0-based, into the hub's partition ids) the service gives `partitionKey`. */
export function partitionIndexOf(partitionKey: string, partitionCount: number): number {
  const [c, b] = lookup3Pair(Buffer.from(partitionKey, 'utf8'))
  const hash16 = ((c ^ b) << 16) >> 16 // the low 16 bits as a signed number
  return Math.abs(hash16 % partitionCount)
}
