/**
 * Turns readings into CloudEvents 1.0 at ingest, the moment they get their identity.
 *
 * Invariants:
 * - `source` = `/gateways/{gatewayId}/{sourceId}/{deviceId}`: one CloudEvent source per device, so
 *   `source` is also the ordering key downstream.
 * - `id` is a random UUID assigned once here and stored with the event; retries and replays after
 *   a crash resend the same id (CloudEvents 1.0 §3.1.1: source + id identify an event).
 * - `sequence` (CloudEvents sequence extension) counts per `source` from 1, zero-padded to 20
 *   digits so lexicographic order is numeric order. The caller (ingest) persists the counters in
 *   the same store batch as the events, so the sequence continues after a restart and a consumer
 *   can detect a gap (loss) or a repeat (duplicate) from source + sequence alone.
 * - `time` is the reading's wall time. While the wall clock is not synchronized (ClockStatus), the
 *   event also carries `clocksynced: false` and, when the time is on this boot's clock, `bootid` and
 *   `monotonicms`, so correctEventTime can fix `time` at send time once the clock is synced
 *   (event-time.ts). Synced events carry none of these.
 */
import { randomUUID } from 'node:crypto'
import { CloudEvent } from 'cloudevents'
import type { NewEvent, Reading } from '../core/types.js'
import { DecodeError } from '../core/errors.js'
import { systemClockStatus, type ClockStatus } from './clock-status.js'
import { clockAttributes } from './event-time.js'
import { isoTime } from './iso-time.js'

/** Reverse-DNS prefix of every CloudEvent type we emit, e.g. `io.edgegateway.environment`. */
export const EVENT_TYPE_PREFIX = 'io.edgegateway.'
const SEQUENCE_DIGITS = 20
const DEVICE_ID = /^[A-Za-z0-9._:-]{1,128}$/
const KIND = /^[a-z0-9]+(\.[a-z0-9_]+)*$/

export function formatSequence(n: number): string {
  return String(n).padStart(SEQUENCE_DIGITS, '0')
}

export function eventSource(gatewayId: string, sourceId: string, deviceId: string): string {
  return `/gateways/${gatewayId}/${sourceId}/${deviceId}`
}

/** Splits a CloudEvent source we built back into its parts (for topic templates). */
export function parseEventSource(source: string): { gatewayId: string; sourceId: string; deviceId: string } {
  const parts = source.split('/')
  return { gatewayId: parts[2] ?? '', sourceId: parts[3] ?? '', deviceId: parts.slice(4).join('/') }
}

/** How many devices and (device, kind) pairs to remember as validated before starting over. */
const MAX_KNOWN = 10_000

/** What the builder knows about one device of one source, once its id passed validation. */
interface KnownDevice {
  /** Its CloudEvent source (one string per device, so Map lookups by it reuse its hash). */
  source: string
  /** Per reading kind whose first synced event passed the SDK's strict validation: the fast path's JSON prefix. */
  prefixes: Map<string, string>
  /** Reading kinds whose first unsynced event (with clock attributes) passed strict validation. */
  unsyncedKinds: Set<string>
}

export class CloudEventBuilder {
  /**
   * Devices seen, by source id then device id. A device's later events of a kind already
   * validated differ only in id (a UUID), time (from a Date), sequence (digits) and data, which
   * the builder produces itself, so they skip the SDK's per-event JSON-schema run (a measurable
   * share of ingest CPU), and the id and kind checks. Bounded: cleared when MAX_KNOWN is reached.
   */
  private readonly known = new Map<string, Map<string, KnownDevice>>()
  private knownCount = 0

  /**
   * @param counters last sequence number used per CloudEvent source, as persisted by the store.
   *   The builder owns the Map from now on and advances it.
   * @param clock whether the wall clock is synchronized; @default systemClockStatus()
   */
  constructor(
    private readonly gatewayId: string,
    private readonly counters: Map<string, number>,
    private readonly clock: ClockStatus = systemClockStatus(),
  ) {}

  /**
   * Builds and validates one CloudEvent per reading, advancing the per-source sequence.
   * Throws DecodeError (`invalid_reading`) for a reading the CloudEvents SDK refuses; the counters
   * are left untouched in that case, so no sequence number is burned on an event never stored.
   */
  build(sourceId: string, reading: Reading): NewEvent {
    const device = this.knownDevice(sourceId, reading.deviceId)
    const synced = this.clock.isSynced()
    const prefix = synced ? device.prefixes.get(reading.kind) : undefined
    if (prefix !== undefined && isPlainObject(reading.data)) {
      const sequence = (this.counters.get(device.source) ?? 0) + 1
      const json = fastJson(prefix, reading, sequence)
      this.counters.set(device.source, sequence)
      return { priority: reading.priority, source: device.source, id: json.slice(7, 43), json }
    }
    return this.buildWithSdk(device, reading, synced)
  }

  /** The device's entry, validating its id on first sight. */
  private knownDevice(sourceId: string, deviceId: string): KnownDevice {
    let devices = this.known.get(sourceId)
    let device = devices?.get(deviceId)
    if (device) return device
    if (!DEVICE_ID.test(deviceId)) {
      throw new DecodeError('invalid_reading', `device id "${deviceId.slice(0, 40)}" has characters a CloudEvent source cannot carry`)
    }
    if (this.forgetIfFull()) devices = undefined
    if (!devices) this.known.set(sourceId, (devices = new Map()))
    device = { source: eventSource(this.gatewayId, sourceId, deviceId), prefixes: new Map(), unsyncedKinds: new Set() }
    devices.set(deviceId, device)
    this.knownCount++
    return device
  }

  /** Starts the cache over when it holds MAX_KNOWN devices and kinds; true when it did. */
  private forgetIfFull(): boolean {
    if (this.knownCount < MAX_KNOWN) return false
    this.known.clear()
    this.knownCount = 0
    return true
  }

  /**
   * The SDK's way: a CloudEvent object, validated strictly for the first event of a kind (per
   * device, synced or not), then serialised. A strictly validated synced kind opens the fast path.
   */
  private buildWithSdk(device: KnownDevice, reading: Reading, synced: boolean): NewEvent {
    if (!KIND.test(reading.kind)) {
      throw new DecodeError('invalid_reading', `reading kind "${reading.kind.slice(0, 40)}" is not dotted lower-case`)
    }
    const { source } = device
    const sequence = (this.counters.get(source) ?? 0) + 1
    const type = EVENT_TYPE_PREFIX + reading.kind
    const clock = synced ? undefined : clockAttributes(reading.timeMs, this.clock.now())
    const strict = clock ? !device.unsyncedKinds.has(reading.kind) : !device.prefixes.has(reading.kind)
    let event: CloudEvent<unknown>
    try {
      event = new CloudEvent(
        {
          specversion: '1.0',
          id: randomUUID(),
          source,
          type,
          time: new Date(reading.timeMs).toISOString(),
          datacontenttype: 'application/json',
          sequence: formatSequence(sequence),
          ...clock,
          data: reading.data,
        },
        strict,
      )
    } catch (err) {
      throw new DecodeError('invalid_reading', 'reading does not make a valid CloudEvent', { cause: err })
    }
    let json: string
    try {
      json = JSON.stringify(event)
    } catch (err) {
      throw new DecodeError('invalid_reading', 'reading data is not JSON-serialisable', { cause: err })
    }
    if (strict) {
      // A device that invents kinds without end must not grow the cache without end. After a
      // clear, `device` is no longer in it: what is added here goes with it.
      this.forgetIfFull()
      if (clock) device.unsyncedKinds.add(reading.kind)
      else device.prefixes.set(reading.kind, shapePrefix(type, source))
      this.knownCount++
    }
    this.counters.set(source, sequence)
    return { priority: reading.priority, source, id: event.id, json }
  }

  /** Snapshot of the counters for the sources in `sources`, to persist with a batch. */
  countersFor(sources: Iterable<string>): Map<string, number> {
    const out = new Map<string, number>()
    for (const s of sources) {
      const n = this.counters.get(s)
      if (n !== undefined) out.set(s, n)
    }
    return out
  }
}

/**
 * The fast path: after the SDK built and strictly validated the first event of a (source, type),
 * the next ones of that shape are serialised directly, byte for byte as the SDK's toJSON would
 * (same keys, same order; cloudevent-builder.test.ts compares the two). Only the parts the builder
 * makes itself vary: id (a UUID), time (from a Date), sequence (digits) and a plain-object `data`.
 * This removes the SDK's per-event object copies, schema run and toJSON from the ingest hot path.
 */
function shapePrefix(type: string, source: string): string {
  return `"type":${JSON.stringify(type)},"source":${JSON.stringify(source)},"specversion":"1.0","datacontenttype":"application/json","data":`
}

function fastJson(prefix: string, reading: Reading, sequence: number): string {
  let time: string
  let data: string
  try {
    time = isoTime(reading.timeMs)
    data = JSON.stringify(reading.data)
  } catch (err) {
    throw new DecodeError('invalid_reading', 'reading does not make a valid CloudEvent', { cause: err })
  }
  // The id's position (characters 7..43) is relied on by build(): keep "id" first.
  return `{"id":"${randomUUID()}","time":"${time}",${prefix}${data},"sequence":"${formatSequence(sequence)}"}`
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null) return false
  const proto = Object.getPrototypeOf(v)
  return proto === Object.prototype || proto === null
}
