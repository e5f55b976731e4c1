/**
 * AMQP 1.0 bytes of the Event Hubs messages this uplink sends, written directly.
 *
 * Why: the SDK's `EventDataBatch.tryAdd` turns every event into a rhea message object, wraps each
 * field in rhea's typed objects, encodes those through a growing writer, and starts a tracing span.
 * That is most of the SDK's own CPU per event, on the gateway's busiest thread (profile notes in
 * encoded-batch.ts). The few message shapes we send can be written in one pass into one buffer.
 *
 * Invariants:
 * - The bytes are exactly those @azure/event-hubs 6.0.4 (toRheaMessage, then rhea 3.0.5's
 *   message.encode) produces for the same event and partition key.
 *   test/eventhubs-encoded-batch.test.ts compares them byte for byte on random events, and
 *   encoded-batch.ts compares them again with the installed SDK at run time before they are used.
 * - Only `WireEvent`s are accepted: bytes (or a string, as UTF-8) as the body, string message id,
 *   content type, and string or boolean application properties. That is everything
 *   amqp-binding.ts produces.
 * - rhea's width rules are kept: a string, symbol or binary whose UTF-8 length is over 255 bytes
 *   uses the 32-bit form; a symbol is written as one byte per UTF-16 unit (rhea's 'ascii').
 */

/**
 * One event as the uplink hands it to a batch. The body is bytes, or a string that stands for its
 * UTF-8 bytes (written straight into the message, with no Buffer of its own). With a Buffer body
 * it is also an `EventData` the SDK takes as is (sdkEventOf converts the other).
 */
export interface WireEvent {
  body: Buffer | string
  contentType?: string
  messageId?: string
  properties?: Record<string, string | boolean>
}

/** The message annotation that carries the partition key (the SDK's `Constants.partitionKey`). */
export const PARTITION_KEY_ANNOTATION = 'x-opt-partition-key'
/** The SDK refuses longer message ids (`Constants.maxMessageIdLength`), with this message. */
const MAX_MESSAGE_ID_LENGTH = 128

// AMQP 1.0 type codes (part 1 §1.6) and the message section descriptors (part 3 §3.2).
const DESCRIBED = 0x00
const SMALL_ULONG = 0x53
const HEADER = 0x70
const MESSAGE_ANNOTATIONS = 0x72
const PROPERTIES = 0x73
const APPLICATION_PROPERTIES = 0x74
const DATA = 0x75
const NULL = 0x40
const TRUE = 0x41
const FALSE = 0x42
const LIST0 = 0x45
const LIST32 = 0xd0
const MAP32 = 0xd1
const VBIN8 = 0xa0
const VBIN32 = 0xb0
const STR8 = 0xa1
const STR32 = 0xb1
const SYM8 = 0xa3
const SYM32 = 0xb3

/** Fields of the properties list up to content-type (message-id … content-type). */
const PROPERTIES_TO_CONTENT_TYPE = 7
/** The empty fields between message-id and content-type (user-id, to, subject, reply-to, correlation-id), one null byte each. */
const NULLS_BEFORE_CONTENT_TYPE = PROPERTIES_TO_CONTENT_TYPE - 2

/** A value of this many bytes takes the 8-bit length form (rhea: `length > 255` → 32-bit). */
const SHORT_MAX = 255
/** A string of at most this many UTF-16 units has at most SHORT_MAX UTF-8 bytes (3 per unit). */
const SURELY_SHORT = Math.floor(SHORT_MAX / 3)

/** Bytes of a described section's constructor: 0x00, smallulong, code. */
const SECTION_HEAD = 3
/** list32 / map32 header: constructor, size, count. */
const COMPOUND_HEAD = 9

function strBytes(s: string): number {
  const n = Buffer.byteLength(s, 'utf8')
  return (n > SHORT_MAX ? 5 : 2) + n
}

function symBytes(s: string): number {
  // rhea picks the width from the UTF-8 length but writes the 'ascii' encoding: one byte per unit.
  return (s.length > SURELY_SHORT && Buffer.byteLength(s, 'utf8') > SHORT_MAX ? 5 : 2) + s.length
}

function binBytes(n: number): number {
  return (n > SHORT_MAX ? 5 : 2) + n
}

/**
 * Writes `s` at `pos` if it is all ASCII (then its UTF-8 bytes are its units) and returns true;
 * returns false at the first other unit, having written a prefix the caller overwrites. For the
 * short strings of a message (ids, keys, property names), cheaper than a call into C++.
 */
function writeAscii(buf: Buffer, pos: number, s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c >= 0x80) return false
    buf[pos + i] = c
  }
  return true
}

/** A cursor over one output buffer. */
class Out {
  pos = 0
  constructor(readonly buf: Buffer) {}
  byte(b: number): void {
    this.buf[this.pos++] = b
  }
  u32(v: number): void {
    this.buf.writeUInt32BE(v, this.pos)
    this.pos += 4
  }
  section(code: number): void {
    this.byte(DESCRIBED)
    this.byte(SMALL_ULONG)
    this.byte(code)
  }
  /** A list32/map32 header whose size field is filled in by `end`. */
  compound(code: number, count: number): number {
    this.byte(code)
    const at = this.pos
    this.pos += 4
    this.u32(count)
    return at
  }
  end(sizeAt: number): void {
    this.buf.writeUInt32BE(this.pos - sizeAt - 4, sizeAt)
  }
  str(s: string): void {
    if (s.length <= SURELY_SHORT) {
      // At most 3 UTF-8 bytes per UTF-16 unit, so this fits the 8-bit form: write, then fill in
      // the length, without measuring the string first.
      this.byte(STR8)
      const at = this.pos++
      const n = writeAscii(this.buf, this.pos, s) ? s.length : this.buf.write(s, this.pos, 'utf8')
      this.buf[at] = n
      this.pos += n
      return
    }
    const n = Buffer.byteLength(s, 'utf8')
    this.byte(n > SHORT_MAX ? STR32 : STR8)
    this.len(n)
    this.pos += this.buf.write(s, this.pos, 'utf8')
  }
  sym(s: string): void {
    const wide = s.length > SURELY_SHORT && Buffer.byteLength(s, 'utf8') > SHORT_MAX
    this.byte(wide ? SYM32 : SYM8)
    this.len(s.length, wide)
    if (s.length <= SURELY_SHORT) {
      // Buffer's 'ascii' write keeps the low byte of each UTF-16 unit (as 'latin1' does); for a
      // short string, a loop is cheaper than the call into C++.
      for (let i = 0; i < s.length; i++) this.buf[this.pos + i] = s.charCodeAt(i) & 0xff
      this.pos += s.length
    } else {
      this.pos += this.buf.write(s, this.pos, 'ascii')
    }
  }
  bin(bytes: Buffer | string, length: number): void {
    this.byte(length > SHORT_MAX ? VBIN32 : VBIN8)
    this.len(length)
    this.pos += typeof bytes === 'string' ? this.buf.write(bytes, this.pos, 'utf8') : bytes.copy(this.buf, this.pos)
  }
  private len(n: number, wide = n > SHORT_MAX): void {
    if (wide) this.u32(n)
    else this.byte(n)
  }
}

/** Bytes of the message-annotations section: the partition key, or an empty map. */
function annotationsBytes(partitionKey: string | undefined): number {
  return SECTION_HEAD + COMPOUND_HEAD + (partitionKey === undefined ? 0 : symBytes(PARTITION_KEY_ANNOTATION) + strBytes(partitionKey))
}

function writeAnnotations(out: Out, partitionKey: string | undefined): void {
  out.section(MESSAGE_ANNOTATIONS)
  const at = out.compound(MAP32, partitionKey === undefined ? 0 : 2)
  if (partitionKey !== undefined) {
    out.sym(PARTITION_KEY_ANNOTATION)
    out.str(partitionKey)
  }
  out.end(at)
}

/**
 * The sections every message of a batch starts with, which depend only on its partition key: the
 * header (the SDK marks keyed messages durable so that the header is never empty, since the
 * service needs one to route by key; otherwise an empty list) and the message annotations (the
 * key, or an empty map). Encoded once per batch and copied into each message.
 */
export function messageHead(partitionKey: string | undefined): Buffer {
  const size = SECTION_HEAD + (partitionKey !== undefined ? COMPOUND_HEAD + 1 : 1) + annotationsBytes(partitionKey)
  const out = new Out(Buffer.allocUnsafe(size))
  out.section(HEADER)
  if (partitionKey !== undefined) {
    const at = out.compound(LIST32, 1)
    out.byte(TRUE)
    out.end(at)
  } else {
    out.byte(LIST0)
  }
  writeAnnotations(out, partitionKey)
  return out.buf
}

/** Byte length of a body: a Buffer's length, or a string's UTF-8 length. */
export function bodyBytes(body: Buffer | string): number {
  return typeof body === 'string' ? Buffer.byteLength(body, 'utf8') : body.length
}

/**
 * Bytes of one event as the SDK would encode it for a batch whose messages start with `head`
 * (messageHead of its partition key, or of undefined for a batch without a key, e.g. one bound to
 * a partition id); `bodyLength` is `bodyBytes(event.body)`. Throws as the SDK does for a message
 * id over 128 characters.
 */
export function messageBytes(event: WireEvent, head: Buffer, bodyLength: number): number {
  const { contentType, messageId, properties } = event
  if (messageId !== undefined && messageId.length > MAX_MESSAGE_ID_LENGTH) {
    throw new Error(`Length of 'messageId' property on the event cannot be greater than ${MAX_MESSAGE_ID_LENGTH} characters.`)
  }
  let size = head.length + SECTION_HEAD
  if (contentType !== undefined) size += COMPOUND_HEAD + (messageId === undefined ? 1 : strBytes(messageId)) + NULLS_BEFORE_CONTENT_TYPE + symBytes(contentType)
  else if (messageId !== undefined) size += COMPOUND_HEAD + strBytes(messageId)
  else size += 1
  if (properties !== undefined) {
    size += SECTION_HEAD + COMPOUND_HEAD
    for (const name in properties) {
      const value = properties[name]!
      size += strBytes(name) + (typeof value === 'string' ? strBytes(value) : 1)
    }
  }
  return size + SECTION_HEAD + binBytes(bodyLength)
}

/** Writes one event (see messageBytes) at the cursor. */
function writeMessage(out: Out, event: WireEvent, head: Buffer, bodyLength: number): void {
  const { body, contentType, messageId, properties } = event
  out.buf.set(head, out.pos) // a V8 builtin: for ~50 bytes cheaper than Buffer#copy's call into C++
  out.pos += head.length
  out.section(PROPERTIES)
  if (contentType !== undefined || messageId !== undefined) {
    const at = out.compound(LIST32, contentType !== undefined ? PROPERTIES_TO_CONTENT_TYPE : 1)
    if (messageId !== undefined) out.str(messageId)
    else out.byte(NULL)
    if (contentType !== undefined) {
      for (let i = 0; i < NULLS_BEFORE_CONTENT_TYPE; i++) out.byte(NULL)
      out.sym(contentType)
    }
    out.end(at)
  } else {
    out.byte(LIST0)
  }
  if (properties !== undefined) {
    out.section(APPLICATION_PROPERTIES)
    let count = 0
    for (const name in properties) count += 2
    const at = out.compound(MAP32, count)
    for (const name in properties) {
      const value = properties[name]!
      out.str(name)
      if (typeof value === 'string') out.str(value)
      else out.byte(value ? TRUE : FALSE)
    }
    out.end(at)
  }
  out.section(DATA)
  out.bin(body, bodyLength)
}

/** One event's encoded bytes on their own (see messageBytes). */
export function encodeMessage(event: WireEvent, partitionKey: string | undefined): Buffer {
  const length = bodyBytes(event.body)
  const head = messageHead(partitionKey)
  const out = new Out(Buffer.allocUnsafe(messageBytes(event, head, length)))
  writeMessage(out, event, head, length)
  return out.buf
}

/** Bytes of a batch envelope with no events yet: what the SDK counts before the first one. */
export function envelopeBytes(partitionKey: string | undefined): number {
  return SECTION_HEAD + 1 + annotationsBytes(partitionKey) + SECTION_HEAD + 1
}

/** Bytes one encoded message of `messageLength` bytes adds to an envelope: its data section. */
export function sectionBytes(messageLength: number): number {
  return SECTION_HEAD + binBytes(messageLength)
}

/** Events of one AMQP batch, with what was measured when each joined it. */
export interface BatchMembers {
  /** messageHead of the batch's partition key. */
  head: Buffer
  events: readonly WireEvent[]
  /** messageBytes of each event. */
  sizes: readonly number[]
  /** bodyBytes of each event's body. */
  bodyLengths: readonly number[]
}

/**
 * The batch message (format 0x80013700) that carries `members`, as the SDK builds it: an empty
 * header, the first message's annotations (the partition key, or an empty map), empty
 * properties, then each message as a data section, in order. Every message is written straight
 * into the one buffer.
 */
export function encodeEnvelope(partitionKey: string | undefined, members: BatchMembers): Buffer {
  const { head, events, sizes, bodyLengths } = members
  let size = envelopeBytes(partitionKey)
  for (const n of sizes) size += sectionBytes(n)
  const out = new Out(Buffer.allocUnsafe(size))
  out.section(HEADER)
  out.byte(LIST0)
  writeAnnotations(out, partitionKey)
  out.section(PROPERTIES)
  out.byte(LIST0)
  for (let i = 0; i < events.length; i++) {
    const n = sizes[i]!
    out.section(DATA)
    out.byte(n > SHORT_MAX ? VBIN32 : VBIN8)
    if (n > SHORT_MAX) out.u32(n)
    else out.byte(n)
    const start = out.pos
    writeMessage(out, events[i]!, head, bodyLengths[i]!)
    if (out.pos - start !== n) throw new Error(`amqp-wire: wrote ${out.pos - start} bytes of a message measured at ${n}`)
  }
  return out.buf
}
