/**
 * The aedes hooks that make a plain MQTT 3.1.1 broker a durable ingress.
 *
 * Ack contract (the point of this module): aedes handles a QoS 1 PUBLISH as
 * `authorizePublish(client, packet, cb)` → PUBACK → deliver to subscribers (lib/handlers/publish.js).
 * We call `cb` only after `sink.push` resolved AND the receipt's `durable` reported the reading
 * committed, so the PUBACK leaves only once the reading is on disk; until then the sensor keeps
 * the message and retransmits it after a reconnect. While a callback is outstanding aedes reads
 * no further bytes from that socket, so a slow store also backpressures the sensor over TCP.
 * (The `published` hook runs after the PUBACK was written, too late for this.)
 *
 * Per client, pushes and callbacks are chained so readings enter the sink and PUBACKs leave in
 * the order the PUBLISHes arrived (MQTT-4.6.0-2), while commits of consecutive messages overlap.
 *
 * Refusals:
 *  - Content that can never succeed (forbidden or unmapped topic, oversize, not JSON, or a
 *    reading ingest refuses to make a CloudEvent of) is counted, not stored, and then
 *    ACKNOWLEDGED: MQTT-3.3.5-2 lets a 3.1.1 server either ack a publish it does not authorise or
 *    close the connection. Closing would make the sensor resend the same poison message on every
 *    reconnect and starve its valid traffic; Mosquitto acks for the same reason.
 *  - A reading the store did not commit (store full with `reject_new`, disk error, gateway
 *    stopping) is NOT acknowledged: 3.1.1 has no negative PUBACK, so we close the connection and
 *    the sensor retransmits after reconnecting, by which time the store may have room.
 */
import { Aedes, type AuthenticateError, type Client, type PublishPacket } from 'aedes'
import type { Logger } from '../../gateway/core/observability.js'
import type { Reading, ReadingSink } from '../../gateway/core/types.js'
import type { DeviceDirectory, KnownDevice } from './device-directory.js'
import type { TopicMap } from './topic-map.js'
import { parseJsonPayload } from './payload.js'
import type { RejectLog } from '../../gateway/core/reject-log.js'

export interface IngressBrokerOptions {
  sourceId: string
  sink: ReadingSink
  directory: DeviceDirectory
  topicMap: TopicMap
  maxPayloadBytes: number
  allowAnonymous: boolean
  rejects: RejectLog
  log: Logger
}

type Verdict = { ok: true; reading: Reading } | { ok: false; reason: string; message: string }
interface Chain {
  pushed: Promise<void>
  acked: Promise<void>
}
const noop = (): void => {}

export class IngressBroker {
  private readonly devices = new WeakMap<Client, KnownDevice>()
  private readonly chains = new WeakMap<Client, Chain>()
  private stopping = false

  private constructor(
    private readonly opts: IngressBrokerOptions,
    readonly aedes: Aedes,
  ) {}

  /** Creates the aedes instance (in-memory persistence; nothing survives a restart but the store). */
  static async create(opts: IngressBrokerOptions): Promise<IngressBroker> {
    // The hooks need `this`, and aedes wants them at construction: bind through a holder.
    let self: IngressBroker | undefined
    const aedes = await Aedes.createBroker({
      authenticate: (c, u, p, cb) => self!.authenticate(c, u, p, cb),
      authorizePublish: (c, p, cb) => self!.authorizePublish(c, p, cb),
      // The ingress is not a general broker: sensors publish, nobody subscribes (SUBACK 0x80).
      authorizeSubscribe: (_c, _sub, cb) => cb(null, null),
    })
    self = new IngressBroker(opts, aedes)
    aedes.on('clientError', (client, err) => opts.log.debug({ err, clientId: client.id }, 'mqtt client closed on error'))
    aedes.on('connectionError', (_client, err) => opts.log.debug({ err }, 'mqtt connection failed before CONNECT'))
    return self
  }

  get connectedClients(): number {
    return this.aedes.connectedClients ?? 0
  }

  /** Refuses new work, then closes every client. Resolves when aedes is closed. */
  close(): Promise<void> {
    this.stopping = true
    return new Promise((resolve) => this.aedes.close(() => resolve()))
  }

  private authenticate(
    client: Client,
    username: string | undefined,
    password: Buffer | undefined,
    cb: (error: AuthenticateError | null, success: boolean | null) => void,
  ): void {
    if (username === undefined && this.opts.allowAnonymous) return cb(null, true)
    const device = this.opts.directory.verify(username, password)
    if (!device) {
      const remote = (client.conn as { remoteAddress?: string }).remoteAddress
      this.opts.rejects.reject('auth_failed', { username: username?.slice(0, 64), remote }, 'MQTT CONNECT refused: bad username or password')
      // CONNACK return code 4 "bad user name or password", 5 "not authorized" (MQTT 3.1.1 table 3.1).
      const err = Object.assign(new Error('bad username or password'), { returnCode: username === undefined ? 5 : 4 })
      return cb(err as AuthenticateError, null)
    }
    this.devices.set(client, device)
    cb(null, true)
  }

  private authorizePublish(client: Client | null, packet: PublishPacket, cb: (error?: Error | null) => void): void {
    // A will published after its client is gone has nobody to attribute it to: let it go nowhere.
    if (!client) return cb(null)
    if (this.stopping) return cb(new Error('ingress stopping'))
    // Retained messages would live in aedes' memory, one per topic, unbounded: we never retain.
    packet.retain = false
    const verdict = this.classify(client, packet)
    const chain = this.chains.get(client) ?? { pushed: Promise.resolve(), acked: Promise.resolve() }
    this.chains.set(client, chain)
    let outcome: Promise<Error | null>
    if (!verdict.ok) {
      const size = typeof packet.payload === 'string' ? Buffer.byteLength(packet.payload) : packet.payload.length
      this.opts.rejects.reject(verdict.reason, { clientId: client.id, topic: packet.topic.slice(0, 128), bytes: size }, verdict.message)
      outcome = Promise.resolve(null) // acknowledged and dropped, see module comment
    } else {
      outcome = this.store(chain, verdict.reading, packet.qos)
    }
    // PUBACKs in arrival order: wait for the previous message's callback too.
    chain.acked = Promise.all([chain.acked, outcome]).then(([, err]) => {
      try {
        cb(err)
      } catch (e) {
        this.opts.log.error({ err: e }, 'aedes publish callback threw')
      }
    })
  }

  /** Pushes in order; resolves with null once durable (QoS 0: once pushed) or with the failure. */
  private store(chain: Chain, reading: Reading, qos: number): Promise<Error | null> {
    const { sink, sourceId, rejects } = this.opts
    const pushed = chain.pushed.then(() => sink.push(sourceId, [reading]))
    chain.pushed = pushed.then(noop, noop)
    const fail = (reason: string, err: unknown, message: string): Error => {
      rejects.reject(reason, { deviceId: reading.deviceId, err }, message)
      return err instanceof Error ? err : new Error(message)
    }
    return pushed.then(
      (receipt) => {
        const durable = receipt.durable.then(
          (o) => {
            if (o.accepted > 0 && !o.error) return null
            // Refused for its content (ingest counted it): acked and dropped like a malformed
            // payload, since a retransmission would be refused again, forever. (One reading per
            // push, so `invalid` and `lost` cannot both be set; `lost` wins to be safe.)
            if (o.invalid > 0 && o.lost === 0) return null
            // Not stored because the store is full, by its whenFull policy: the store counted it
            // under its drop reason (`dropped{store_full_rejected}`; under drop_oldest, a reading
            // among the oldest of a commit that newer readings alone fill the store with is
            // `store_full_oldest`). Not acked, so the sensor keeps it and retransmits once there
            // may be room; not counted again here as not_durable.
            if (o.lost === 0) {
              rejects.logUncounted('store_full', { code: 'GW_ERR_STORE_FULL', deviceId: reading.deviceId },
                'reading not stored: the store is full (counted in edge_gateway_events_dropped_total); closing the sensor connection so it retransmits')
              return new Error('store full')
            }
            return fail('not_durable', o.error, 'reading not stored; closing the sensor connection so it retransmits')
          },
          (err: unknown) => fail('not_durable', err, 'reading not stored'),
        )
        // QoS 0 has no ack to hold back; the outcome is still counted and logged.
        return qos === 0 ? null : durable
      },
      (err: unknown) => fail('sink_closed', err, 'reading not accepted: gateway stopping'),
    )
  }

  private classify(client: Client, packet: PublishPacket): Verdict {
    const device = this.devices.get(client)
    const topic = packet.topic
    if (device && !device.mayPublish(topic)) {
      return { ok: false, reason: 'forbidden_topic', message: `device "${device.username}" may not publish to this topic` }
    }
    const mapped = this.opts.topicMap.resolve(topic, {
      username: device?.username,
      fallbackDeviceId: device?.deviceId ?? client.id,
    })
    if (!mapped.ok) return { ok: false, reason: 'unmapped_topic', message: mapped.message }
    const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload
    const parsed = parseJsonPayload(payload, this.opts.maxPayloadBytes)
    if (!parsed.ok) return { ok: false, reason: parsed.reason, message: parsed.message }
    return {
      ok: true,
      reading: {
        deviceId: mapped.deviceId,
        kind: mapped.kind,
        priority: mapped.priority,
        // Receive time: sensor clocks (ESP32 without NTP) cannot be trusted.
        timeMs: Date.now(),
        data: parsed.data,
      },
    }
  }
}
