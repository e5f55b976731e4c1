/**
 * Decodes what an Event Hubs producer puts on the wire, using rhea's own AMQP codec.
 *
 * `sendBatch` transfers ONE delivery with message format 0x80013700 (the Microsoft batch format):
 * an envelope message whose body is a sequence of `data` sections, each holding one complete
 * encoded AMQP message (AMQP 1.0 core messaging §3.2: a bare message may carry several data
 * sections). rhea only decodes format 0, so it hands batch deliveries over as a raw Buffer.
 */
import rhea from 'rhea'

/** One event as the receiving side sees it. */
export interface DecodedEvent {
  /** Message annotation `x-opt-partition-key` (how Event Hubs routes a keyed event). */
  partitionKey: string | undefined
  /** AMQP properties.message_id. */
  messageId: string | undefined
  /** AMQP properties.content_type. */
  contentType: string | undefined
  applicationProperties: Record<string, unknown>
  /** The application data: the concatenated `data` sections (or a JSON text of an amqp-value). */
  body: Buffer
}

/** What `rhea.message.decode` returns for the parts we read. */
interface RheaDecoded {
  message_annotations?: Record<string, unknown>
  message_id?: unknown
  content_type?: unknown
  application_properties?: Record<string, unknown>
  body?: unknown
}

/** rhea's representation of `data` / `amqp-sequence` body sections. */
interface RheaSection {
  typecode: number
  content: unknown
  multiple?: boolean
}

const DATA_SECTION = 0x75
/** Message format of an Event Hubs batch envelope. */
export const BATCH_MESSAGE_FORMAT = 0x80013700

function isSection(v: unknown): v is RheaSection {
  return typeof v === 'object' && v !== null && 'typecode' in v && 'content' in v
}

/** The data sections of a body as Buffers, in order. */
function dataSections(body: unknown): Buffer[] {
  if (isSection(body) && body.typecode === DATA_SECTION) {
    const parts = body.multiple ? (body.content as unknown[]) : [body.content]
    return parts.map((p) => (Buffer.isBuffer(p) ? p : Buffer.from((p as Uint8Array | null) ?? [])))
  }
  if (Buffer.isBuffer(body)) return [body]
  if (body === undefined || body === null) return []
  // amqp-value body: not what the gateway sends, but keep it visible rather than dropping it.
  return [Buffer.from(JSON.stringify(body))]
}

function toText(v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined
  return Buffer.isBuffer(v) ? v.toString('utf8') : String(v)
}

/** Decodes one encoded (format 0) AMQP message. */
export function decodeEventMessage(bytes: Buffer): DecodedEvent {
  return fromRhea(rhea.message.decode(bytes) as unknown as RheaDecoded)
}

/** Converts an already decoded rhea message (a format-0 delivery) to a DecodedEvent. */
export function fromRhea(msg: RheaDecoded): DecodedEvent {
  return {
    partitionKey: toText(msg.message_annotations?.['x-opt-partition-key']),
    messageId: toText(msg.message_id),
    contentType: toText(msg.content_type),
    applicationProperties: { ...(msg.application_properties ?? {}) },
    body: Buffer.concat(dataSections(msg.body)),
  }
}

/**
 * Decodes a batch envelope (format 0x80013700) into its events. Throws if the bytes are not a
 * valid AMQP message; the peer turns that into a rejected delivery.
 */
export function decodeBatchEnvelope(bytes: Buffer): DecodedEvent[] {
  const envelope = rhea.message.decode(bytes) as unknown as RheaDecoded
  return dataSections(envelope.body).map(decodeEventMessage)
}
