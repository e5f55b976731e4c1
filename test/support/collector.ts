/**
 * A real MQTT subscriber (mqtt.js, QoS 1) that records every CloudEvent it receives, in any of
 * the three modes the MQTT uplink publishes, and judges delivery from `source` + `sequence`
 * (sequence-verdict.ts, the same rules as for the Event Hubs peer).
 *
 * ```ts
 * const col = await collectEvents(broker.url, 'edge/#', { protocolVersion: 5 })
 * await uplink.send(entries, signal)
 * await col.waitFor((c) => c.events.length >= entries.length)
 * expect(col.verdict(new Map([[source, 10]]))).toMatchObject({ lost: 0, duplicated: 0, reordered: 0 })
 * await col.close()
 * ```
 * Mode detection (CloudEvents MQTT binding §3): MQTT 5 Content Type `application/cloudevents-batch…`
 * = batch, `application/cloudevents…` = structured, otherwise binary when a `specversion` User
 * Property is present. Without a Content Type (MQTT 3.1.1) the payload decides: `[` = batch,
 * else structured. Payloads that do not parse are kept in `errors` (never thrown from the
 * message handler).
 *
 * The collector reconnects by itself (broker restarts) and subscribes again; await `ready()`
 * before publishing after an outage: messages published while it is away are not queued for it
 * (clean session, and Mosquitto runs without persistence in tests). No vitest import here.
 */
import { connect, type IClientOptions, type IPublishPacket, type MqttClient } from 'mqtt'
import { parseSequence, sequenceVerdict, type Verdict } from './sequence-verdict.js'

export type { Verdict }

export type ReceivedMode = 'structured' | 'binary' | 'batch'

export interface ReceivedMessage {
  topic: string
  mode: ReceivedMode
  contentType: string | undefined
  userProperties: Record<string, string | string[]> | undefined
  payload: Buffer
  /** Events this message carried (1, or the batch length). */
  eventCount: number
}

export interface ReceivedEvent {
  topic: string
  mode: ReceivedMode
  /** JSON-format view of the event; binary mode rebuilt from User Properties + payload. */
  event: Record<string, unknown>
  source: string
  id: string
  /** The `sequence` extension as a number, or undefined when absent/not decimal. */
  sequence: number | undefined
}

export interface Collector {
  readonly messages: ReceivedMessage[]
  readonly events: ReceivedEvent[]
  /** Payloads that could not be decoded, with the reason. */
  readonly errors: Array<{ topic: string; error: string }>
  countBySource(): Map<string, number>
  /** Delivery of everything received so far, by the rules in sequence-verdict.ts. */
  verdict(expected: Map<string, number>): Verdict
  /** Resolves when `predicate` holds (checked now and after every message); rejects after timeoutMs. */
  waitFor(predicate: (c: Collector) => boolean, timeoutMs?: number): Promise<void>
  /** Resolves when connected and subscribed (again, after a broker restart). */
  ready(): Promise<void>
  close(): Promise<void>
}

export interface CollectOptions {
  /** @default 5 */
  protocolVersion?: 4 | 5
  clientId?: string
  /**
   * Keep the session on the broker (clean: false; MQTT 5 session expiry 1 h), so QoS 1 messages
   * published while the collector is disconnected are queued for it. Pair with a broker started
   * with `persistence: true` to survive broker restarts. @default false
   */
  persistentSession?: boolean
}

/** Connects, subscribes to `topicFilter` at QoS 1 and resolves once the SUBACK arrived. */
export async function collectEvents(url: string, topicFilter = '#', opts: CollectOptions = {}): Promise<Collector> {
  const protocolVersion = opts.protocolVersion ?? 5
  const clientOpts: IClientOptions = {
    protocolVersion,
    clean: !opts.persistentSession,
    ...(opts.persistentSession && protocolVersion === 5 ? { properties: { sessionExpiryInterval: 3600 } } : {}),
    reconnectPeriod: 100,
    resubscribe: false, // subscribed explicitly on every connect, so ready() knows when it is done
    clientId: opts.clientId ?? `collector-${Math.random().toString(16).slice(2, 10)}`,
  }
  const client: MqttClient = connect(url, clientOpts)
  const messages: ReceivedMessage[] = []
  const events: ReceivedEvent[] = []
  const errors: Collector['errors'] = []
  const waiters = new Set<() => void>()
  let subscribed = false
  const readyWaiters = new Set<() => void>()

  client.on('error', () => {}) // reconnects on its own; errors surface as timeouts in waitFor
  client.on('close', () => (subscribed = false))
  client.on('connect', () => {
    client.subscribe(topicFilter, { qos: 1 }, (err) => {
      if (err) return void errors.push({ topic: topicFilter, error: `subscribe failed: ${err.message}` })
      subscribed = true
      for (const w of [...readyWaiters]) w()
    })
  })
  client.on('message', (topic, payload, packet) => {
    record(topic, payload, packet, { messages, events, errors })
    for (const w of [...waiters]) w()
  })

  const collector: Collector = {
    messages,
    events,
    errors,
    countBySource: () => {
      const m = new Map<string, number>()
      for (const e of events) m.set(e.source, (m.get(e.source) ?? 0) + 1)
      return m
    },
    verdict: (expected) => sequenceVerdict(events, expected),
    waitFor: (predicate, timeoutMs = 15_000) =>
      new Promise<void>((resolve, reject) => {
        const check = (): void => {
          if (!predicate(collector)) return
          clearTimeout(timer)
          waiters.delete(check)
          resolve()
        }
        const timer = setTimeout(() => {
          waiters.delete(check)
          const counts = JSON.stringify(Object.fromEntries(collector.countBySource()))
          reject(new Error(`collector: condition not met within ${timeoutMs} ms; ${events.length} events so far ${counts}; errors: ${JSON.stringify(errors)}`))
        }, timeoutMs)
        waiters.add(check)
        check()
      }),
    ready: () =>
      subscribed && client.connected
        ? Promise.resolve()
        : new Promise<void>((resolve) => {
            const w = (): void => {
              readyWaiters.delete(w)
              resolve()
            }
            readyWaiters.add(w)
          }),
    close: async () => {
      await client.endAsync(true)
    },
  }
  await collector.ready()
  return collector
}

interface Sink {
  messages: ReceivedMessage[]
  events: ReceivedEvent[]
  errors: Collector['errors']
}

function record(topic: string, payload: Buffer, packet: IPublishPacket, sink: Sink): void {
  const contentType = packet.properties?.contentType
  const userProperties = packet.properties?.userProperties
  const mode = modeOf(contentType, userProperties, payload)
  let decoded: Record<string, unknown>[]
  try {
    decoded = decode(mode, contentType, userProperties, payload)
  } catch (err) {
    sink.errors.push({ topic, error: `${mode}: ${(err as Error).message}` })
    return
  }
  sink.messages.push({ topic, mode, contentType, userProperties, payload, eventCount: decoded.length })
  for (const event of decoded) {
    sink.events.push({ topic, mode, event, source: String(event.source), id: String(event.id), sequence: parseSequence(event.sequence) })
  }
}

function modeOf(contentType: string | undefined, userProps: Record<string, unknown> | undefined, payload: Buffer): ReceivedMode {
  if (contentType?.startsWith('application/cloudevents-batch')) return 'batch'
  if (contentType?.startsWith('application/cloudevents')) return 'structured'
  if (userProps && 'specversion' in userProps) return 'binary'
  const first = payload.toString('utf8', 0, Math.min(payload.length, 64)).trimStart()[0]
  return first === '[' ? 'batch' : 'structured'
}

function one(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v
}

function decode(
  mode: ReceivedMode,
  contentType: string | undefined,
  userProps: Record<string, string | string[]> | undefined,
  payload: Buffer,
): Record<string, unknown>[] {
  if (mode === 'batch') {
    const arr = JSON.parse(payload.toString('utf8')) as unknown
    if (!Array.isArray(arr)) throw new Error('batch payload is not a JSON array')
    return arr as Record<string, unknown>[]
  }
  if (mode === 'structured') return [JSON.parse(payload.toString('utf8')) as Record<string, unknown>]
  // Binary (binding §3.1): attributes from User Properties, data from the payload.
  const event: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(userProps ?? {})) event[k] = one(v)
  if (payload.length > 0) {
    const media = (contentType ?? 'application/json').split(';')[0]!.trim().toLowerCase()
    const sub = media.slice(media.indexOf('/') + 1)
    if (sub === 'json' || sub.endsWith('+json')) event.data = JSON.parse(payload.toString('utf8'))
    else if (media.startsWith('text/')) event.data = payload.toString('utf8')
    else event.data_base64 = payload.toString('base64')
  }
  return [event]
}
