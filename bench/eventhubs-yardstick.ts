/**
 * Yardstick for the Event Hubs uplink: how fast the raw SDK (EventHubProducerClient, createBatch /
 * tryAdd / sendBatch, no store, no forwarder) gets the same events accepted by the same peer. The
 * durable pipeline is judged against this figure in the same run. Prints nothing.
 *
 * It sends the same AMQP messages as the uplink's structured mode: body, content type, and
 * `message_id` = the CloudEvent id (what lets the cloud side dedupe, issue 4 point 2). The id
 * costs the SDK ~4 µs per event to encode; a yardstick without it would compare a different
 * message, not the cost of durability.
 */
import { EventHubProducerClient, type EventDataBatch } from '@azure/event-hubs'

interface BenchEvent {
  json: string
  /** The CloudEvent id: the AMQP message_id. */
  id: string
}

/** One partition key per device: the CloudEvent `source` of each event (as the uplink's default). */
function parse(json: string): BenchEvent & { key: string } {
  const ce = JSON.parse(json) as { source?: unknown; id?: unknown }
  return { json, id: String(ce.id), key: typeof ce.source === 'string' ? ce.source : 'yardstick' }
}

/** Sends one key's events in order, as full batches. Throws if an event fits no batch. */
async function sendKey(client: EventHubProducerClient, key: string, events: BenchEvent[]): Promise<void> {
  let batch: EventDataBatch = await client.createBatch({ partitionKey: key })
  for (const { json, id } of events) {
    const event = { body: Buffer.from(json), contentType: 'application/cloudevents+json', messageId: id }
    if (batch.tryAdd(event)) continue
    if (batch.count === 0) throw new Error(`yardstick: an event of ${json.length} bytes fits no batch`)
    await client.sendBatch(batch)
    batch = await client.createBatch({ partitionKey: key })
    if (!batch.tryAdd(event)) throw new Error(`yardstick: an event of ${json.length} bytes fits no batch`)
  }
  if (batch.count > 0) await client.sendBatch(batch)
}

export interface YardstickFigures {
  /** The timed events, events/s. */
  eventsPerSec: number
  /** CPU of this process per timed event, µs. */
  cpuMicrosPerEvent: number
  /** The warm-up events (the first a fresh process sends), events/s; absent without a warm-up. */
  warmUpEventsPerSec?: number
}

async function secondsOf(fn: () => Promise<void>): Promise<number> {
  const started = process.hrtime.bigint()
  await fn()
  return Math.max(Number(process.hrtime.bigint() - started) / 1e9, 1e-9)
}

/** Groups events by device (partition key), in order. */
function groupByKey(events: string[]): Map<string, BenchEvent[]> {
  const groups = new Map<string, BenchEvent[]>()
  for (const json of events) {
    const { key, ...event } = parse(json)
    const list = groups.get(key)
    if (list) list.push(event)
    else groups.set(key, [event])
  }
  return groups
}

/** Every group's batches in order, all groups concurrently. */
async function sendAll(client: EventHubProducerClient, groups: Map<string, BenchEvent[]>): Promise<void> {
  await Promise.all([...groups].map(([key, list]) => sendKey(client, key, list)))
}

/**
 * Sends every string in `events` (structured CloudEvents JSON) with the raw SDK: events grouped by
 * device, each device's batches in order, all devices concurrently. Connecting (CBS + link attach)
 * and sending `warmUp` the same way happen before the clock starts: the pipeline is timed warm
 * too (pipeline-worker.ts), so neither figure holds the JIT's start-up. Resolves with the timed
 * part's rate and CPU per event when every batch was accepted; rejects on the first SDK error (no
 * retries beyond the SDK's own).
 */
export async function rawSdkYardstick(connectionString: string, events: string[], warmUp: string[] = []): Promise<YardstickFigures> {
  const client = new EventHubProducerClient(connectionString)
  try {
    const timed = groupByKey(events)
    const warmUpGroups = groupByKey(warmUp)
    await client.createBatch({ partitionKey: 'yardstick-warm-up' })
    const warmUpSeconds = await secondsOf(() => sendAll(client, warmUpGroups))
    const cpu0 = process.cpuUsage()
    const seconds = await secondsOf(() => sendAll(client, timed))
    const cpu = process.cpuUsage(cpu0)
    return {
      eventsPerSec: events.length / seconds,
      cpuMicrosPerEvent: (cpu.user + cpu.system) / events.length,
      ...(warmUp.length > 0 ? { warmUpEventsPerSec: warmUp.length / warmUpSeconds } : {}),
    }
  } finally {
    await client.close()
  }
}
