/**
 * Judges what the Event Hubs test peer received, from CloudEvent `source` + `sequence`, like
 * `collector.verdict` does for MQTT. Both AMQP binding modes are read: binary (attributes in
 * `cloudEvents_*` application properties) and structured (the JSON event format as the body).
 * No vitest import (usable from benches too).
 */
import type { Verdict } from './collector.js'
import type { ReceivedEvent } from './eventhubs-peer.js'

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

/** Reads source, id and sequence from one received event, in either binding mode. */
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
  const seq = attrs['sequence']
  return {
    source: String(attrs['source']),
    id: String(attrs['id']),
    sequence: typeof seq === 'string' && /^\d+$/.test(seq) ? Number(seq) : undefined,
    partitionKey: e.partitionKey,
    batch: e.batch,
  }
}

export function cloudEventsOf(received: readonly ReceivedEvent[]): EhCloudEvent[] {
  return received.map(asCloudEvent)
}

/** Distinct (source, sequence) pairs received, optionally only for sources in `only`. */
export function distinctPairs(received: readonly ReceivedEvent[], only?: (source: string) => boolean): number {
  const seen = new Set<string>()
  for (const e of received) {
    const ce = asCloudEvent(e)
    if (!only || only(ce.source)) seen.add(`${ce.source}#${ce.sequence}`)
  }
  return seen.size
}

/** Highest sequence received per source. */
export function maxSequences(received: readonly ReceivedEvent[]): Map<string, number> {
  const m = new Map<string, number>()
  for (const ce of cloudEventsOf(received)) {
    if (ce.sequence !== undefined) m.set(ce.source, Math.max(m.get(ce.source) ?? 0, ce.sequence))
  }
  return m
}

/**
 * Delivery judged per source against the expected count (sequences 1..n), with the same rules as
 * collector.verdict: `reordered` counts FIRST receipts whose sequence is below one already
 * received for that source (a duplicate resend of an old event is a duplicate, not a reorder).
 */
export function ehVerdict(received: readonly ReceivedEvent[], expected: Map<string, number>): Verdict {
  const v: Verdict = { delivered: 0, lost: 0, duplicated: 0, reordered: 0, unexpected: 0 }
  const seen = new Map<string, Set<number>>()
  const maxSeen = new Map<string, number>()
  for (const e of cloudEventsOf(received)) {
    if (!expected.has(e.source)) {
      v.unexpected++
      continue
    }
    if (e.sequence === undefined) continue
    let s = seen.get(e.source)
    if (!s) seen.set(e.source, (s = new Set()))
    if (s.has(e.sequence)) {
      v.duplicated++
      continue
    }
    s.add(e.sequence)
    const max = maxSeen.get(e.source) ?? 0
    if (e.sequence < max) v.reordered++
    else maxSeen.set(e.source, e.sequence)
  }
  for (const [source, n] of expected) {
    let got = 0
    for (const seq of seen.get(source) ?? []) if (seq >= 1 && seq <= n) got++
    v.delivered += got
    v.lost += n - got
  }
  return v
}
