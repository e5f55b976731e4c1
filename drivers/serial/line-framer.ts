/**
 * Splits a byte stream into text lines, like serialport's parser-delimiter, but bounded and pure
 * (no stream): the caller pushes chunks as they were read and gets complete lines back.
 *
 * Invariants:
 * - At most `maxLineBytes + 1` bytes are ever buffered (the +1 is room for a "\r" before "\n"),
 *   whatever the input: a line that grows past the limit is reported once as `line_too_long` and
 *   the rest of it is skipped up to the next "\n" without being stored.
 * - Lines come out in input order, independent of how the input was chunked.
 * - Only complete lines are emitted; a partial line waits for the next chunk (or `reset()`).
 * - Empty lines (also "\r\n" alone) are skipped silently: devices print them as separators.
 */

/** Why a line was not emitted; the metric `reason` label. */
export type LineRejectReason = 'line_too_long' | 'invalid_utf8' | 'nul_byte'

export type LineEvent =
  | { ok: true; line: string }
  | { ok: false; reason: LineRejectReason; /** Bytes of the line seen so far (payload size, not payload). */ bytes: number }

export interface LineFramerOptions {
  /** Longest line accepted, bytes, without the "\r\n" terminator. Integer in [1, 16 MiB]. */
  maxLineBytes: number
}

const LF = 0x0a
const CR = 0x0d
const MAX_LIMIT = 16 * 1024 * 1024

export class LineFramer {
  private readonly maxLineBytes: number
  private readonly buffer: Buffer
  private length = 0
  /** True while skipping the tail of an over-long line (already reported). */
  private discarding = false
  // fatal: a byte sequence that is not UTF-8 is a corrupt line, not text with U+FFFD in it.
  // ignoreBOM: keep the bytes as sent (a BOM mid-stream is noise for the decoder to reject).
  private readonly decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

  /** @throws TypeError naming the field when `maxLineBytes` is not an integer in [1, 16 MiB]. */
  constructor(options: LineFramerOptions) {
    if (typeof options !== 'object' || options === null) {
      throw new TypeError('"options" must be an object with maxLineBytes')
    }
    const max = options.maxLineBytes
    if (!Number.isInteger(max) || max < 1 || max > MAX_LIMIT) {
      throw new TypeError(`"maxLineBytes" must be an integer between 1 and ${MAX_LIMIT}, got ${String(max)}`)
    }
    this.maxLineBytes = max
    this.buffer = Buffer.allocUnsafe(max + 1)
  }

  /** Bytes of the pending partial line; never more than maxLineBytes + 1. */
  get bufferedBytes(): number {
    return this.length
  }

  /**
   * Feeds one chunk; returns the lines it completed and the lines it rejected, in order.
   * Never throws for any input bytes.
   */
  push(chunk: Uint8Array): LineEvent[] {
    const events: LineEvent[] = []
    let start = 0
    while (start < chunk.length) {
      const lf = chunk.indexOf(LF, start)
      const end = lf === -1 ? chunk.length : lf
      this.take(chunk, start, end, events)
      if (lf === -1) break
      this.endLine(events)
      start = lf + 1
    }
    return events
  }

  /**
   * Drops any partial line (after a reopen the rest of it will never come).
   * @returns the number of bytes dropped (0 when nothing was pending), for counting.
   */
  reset(): number {
    const dropped = this.discarding ? 0 : this.length
    this.length = 0
    this.discarding = false
    return dropped
  }

  /** Appends chunk[start, end) to the pending line, or reports the line as too long. */
  private take(chunk: Uint8Array, start: number, end: number, events: LineEvent[]): void {
    const n = end - start
    if (this.discarding || n === 0) return
    if (this.length + n > this.maxLineBytes + 1) {
      // Reported now, not at the "\n": a line that never ends is still counted.
      events.push({ ok: false, reason: 'line_too_long', bytes: this.length + n })
      this.length = 0
      this.discarding = true
      return
    }
    this.buffer.set(chunk.subarray(start, end), this.length)
    this.length += n
  }

  /** A "\n" was seen: emit or reject the pending line and start a new one. */
  private endLine(events: LineEvent[]): void {
    if (this.discarding) {
      this.discarding = false
      return
    }
    let len = this.length
    this.length = 0
    if (len > 0 && this.buffer[len - 1] === CR) len--
    if (len === 0) return
    if (len > this.maxLineBytes) {
      events.push({ ok: false, reason: 'line_too_long', bytes: len })
      return
    }
    const bytes = this.buffer.subarray(0, len)
    if (bytes.indexOf(0) !== -1) {
      // NUL is valid UTF-8 but never part of a text protocol: line noise or a baud mismatch.
      events.push({ ok: false, reason: 'nul_byte', bytes: len })
      return
    }
    try {
      events.push({ ok: true, line: this.decoder.decode(bytes) })
    } catch {
      events.push({ ok: false, reason: 'invalid_utf8', bytes: len })
    }
  }
}
