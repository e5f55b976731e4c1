/**
 * Config of an `mqtt` source: a local MQTT 3.1.1 broker that sensors (ESP32 and the like) publish
 * JSON to. Each accepted PUBLISH becomes one reading; its PUBACK is sent only once the reading is
 * on disk.
 */
import { z } from 'zod'
import { byteSize, componentId } from '../../gateway/config/units.js'
import { listenAddress } from '../../gateway/config/listen-address.js'
import { DEVICE_ID_RE, KIND_RE, highestCapture, topicPatternError } from './topic-map.js'

const topicPattern = z.string().superRefine((text, ctx) => {
  const err = topicPatternError(text)
  if (err) ctx.addIssue({ code: 'custom', message: `topic pattern ${err}` })
})

export const ingressDeviceSchema = z.strictObject({
  /** CONNECT username; unique. */
  username: z.string().min(1).max(256),
  /** CONNECT password. Write `${env:NAME}` to keep it out of the file (substituted at load). */
  password: z.string().min(1).max(1024),
  /** Identity for topicMap rules without a `deviceId` template. @default the username */
  deviceId: z.string().regex(DEVICE_ID_RE, 'must be 1-128 characters of A-Z a-z 0-9 . _ : -').optional(),
  /** Topic filters (`+`, `#`) this device may publish to; anything else is refused and counted. */
  topics: z.array(topicPattern).min(1).max(64),
})

export const topicRuleSchema = z.strictObject({
  /** Topic filter, e.g. `sensors/+/env`. First matching rule wins. */
  pattern: topicPattern,
  /** Device id template: `{1}`..`{9}` are the wildcard levels, `{username}` the CONNECT user. @default the device's own id */
  deviceId: z.string().min(1).max(256).optional(),
  /** Reading kind or template, e.g. `environment` or `{2}`; must render to dotted lower-case. */
  kind: z.string().min(1).max(128),
  /** `alert` for doorbells/alarms (never dropped for telemetry). @default telemetry */
  priority: z.enum(['alert', 'telemetry']).default('telemetry'),
})

const DEFAULT_TOPIC_MAP = [{ pattern: 'sensors/+/+', deviceId: '{1}', kind: '{2}', priority: 'telemetry' as const }]

export const mqttIngressSourceSchema = z
  .strictObject({
    type: z.literal('mqtt'),
    id: componentId,
    /**
     * Where sensors connect, `host:port`. All interfaces on the standard port because the sensors
     * are on the LAN and their firmware defaults to 1883; use another port when a local Mosquitto
     * already holds 1883 (the source then reports `unavailable: ... EADDRINUSE`). @default "0.0.0.0:1883"
     */
    listen: listenAddress.prefault('0.0.0.0:1883'),
    /** Sensors allowed to connect. */
    devices: z.array(ingressDeviceSchema).max(10_000).default([]),
    /** Topic → device id/kind rules. @default [{ pattern: "sensors/+/+", deviceId: "{1}", kind: "{2}" }] */
    topicMap: z.array(topicRuleSchema).min(1).max(256).default(DEFAULT_TOPIC_MAP),
    /** Largest accepted payload; bigger ones are refused and counted `oversize`. @default "16KiB" */
    maxPayloadBytes: byteSize.default(16 * 1024),
    /** Accept CONNECTs without username (lab use). Such clients may publish to any mapped topic. @default false */
    allowAnonymous: z.boolean().default(false),
    /** Most simultaneous sensor connections; more are dropped at accept. @default 100 */
    maxClients: z.number().int().min(1).max(10_000).default(100),
  })
  .superRefine((c, ctx) => {
    if (c.maxPayloadBytes < 1 || c.maxPayloadBytes > 1024 * 1024) {
      ctx.addIssue({ code: 'custom', path: ['maxPayloadBytes'], message: 'must be between 1 byte and 1MiB' })
    }
    if (c.devices.length === 0 && !c.allowAnonymous) {
      ctx.addIssue({ code: 'custom', path: ['devices'], message: 'no devices and allowAnonymous is false: no sensor could connect' })
    }
    const seen = new Set<string>()
    c.devices.forEach((d, i) => {
      if (seen.has(d.username)) ctx.addIssue({ code: 'custom', path: ['devices', i, 'username'], message: `duplicate username "${d.username}"` })
      seen.add(d.username)
    })
    c.topicMap.forEach((r, i) => {
      const wildcards = r.pattern.split('/').filter((l) => l === '+' || l === '#').length
      for (const key of ['deviceId', 'kind'] as const) {
        const t = r[key]
        if (t !== undefined && highestCapture(t) > wildcards) {
          ctx.addIssue({ code: 'custom', path: ['topicMap', i, key], message: `uses {${highestCapture(t)}} but "${r.pattern}" has ${wildcards} wildcard level(s)` })
        }
      }
      if (!/\{/.test(r.kind) && !KIND_RE.test(r.kind)) {
        ctx.addIssue({ code: 'custom', path: ['topicMap', i, 'kind'], message: 'must be dotted lower-case words, e.g. "environment"' })
      }
    })
  })

export type MqttIngressSourceConfig = z.infer<typeof mqttIngressSourceSchema>
