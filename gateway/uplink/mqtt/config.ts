/** Config of an `mqtt` uplink. Only `type`, `id` and `url` are required. */
import { z } from 'zod'
import { byteSize, componentId } from '../../config/units.js'

export const mqttTlsSchema = z.strictObject({
  /** PEM file of the CA that signed the broker's certificate. */
  ca: z.string().optional(),
  /** PEM client certificate file (mutual TLS, e.g. Azure IoT Hub X.509 auth). */
  cert: z.string().optional(),
  /** PEM private key file for `cert`. */
  key: z.string().optional(),
  /** @default true. Turning this off is for lab brokers only. */
  rejectUnauthorized: z.boolean().default(true),
})

export const mqttUplinkSchema = z
  .strictObject({
    type: z.literal('mqtt'),
    id: componentId,
    /** mqtt://, mqtts://, ws:// or wss:// URL of the broker. */
    url: z.string().regex(/^(mqtts?|wss?|tcp|tls):\/\/.+/, 'must be an mqtt://, mqtts://, ws:// or wss:// URL'),
    /**
     * Topic template; placeholders {gatewayId} {sourceId} {deviceId} {type}. Literal parts may not
     * contain the wildcards `+`/`#` (MQTT-3.3.2-2) or NUL (MQTT-1.5.4-2).
     */
    topic: z
      .string()
      .min(1)
      .max(1024)
      .refine((t) => !/[+#\u0000]/.test(t.replace(/\{(gatewayId|sourceId|deviceId|type)\}/g, '')), {
        message: 'topic may not contain +, # or NUL outside the placeholders (MQTT-3.3.2-2)',
      })
      .refine((t) => !/\{(?!(gatewayId|sourceId|deviceId|type)\})/.test(t), {
        message: 'unknown placeholder; use {gatewayId} {sourceId} {deviceId} {type}',
      })
      .default('edge/{gatewayId}/{sourceId}/{deviceId}/{type}'),
    /** CloudEvents MQTT binding mode. `binary` needs protocolVersion 5. @default structured */
    mode: z.enum(['structured', 'binary', 'batch']).default('structured'),
    /** 5 = MQTT 5.0, 4 = MQTT 3.1.1. @default 5 */
    protocolVersion: z.union([z.literal(4), z.literal(5)]).default(5),
    /** Only QoS 1 gives at-least-once with a PUBACK to delete on. @default 1 */
    qos: z.literal(1).default(1),
    clientId: z.string().min(1).max(128).optional(),
    username: z.string().optional(),
    password: z.string().optional(),
    tls: mqttTlsSchema.optional(),
    /** Most events per forwarder batch (and per message in `batch` mode). @default 100 */
    maxEvents: z.number().int().min(1).max(10_000).default(100),
    /** Most bytes per forwarder batch / per `batch`-mode message. @default "256KiB" */
    maxBytes: byteSize.default(256 * 1024),
    /**
     * Wait this long for a batch to fill when nothing is in flight; while a batch is out, a partial
     * one waits for it to settle instead (forwarder.ts). 0: send whatever waits at once. @default 20
     */
    lingerMs: z.number().int().min(0).max(60_000).default(20),
    /** Batches outstanding at once (duplicates after a failure are bounded by this × maxEvents). @default 8 */
    maxInFlight: z.number().int().min(1).max(64).default(8),
    /** MQTT keepalive, seconds; a half-open connection is detected within ~1.5× this. @default 30 */
    keepaliveSec: z.number().int().min(1).max(3600).default(30),
    /** Give up a connection attempt after this long. @default 10000 */
    connectTimeoutMs: z.number().int().min(100).max(120_000).default(10_000),
    /** A PUBACK not seen within this long fails the batch (retried). @default 30000 */
    ackTimeoutMs: z.number().int().min(100).max(600_000).default(30_000),
    /** Reconnect backoff cap, ms (full jitter, exponential from 250 ms). @default 30000 */
    reconnectMaxMs: z.number().int().min(100).max(600_000).default(30_000),
    /**
     * Largest PUBLISH packet the broker accepts, bytes, when it does not say so itself (MQTT 3.1.1
     * brokers; MQTT 5 brokers announce it in CONNACK and the smaller value wins). An event whose
     * packet would be larger is rejected alone (`packet_too_large`) instead of being sent: a 3.1.1
     * broker answers an oversize packet by dropping the connection, which would otherwise look like
     * an outage and be retried forever. Unset: only the broker's CONNACK limit (if any) applies.
     */
    maxPacketBytes: byteSize.optional(),
    /** On stop(), wait this long for outstanding PUBACKs before closing hard. @default 2000 */
    stopGraceMs: z.number().int().min(0).max(60_000).default(2_000),
  })
  .superRefine((c, ctx) => {
    if (c.mode === 'binary' && c.protocolVersion !== 5) {
      ctx.addIssue({
        code: 'custom',
        path: ['mode'],
        message: 'binary mode needs protocolVersion 5 (MQTT 3.1.1 has no user properties; CloudEvents MQTT binding 3.1)',
      })
    }
  })

export type MqttUplinkConfig = z.infer<typeof mqttUplinkSchema>
