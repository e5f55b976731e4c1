/**
 * Judges what the Event Hubs test peer received, from CloudEvent `source` + `sequence`, with the
 * same rules as `collector.verdict` for MQTT (both delegate to sequence-verdict.ts). Every mode
 * the uplink sends is read: binary (attributes in `cloudEvents_*` application properties),
 * structured (the JSON event format as the body) and batch (a JSON batch document: one received
 * AMQP message, several CloudEvents).
 * No vitest import (usable from benches too).
 */
import type { ReceivedEvent } from './eventhubs-peer.js'
import * as sequences from './sequence-verdict.js'
import type { Verdict } from './sequence-verdict.js'

export type { Verdict }

/** One received event, seen as a CloudEvent. */
export interface EhCloudEvent {
  source: string
  id: string
  /** The `sequence` extension as a number, or undefined when absent/not decimal. */
  sequence: number | undefined
  partitionKey: string | undefined
  /** Index of the peer delivery (AMQP batch) that carried it. */
  batch: number
}

const STRUCTURED = 'application/cloudevents'
const BATCH = 'application/cloudevents-batch+json'

/** The CloudEvents one received AMQP message carries: several in batch mode, else one. */
export function cloudEventsIn(e: ReceivedEvent): EhCloudEvent[] {
  if (!e.contentType?.startsWith(BATCH)) return [asCloudEvent(e)]
  const members = JSON.parse(e.body.toString('utf8')) as Array<Record<string, unknown>>
  return members.map((attrs) => fromAttributes(attrs, e))
}

/** Reads source, id and sequence from one received event, in binary or structured mode. */
export function asCloudEvent(e: ReceivedEvent): EhCloudEvent {
  let attrs: Record<string, unknown>
  if (e.contentType?.startsWith(STRUCTURED)) {
    attrs = JSON.parse(e.body.toString('utf8')) as Record<string, unknown>
  } else {
    attrs = {}
    for (const [k, v] of Object.entries(e.applicationProperties)) {
      if (k.startsWith('cloudEvents_') || k.startsWith('cloudEvents:')) attrs[k.slice('cloudEvents_'.length)] = v
    }
  }
  return fromAttributes(attrs, e)
}

function fromAttributes(attrs: Record<string, unknown>, e: ReceivedEvent): EhCloudEvent {
  return {
    source: String(attrs['source']),
    id: String(attrs['id']),
    sequence: sequences.parseSequence(attrs['sequence']),
    partitionKey: e.partitionKey,
    batch: e.batch,
  }
}

export function cloudEventsOf(received: readonly ReceivedEvent[]): EhCloudEvent[] {
  return received.flatMap(cloudEventsIn)
}

/** Distinct (source, sequence) pairs received, optionally only for sources in `only`. */
export function distinctPairs(received: readonly ReceivedEvent[], only?: (source: string) => boolean): number {
  return sequences.distinctPairs(cloudEventsOf(received), only)
}

/** Highest sequence received per source. */
export function maxSequences(received: readonly ReceivedEvent[]): Map<string, number> {
  return sequences.maxSequences(cloudEventsOf(received))
}

/** Delivery judged per source against the expected count (sequences 1..n); see sequence-verdict.ts. */
export function ehVerdict(received: readonly ReceivedEvent[], expected: Map<string, number>): Verdict {
  return sequences.sequenceVerdict(cloudEventsOf(received), expected)
}
