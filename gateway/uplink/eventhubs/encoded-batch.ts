/**
 * An `EventDataBatch` whose events the uplink encodes itself (amqp-wire.ts), sent with the SDK's
 * own `sendBatch`.
 *
 * Why: in a profile of the live pipeline (simulator → store → Event Hubs, structured, 100 devices)
 * the main thread is the bottleneck, and the SDK's per-event `tryAdd` path (rhea's typed-object
 * encoding and its buffers, the tracing span, toRheaMessage, and their garbage) is ~6-8 µs of its
 * ~19 µs per event. Writing the same bytes directly costs ~1 µs.
 *
 * Invariants:
 * - What goes on the wire is byte for byte what the SDK's batch would send for the same events:
 *   the same messages, the same envelope, the same size accounting (so batches fill the same way
 *   and never exceed the link's `max_message_size`).
 * - `sendBatch` treats any object with `count`, `sizeInBytes` and `tryAdd` as a batch and asks it
 *   for `_generateMessage()`, `partitionKey`/`partitionId` and `_messageSpanContexts`. Those are
 *   SDK internals, so `checkEncodedBatches` accepts only the SDK version this was verified with
 *   (VERIFIED_SDK_VERSION, also pinned in package.json) and compares this class with a real SDK
 *   batch on probe events before the uplink uses it: anything else turns it off, with a log line,
 *   and the uplink keeps the SDK's own `tryAdd`.
 * - Should an SDK ever take this object for a single event instead of a batch, reading its `body`
 *   throws: the send fails (and is retried from the store) instead of delivering an empty event.
 * - Not for idempotent publishing (the uplink does not enable it): no sequence numbers.
 * - No tracing span per event: the gateway installs a no-op tracer anyway (quiet-tracing.ts),
 *   under which the SDK adds nothing to the messages either.
 */
import { createRequire } from 'node:module'
import type { EventData, EventDataBatch } from '@azure/event-hubs'
import { bodyBytes, encodeEnvelope, envelopeBytes, messageBytes, messageHead, sectionBytes, type WireEvent } from './amqp-wire.js'

/** What `EventDataBatch.tryAdd` takes: an EventData or an AmqpAnnotatedMessage. */
type AddedEvent = Parameters<EventDataBatch['tryAdd']>[0]

export class EncodedBatch implements EventDataBatch {
  readonly partitionKey: string | undefined
  readonly partitionId: string | undefined
  /** The header and annotations every message of this batch starts with (its partition key). */
  private readonly head: Buffer
  private readonly events: WireEvent[] = []
  private readonly sizes: number[] = []
  private readonly bodyLengths: number[] = []
  private size = 0

  /** `target` as for createBatch: a partition key, a partition id, or neither. */
  constructor(readonly maxSizeInBytes: number, target: { partitionKey?: string; partitionId?: string }) {
    this.partitionKey = target.partitionKey
    this.partitionId = target.partitionId
    this.head = messageHead(this.partitionKey)
  }

  get count(): number {
    return this.events.length
  }

  get sizeInBytes(): number {
    return this.size
  }

  /**
   * Adds the event if the batch stays within `maxSizeInBytes`, as the SDK's tryAdd would. The
   * bytes are written when the batch is sent; the event must not change meanwhile (the uplink
   * builds each one for its batch). Throws as the SDK does for a message id over 128 characters.
   */
  add(event: WireEvent): boolean {
    const bodyLength = bodyBytes(event.body)
    const messageLength = messageBytes(event, this.head, bodyLength)
    let size = this.size
    if (this.events.length === 0) size += envelopeBytes(this.partitionKey)
    size += sectionBytes(messageLength)
    if (size > this.maxSizeInBytes) return false
    this.events.push(event)
    this.sizes.push(messageLength)
    this.bodyLengths.push(bodyLength)
    this.size = size
    return true
  }

  /**
   * EventDataBatch.tryAdd: `add` for an EventData of the shape the uplink sends (a Buffer body;
   * string ids and content type; string or boolean properties). Throws TypeError for other events.
   */
  tryAdd(event: AddedEvent): boolean {
    return this.add(asWireEvent(event))
  }

  /** SDK internal: the spans `tryAdd` started, linked to the send's span. We start none. */
  get _messageSpanContexts(): [] {
    return []
  }

  /** SDK internal: the AMQP batch message that `sendBatch` puts on the link. */
  _generateMessage(): Buffer {
    return encodeEnvelope(this.partitionKey, { head: this.head, events: this.events, sizes: this.sizes, bodyLengths: this.bodyLengths })
  }

  /** SDK internal (idempotent publishing only, which the uplink does not use). */
  _commitPublish(): void {}

  /** Not an event: see the invariants. The SDK's shape tests (`in`) do not read it. */
  get body(): never {
    throw new TypeError('an EncodedBatch was taken for a single event: the Event Hubs SDK no longer recognises it as a batch')
  }
}

/** The same event as an SDK `EventData`: a string body becomes its UTF-8 bytes. */
export function sdkEventOf(event: WireEvent): EventData {
  if (typeof event.body !== 'string') return event
  const out: EventData = { body: Buffer.from(event.body, 'utf8') }
  if (event.contentType !== undefined) out.contentType = event.contentType
  if (event.messageId !== undefined) out.messageId = event.messageId
  if (event.properties !== undefined) out.properties = event.properties
  return out
}

/** `event` if it has the one shape amqp-wire.ts writes; throws TypeError otherwise. */
function asWireEvent(event: AddedEvent): WireEvent {
  const e = event as EventData & { bodyType?: unknown }
  const ok =
    Buffer.isBuffer(e.body) &&
    e.bodyType === undefined &&
    (e.contentType === undefined || typeof e.contentType === 'string') &&
    (e.messageId === undefined || typeof e.messageId === 'string') &&
    e.correlationId === undefined &&
    (e.properties === undefined || Object.values(e.properties).every((v) => typeof v === 'string' || typeof v === 'boolean'))
  if (!ok) throw new TypeError('EncodedBatch takes events with a Buffer body, string ids and content type, and string or boolean properties only')
  return e as WireEvent
}

/** The @azure/event-hubs version whose batch internals this file was checked against. */
export const VERIFIED_SDK_VERSION = '6.0.4'

/** The installed @azure/event-hubs version, or undefined if it cannot be read. */
function installedSdkVersion(): string | undefined {
  try {
    return (createRequire(import.meta.url)('@azure/event-hubs/package.json') as { version?: string }).version
  } catch {
    return undefined
  }
}

/** Probe events: every field and both length forms of every variable-width value we write. */
const PROBES: WireEvent[] = [
  { body: Buffer.from('{"specversion":"1.0","id":"probe-1"}'), contentType: 'application/cloudevents+json', messageId: 'probe-1' },
  {
    body: Buffer.alloc(300, 0x7a),
    contentType: 'application/json; charset=utf-8',
    messageId: 'probe-2-ü',
    properties: { cloudEvents_id: 'probe-2', cloudEvents_source: 's'.repeat(300), cloudEvents_flag: true, cloudEvents_off: false },
  },
  { body: Buffer.alloc(0), messageId: 'p'.repeat(128) },
  { body: Buffer.from('x'), contentType: 'c'.repeat(256), properties: {} },
  { body: Buffer.from('y') },
  { body: '{"data":"text body, written as UTF-8: ü €"}', contentType: 'application/cloudevents+json', messageId: 'probe-6' },
  { body: 'b'.repeat(256), messageId: 'probe-7' },
  // Non-ASCII symbol (rhea writes one byte per UTF-16 unit), long-form message id and property name.
  { body: Buffer.from('z'), contentType: 'text/plain; charset=ü', messageId: '€'.repeat(86), properties: { ['n'.repeat(300)]: 'v' } },
]

/** Batch targets probed: a short key, a key in the 32-bit string form, and no key. */
const PROBE_TARGETS: Array<{ partitionKey?: string }> = [{ partitionKey: 'edge-gateway-encoding-check' }, { partitionKey: 'ü'.repeat(200) }, {}]

/** An SDK batch seen through its internals, for the comparison only. */
type SdkBatchInternals = EventDataBatch & { _generateMessage?: () => unknown }

/**
 * Decides whether the uplink may use `EncodedBatch`: only with VERIFIED_SDK_VERSION installed,
 * and only if it matches the SDK's batch from `createBatch` on the probe events (keyed and
 * without a key): whether each fits, sizes after each add, counts, and the bytes of the AMQP
 * batch message. A probe that fits neither (a link with a small `max_message_size`) starts a new
 * pair of batches, or is skipped if they were empty. Resolves with undefined if everything was
 * the same, else with what differed (an exception from a probe counts as a difference). Rejects
 * only if `createBatch` does (the link is not up): then nothing is decided.
 */
export async function checkEncodedBatches(createBatch: (target: { partitionKey?: string }) => Promise<EventDataBatch>): Promise<string | undefined> {
  const version = installedSdkVersion()
  if (version !== VERIFIED_SDK_VERSION) return `@azure/event-hubs ${version ?? '(version unreadable)'} is installed; the gateway's encoding was verified with ${VERIFIED_SDK_VERSION}`
  for (const target of PROBE_TARGETS) {
    let sdk = (await createBatch(target)) as SdkBatchInternals
    let ours = new EncodedBatch(sdk.maxSizeInBytes, target)
    for (const probe of PROBES) {
      const both = (): [boolean, boolean] | string => {
        try {
          return [sdk.tryAdd(sdkEventOf(probe)), ours.add(probe)]
        } catch (err) {
          return `adding a probe event failed: ${String((err as Error)?.message ?? err)}`
        }
      }
      let added = both()
      if (typeof added === 'string') return added
      if (!added[0] && !added[1] && sdk.count > 0) {
        const differs = compareMessages(sdk, ours)
        if (differs) return differs
        sdk = (await createBatch(target)) as SdkBatchInternals
        ours = new EncodedBatch(sdk.maxSizeInBytes, target)
        added = both()
        if (typeof added === 'string') return added
      }
      if (added[0] !== added[1]) return `whether an event fits: SDK ${added[0]}, ours ${added[1]}`
      if (sdk.sizeInBytes !== ours.sizeInBytes) return `batch size after an event: SDK ${sdk.sizeInBytes}, ours ${ours.sizeInBytes}`
    }
    const differs = compareMessages(sdk, ours)
    if (differs) return differs
  }
  return undefined
}

function compareMessages(sdk: SdkBatchInternals, ours: EncodedBatch): string | undefined {
  if (sdk.count !== ours.count) return `count: SDK ${sdk.count}, ours ${ours.count}`
  if (sdk.count === 0) return undefined
  if (typeof sdk._generateMessage !== 'function') return 'the SDK batch has no _generateMessage (SDK internals changed)'
  try {
    const expected = sdk._generateMessage()
    if (!Buffer.isBuffer(expected) || !expected.equals(ours._generateMessage())) return 'the AMQP batch message differs from the SDK\'s'
  } catch (err) {
    return `building the AMQP batch message failed: ${String((err as Error)?.message ?? err)}`
  }
  return undefined
}
