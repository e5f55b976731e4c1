/**
 * Shared bits of the Event Hubs uplink tests: an uplink wired to a test peer with short SDK
 * retry delays, and a retry loop that behaves like an impatient forwarder.
 */
import { UplinkError } from '../../gateway/core/errors.js'
import type { Entry, SendResult, Uplink } from '../../gateway/core/types.js'
import { eventHubsUplinkSchema } from '../../gateway/uplink/eventhubs/config.js'
import { EventHubsUplink } from '../../gateway/uplink/eventhubs/eventhubs-uplink.js'
import { ThreadedEventHubsUplink } from '../../gateway/uplink/eventhubs/threaded-uplink.js'
import type { EventHubsPeer } from './eventhubs-peer.js'

/** Either Event Hubs uplink; which one follows the config's `thread`. */
export type AnyEventHubsUplink = EventHubsUplink | ThreadedEventHubsUplink

/**
 * An uplink on `peer` with short SDK retry delays (the policy shape stays the production one), so
 * outage tests are quick. `thread: 'worker'` in `overrides` gives the threaded one. Not started.
 */
export function uplinkFor(peer: EventHubsPeer, overrides: { thread: 'worker' } & Record<string, unknown>): ThreadedEventHubsUplink
export function uplinkFor(peer: EventHubsPeer, overrides?: Record<string, unknown>): EventHubsUplink
export function uplinkFor(peer: EventHubsPeer, overrides: Record<string, unknown> = {}): AnyEventHubsUplink {
  const config = eventHubsUplinkSchema.parse({
    type: 'eventhubs',
    id: 'eh',
    connectionString: peer.connectionString(),
    sendTimeoutMs: 5_000,
    ...overrides,
  })
  const sdkRetryOptions = { retryDelayInMs: 50, maxRetryDelayInMs: 200 }
  return config.thread === 'worker' ? new ThreadedEventHubsUplink(config, { sdkRetryOptions }) : new EventHubsUplink(config, { sdkRetryOptions })
}

export const never = new AbortController().signal

/**
 * Sends until confirmed, like the forwarder but without waiting (retryAfterMs is recorded, not
 * honoured). Every failure must be a retriable UplinkError.
 */
export async function sendUntilConfirmed(
  uplink: Pick<Uplink, 'send'>,
  batch: Entry[],
  maxAttempts = 20,
): Promise<{ result: SendResult; failures: UplinkError[] }> {
  const failures: UplinkError[] = []
  for (let attempt = 1; ; attempt++) {
    try {
      return { result: await uplink.send(batch, never), failures }
    } catch (err) {
      if (!(err instanceof UplinkError) || !err.retriable) throw err
      failures.push(err)
      if (attempt >= maxAttempts) throw err
    }
  }
}

/** Sequence numbers per partition key, in arrival order (every member of a batch document). */
export function sequencesByKey(events: readonly { partitionKey?: string; applicationProperties: Record<string, unknown>; body: Buffer; contentType?: string }[]): Map<string, number[]> {
  const out = new Map<string, number[]>()
  for (const e of events) {
    let seqs: unknown[]
    if (e.applicationProperties['cloudEvents_sequence'] !== undefined) seqs = [e.applicationProperties['cloudEvents_sequence']]
    else if (e.contentType?.startsWith('application/cloudevents')) {
      const doc = JSON.parse(e.body.toString()) as { sequence?: unknown } | Array<{ sequence?: unknown }>
      seqs = Array.isArray(doc) ? doc.map((m) => m.sequence) : [doc.sequence]
    } else seqs = [undefined]
    const list = out.get(e.partitionKey ?? '') ?? []
    list.push(...seqs.map(Number))
    out.set(e.partitionKey ?? '', list)
  }
  return out
}

export function isAscending(xs: number[]): boolean {
  return xs.every((x, i) => i === 0 || x > xs[i - 1]!)
}
