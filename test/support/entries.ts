/**
 * Hand-built store entries carrying valid structured-mode CloudEvents, for uplink tests.
 *
 * The shape matches what ingest stores (gateway/events/cloudevent-builder.ts): source
 * `/gateways/{gatewayId}/{sourceId}/{deviceId}`, type `io.edgegateway.{kind}`, a random UUID id,
 * and the `sequence` extension as a 20-digit zero-padded decimal counting from 1 per source.
 * Kept independent of the builder so uplink tests do not change when ingest does.
 */
import { randomUUID } from 'node:crypto'
import type { Entry, Priority } from '../../gateway/core/types.js'

export interface EntryOptions {
  gatewayId?: string
  sourceId?: string
  deviceId?: string
  /** Per-source sequence number (1-based). */
  sequence: number
  /** Suffix of the CloudEvent type. @default 'environment' */
  kind?: string
  /** CloudEvent data. @default { temperatureC: 21.5, seq } */
  data?: unknown
  /** @default 'application/json' ; pass null to omit the attribute */
  datacontenttype?: string | null
  /** Extra top-level attributes (extensions), e.g. { traceparent: '...' }. */
  extensions?: Record<string, unknown>
  priority?: Priority
  offset?: number
  /** Pads `data` with a string of this many characters (for size tests). */
  padBytes?: number
}

/** 20-digit zero-padded sequence, as ingest writes it. */
export function formatSequence(n: number): string {
  return String(n).padStart(20, '0')
}

export function eventSource(gatewayId: string, sourceId: string, deviceId: string): string {
  return `/gateways/${gatewayId}/${sourceId}/${deviceId}`
}

let nextOffset = 1

/** One entry; `json` is the CloudEvent as ingest would store it. */
export function makeEntry(opts: EntryOptions): Entry {
  const gatewayId = opts.gatewayId ?? 'gw1'
  const sourceId = opts.sourceId ?? 'sim'
  const deviceId = opts.deviceId ?? 'dev-a'
  const source = eventSource(gatewayId, sourceId, deviceId)
  const id = randomUUID()
  const data = opts.data ?? { temperatureC: 21.5, seq: opts.sequence, ...(opts.padBytes ? { pad: 'x'.repeat(opts.padBytes) } : {}) }
  const event: Record<string, unknown> = {
    specversion: '1.0',
    id,
    source,
    type: `io.edgegateway.${opts.kind ?? 'environment'}`,
    time: new Date(1_700_000_000_000 + opts.sequence * 1000).toISOString(),
    ...(opts.datacontenttype === null ? {} : { datacontenttype: opts.datacontenttype ?? 'application/json' }),
    sequence: formatSequence(opts.sequence),
    ...opts.extensions,
    data,
  }
  const json = JSON.stringify(event)
  return {
    priority: opts.priority ?? 'telemetry',
    source,
    id,
    json,
    offset: opts.offset ?? nextOffset++,
    appendedMs: Date.now(),
    sizeBytes: Buffer.byteLength(json),
  }
}

/**
 * `count` entries per device, sequences `startSequence..` per device, interleaved round-robin
 * across devices (the order a store with several busy devices returns).
 */
export function makeEntries(
  count: number,
  opts: Omit<EntryOptions, 'sequence' | 'deviceId'> & { devices?: string[]; startSequence?: number } = {},
): Entry[] {
  const devices = opts.devices ?? ['dev-a']
  const start = opts.startSequence ?? 1
  const out: Entry[] = []
  for (let i = 0; i < count; i++) {
    for (const deviceId of devices) out.push(makeEntry({ ...opts, deviceId, sequence: start + i }))
  }
  return out
}
