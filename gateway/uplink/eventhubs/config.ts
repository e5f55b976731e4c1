/**
 * Config of an `eventhubs` uplink. Required: `type`, `id`, and exactly one way to authenticate:
 * `connectionString` (with `EntityPath`, or with `eventHubName`), or `fullyQualifiedNamespace` +
 * `eventHubName` + `sharedAccessKeyName` + `sharedAccessKey`.
 */
import { z } from 'zod'
import type { UplinkBatchLimits } from '../../core/types.js'
import { byteSize, componentId } from '../../config/units.js'

/** Placeholders a `partitionKey` template may use (see partition-key.ts). */
export const PARTITION_KEY_PLACEHOLDERS = ['gatewayId', 'sourceId', 'deviceId', 'source'] as const

const KEY_FIELDS = ['fullyQualifiedNamespace', 'sharedAccessKeyName', 'sharedAccessKey'] as const

/** `Key=value;...` pairs of an Event Hubs connection string (keys case-sensitive, as the SDK reads them). */
export function parseConnectionStringParts(cs: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const part of cs.split(';')) {
    const eq = part.indexOf('=')
    if (eq > 0) out[part.slice(0, eq).trim()] = part.slice(eq + 1).trim()
  }
  return out
}

const partitionKeyTemplate = z
  .string()
  .min(1)
  .max(256)
  .superRefine((t, ctx) => {
    for (const m of t.matchAll(/\{([^}]*)\}/g)) {
      if (!(PARTITION_KEY_PLACEHOLDERS as readonly string[]).includes(m[1] ?? '')) {
        ctx.addIssue({
          code: 'custom',
          message: `unknown placeholder {${m[1]}}; use ${PARTITION_KEY_PLACEHOLDERS.map((p) => `{${p}}`).join(' ')}`,
        })
      }
    }
  })

export const eventHubsUplinkSchema = z
  .strictObject({
    type: z.literal('eventhubs'),
    id: componentId,
    /**
     * `Endpoint=sb://<ns>.servicebus.windows.net/;SharedAccessKeyName=...;SharedAccessKey=...[;EntityPath=<hub>]`.
     * A secret: never logged. `UseDevelopmentEmulator=true` switches to plain TCP (local emulator/tests).
     */
    connectionString: z.string().min(1).optional(),
    /** Host name, e.g. `mynamespace.servicebus.windows.net` (no `sb://`). */
    fullyQualifiedNamespace: z
      .string()
      .regex(/^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?(:\d{1,5})?$/, 'must be a host name such as mynamespace.servicebus.windows.net (no sb:// prefix)')
      .optional(),
    /** Required unless the connection string has `EntityPath`. */
    eventHubName: z.string().min(1).max(256).optional(),
    sharedAccessKeyName: z.string().min(1).max(256).optional(),
    /** A secret: never logged. */
    sharedAccessKey: z.string().min(1).optional(),
    /**
     * Partition key template; placeholders {gatewayId} {sourceId} {deviceId} {source}. One key per
     * device keeps each device's events in order on one partition. @default "{source}"
     */
    partitionKey: partitionKeyTemplate.default('{source}'),
    /**
     * CloudEvents AMQP binding content mode. `binary`: attributes in application properties, data as
     * the body. `structured`: the JSON event document as the body. `batch` (opt-in, outside the
     * AMQP binding): JSON batch documents (`application/cloudevents-batch+json`) of several events
     * of one partition key per AMQP message; a fraction of the CPU and of the hub's ingress quota
     * per event, but consumers must read arrays. @default binary
     */
    mode: z.enum(['binary', 'structured', 'batch']).default('binary'),
    /**
     * `batch` mode: most body bytes of one AMQP message. 64 KiB is Event Hubs' metering unit; the
     * hub's own limit (1 MB Standard, 256 KB Basic) still applies per AMQP batch. @default "64KiB"
     */
    batchMessageBytes: byteSize.pipe(z.number().min(1024, 'batchMessageBytes must be at least 1KiB').max(1024 * 1024, 'batchMessageBytes must be at most 1MiB')).default(64 * 1024),
    /**
     * Most events per forwarder batch. One partition key per device means one AMQP batch per device
     * per forwarder batch, and the SDK (with our deadline around each call) spends ~125-300 µs of
     * CPU on each AMQP batch whatever its size: with 100 busy devices, 500 made AMQP batches of 5
     * events and slowed the drain after an outage (100k stored events, structured: 12.8k events/s
     * at 500, 16.0k at 2000). 4000 with maxInFlight 2 holds as many events as 2000 with 4, in
     * AMQP batches twice as large: in alternating runs, 12% faster live and 18% faster draining
     * (200k stored events), with the same peak RSS. Memory: at most maxInFlight batches are held.
     * @default 4000
     */
    maxEvents: z.number().int().min(1).max(10_000).default(4000),
    /**
     * Most stored bytes per forwarder batch. Only a read-side cap: the wire limit is the service's
     * `max_message_size` per AMQP batch (1 MB Standard/Premium, 256 KB Basic), which `createBatch`
     * learns from the link and `tryAdd` enforces. With maxInFlight, it bounds the stored bytes read
     * into memory (2 × 2 MiB by default); the encoded AMQP copies (and, with `thread: worker`, the
     * copy posted to the thread) come on top, about as much again each. @default "2MiB"
     */
    maxBytes: byteSize.default(2 * 1024 * 1024),
    /**
     * Wait this long for a batch to fill when nothing is in flight; while a batch is out, a partial
     * one waits for it to settle instead (forwarder.ts). 0: send whatever waits at once. @default 50
     */
    lingerMs: z.number().int().min(0).max(60_000).default(50),
    /**
     * Batches outstanding at once. Two large batches keep the link as busy as four half-size ones
     * (each spans every busy device, sent 32 keys at a time) for fewer, larger AMQP batches.
     * @default 2
     */
    maxInFlight: z.number().int().min(1).max(64).default(2),
    /** Budget of one SDK operation (createBatch or sendBatch, including the SDK's own retries). @default 30000 */
    sendTimeoutMs: z.number().int().min(500).max(600_000).default(30_000),
    /** Retry backoff cap, ms; also the wait suggested after an auth failure. @default 30000 */
    retryMaxMs: z.number().int().min(100).max(600_000).default(30_000),
    /**
     * Where the SDK runs. `worker`: a thread of its own, so AMQP encoding and the SDK's garbage run
     * on another core instead of competing with ingest and the store; costs about 50 MB more RSS (a
     * second V8 heap with its own copy of the SDK). `main`: the gateway's event loop. @default main
     */
    thread: z.enum(['main', 'worker']).default('main'),
    /**
     * How events reach their partition. `key`: each AMQP batch carries the partition key and the
     * service picks the partition; consumers see the key. `partition`: the gateway computes the
     * partition the service would pick for the key (its own hash) and sends to it directly, one
     * AMQP batch per partition instead of one per device: far fewer round trips with many devices
     * or a slow link, ~20% less CPU. Order per device is kept the same way, but events carry no
     * partition key, and when the hub's partition count is raised a device moves partition (as
     * it does with `key`). A hub that will not list its partitions to this policy gets partition
     * keys instead (same partitions). See partition-routing.ts. @default key
     */
    routing: z.enum(['key', 'partition']).default('key'),
  })
  .superRefine((c, ctx) => {
    const keyFieldsSet = KEY_FIELDS.filter((f) => c[f] !== undefined)
    if (c.connectionString !== undefined) {
      if (keyFieldsSet.length > 0) {
        ctx.addIssue({
          code: 'custom',
          path: [keyFieldsSet[0]!],
          message: `use either connectionString or fullyQualifiedNamespace + sharedAccessKeyName + sharedAccessKey, not both (also set: ${keyFieldsSet.join(', ')})`,
        })
      }
      const parts = parseConnectionStringParts(c.connectionString)
      if (!parts['Endpoint']?.startsWith('sb://')) {
        ctx.addIssue({ code: 'custom', path: ['connectionString'], message: 'connectionString needs Endpoint=sb://<namespace>/' })
      }
      const entityPath = parts['EntityPath']
      if (entityPath === undefined && c.eventHubName === undefined) {
        ctx.addIssue({ code: 'custom', path: ['eventHubName'], message: 'eventHubName is required when the connection string has no EntityPath' })
      }
      if (entityPath !== undefined && c.eventHubName !== undefined && entityPath !== c.eventHubName) {
        ctx.addIssue({
          code: 'custom',
          path: ['eventHubName'],
          message: `eventHubName "${c.eventHubName}" contradicts the connection string's EntityPath "${entityPath}"`,
        })
      }
      return
    }
    const needed = [...KEY_FIELDS, 'eventHubName' as const].filter((f) => c[f] === undefined)
    if (keyFieldsSet.length === 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['connectionString'],
        message: 'set connectionString, or fullyQualifiedNamespace + eventHubName + sharedAccessKeyName + sharedAccessKey',
      })
    } else if (needed.length > 0) {
      ctx.addIssue({
        code: 'custom',
        path: [needed[0]!],
        message: `without connectionString, also set: ${needed.join(', ')}`,
      })
    }
  })

export type EventHubsUplinkConfig = z.infer<typeof eventHubsUplinkSchema>

/** The forwarder's batch limits of an uplink with this config (the same in both thread modes). */
export function batchLimitsOf(config: EventHubsUplinkConfig): UplinkBatchLimits {
  return { maxEvents: config.maxEvents, maxBytes: config.maxBytes, lingerMs: config.lingerMs, maxInFlight: config.maxInFlight }
}
