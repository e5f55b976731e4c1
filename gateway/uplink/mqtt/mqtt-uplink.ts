/**
 * MQTT uplink: CloudEvents to an MQTT 5 or 3.1.1 broker at QoS 1.
 *
 * What "confirmed" means: send() resolves only when every PUBLISH of the batch got a PUBACK with
 * reason code < 0x80 (0x10 "no matching subscribers" is success, MQTT 5 §3.4.2.1), except the
 * entries it returns in `rejected` (refused permanently by the broker, or too large / not
 * encodable, decided locally without sending). The forwarder deletes on that; nothing else here
 * holds events: while disconnected send() rejects at once (retriable `disconnected`) instead of
 * queueing in mqtt.js memory, so the durable store stays the only buffer and a crash loses nothing.
 *
 * Connections: start() returns at once; a loop connects in the background, one fresh mqtt.js
 * client per attempt (see client-options.ts, connection.ts), waiting a full-jitter exponential
 * backoff (250 ms doubling up to reconnectMaxMs) between attempts. The backoff is reset only
 * after a connection stayed up for STABLE_CONNECTION_MS, so a broker that accepts and then
 * immediately drops us (client-id takeover, ACL kick) is not hammered.
 *
 * MQTT 3.1.1 has no PUBACK reason codes: a refused or oversize publish makes the broker close the
 * connection, which surfaces as a retriable `disconnected`. Set `maxPacketBytes` for such brokers
 * so oversize events are rejected locally instead of being retried forever.
 */
import { connect as mqttConnect, type IClientOptions, type IConnackPacket, type MqttClient } from 'mqtt'
import { sleep } from '../../core/abort.js'
import { Backoff } from '../../core/backoff.js'
import type { Logger } from '../../core/observability.js'
import type { Entry, SendResult, Uplink, UplinkBatchLimits, UplinkHealth } from '../../core/types.js'
import { encodeEntries } from './cloudevents-binding.js'
import { abortedError, describeConnectionError, disconnectedError, stoppedError } from './classify-error.js'
import { buildClientOptions, readTlsMaterial, redactUrl, type ReadFile, type TlsMaterial } from './client-options.js'
import type { MqttUplinkConfig } from './config.js'
import { MqttConnection } from './connection.js'
import { ConnectionSignal, settlesWithin, type ConnectionListener } from './connection-signal.js'
import { MQTT_MAX_PACKET_BYTES } from './packet-size.js'
import { publishAll, type SendHooks } from './send-operation.js'
import { compileTopicTemplate, type TopicTemplate } from './topic-template.js'
import { UplinkCounters, type MqttUplinkStats } from './uplink-counters.js'

/** A connection must stay up this long before the reconnect backoff starts again from 250 ms. */
export const STABLE_CONNECTION_MS = 5_000
const RECONNECT_INITIAL_MS = 250

export interface MqttUplinkDeps {
  gatewayId: string
  log: Logger
  /** Reads TLS files at start(). @default fs/promises readFile */
  readFile?: ReadFile
  /** Randomness for the reconnect jitter, in [0, 1). @default Math.random */
  random?: () => number
  /** Creates the mqtt.js client for one attempt (tests may wrap it). @default mqtt.connect */
  connect?: (url: string, opts: IClientOptions) => MqttClient
}

/** The `mqtt` uplink; see the module comment for delivery semantics. Construct, then start(). */
export class MqttUplink implements Uplink {
  readonly id: string
  readonly type = 'mqtt'
  readonly limits: UplinkBatchLimits
  private readonly log: Logger
  private readonly template: TopicTemplate
  private readonly counters = new UplinkCounters()
  private readonly signal = new ConnectionSignal()
  private readonly url: string
  private conn: MqttConnection | undefined
  private client: MqttClient | undefined
  private stopController: AbortController | undefined
  private loop: Promise<void> | undefined
  private lastError: string | undefined
  /** Lowered when a broker refuses a multi-event batch message with 0x95; see SendHooks. */
  private learnedMaxPacketBytes = MQTT_MAX_PACKET_BYTES

  /** Only assigns; nothing connects before start(). */
  constructor(
    private readonly config: MqttUplinkConfig,
    private readonly deps: MqttUplinkDeps,
  ) {
    this.id = config.id
    this.limits = { maxEvents: config.maxEvents, maxBytes: config.maxBytes, lingerMs: config.lingerMs, maxInFlight: config.maxInFlight }
    this.template = compileTopicTemplate(config.topic)
    this.url = redactUrl(config.url)
    this.log = deps.log.child({ component: 'mqtt-uplink', uplink: config.id })
  }

  /**
   * Reads the TLS files, then starts connecting in the background and returns. Never throws for
   * an unreachable broker; throws GatewayError `GW_ERR_CONFIG` if a TLS file cannot be read.
   */
  async start(): Promise<void> {
    if (this.stopController && !this.stopController.signal.aborted) return
    const controller = new AbortController()
    this.stopController = controller // set before the first await: a concurrent stop() sees it
    this.lastError = 'connecting'
    let tls: TlsMaterial
    try {
      tls = await readTlsMaterial(this.config.tls, this.deps.readFile)
    } catch (err) {
      controller.abort()
      this.lastError = (err as Error).message
      throw err
    }
    if (controller.signal.aborted) return
    this.loop = this.connectLoop(tls, controller.signal).catch((err: unknown) => {
      this.log.error({ err }, 'mqtt uplink connection loop failed')
    })
  }

  /**
   * Stops reconnecting; gives outstanding PUBACKs up to `stopGraceMs`, then closes the connection
   * (DISCONNECT when idle, hard otherwise). Sends still outstanding reject with retriable `stopped`.
   */
  async stop(): Promise<void> {
    const controller = this.stopController
    if (!controller || controller.signal.aborted) return
    controller.abort()
    const conn = this.conn
    if (conn && !conn.closed) {
      await conn.idle(this.config.stopGraceMs)
      conn.close(stoppedError(), true)
    }
    this.client?.end(true)
    // A graceful DISCONNECT needs the broker to close its side; do not wait forever for that.
    if (!(await settlesWithin(this.loop, this.config.stopGraceMs + 1_000))) this.client?.stream?.destroy()
    await this.loop
    this.lastError = 'stopped'
  }

  /**
   * Publishes `batch` (see the module comment for what resolving means). Rejects with a retriable
   * UplinkError: `disconnected` (at once when not connected, or the connection dropped
   * mid-batch), `ack_timeout`, `aborted`, `stopped`, `server_busy`/`quota_exceeded` (PUBACK).
   * Per-entry permanent failures (`packet_too_large`, `not_authorized`, `topic_name_invalid`,
   * `payload_format_invalid`, `invalid_event`) are returned in `rejected`.
   */
  async send(batch: Entry[], signal: AbortSignal): Promise<SendResult> {
    if (!this.stopController || this.stopController.signal.aborted) throw stoppedError()
    const conn = this.conn
    if (!conn || conn.closed) throw disconnectedError(this.lastError ?? 'not connected')
    if (signal.aborted) throw abortedError(signal.reason)
    const encoded = encodeEntries(batch, {
      mode: this.config.mode,
      protocolVersion: this.config.protocolVersion,
      template: this.template,
      maxEvents: this.config.maxEvents,
      maxBytes: this.config.maxBytes,
      maxPacketBytes: Math.min(conn.maxPacketBytes, this.learnedMaxPacketBytes),
    })
    this.counters.countRejected(encoded.rejected)
    const refused = await publishAll(conn, encoded.messages, signal, { ackTimeoutMs: this.config.ackTimeoutMs, hooks: this.hooks })
    this.counters.countRejected(refused)
    const rejected = encoded.rejected.concat(refused)
    if (rejected.length > 0) {
      const reasons = this.counters.summarize(rejected)
      this.log.warn({ rejected: rejected.length, reasons, batch: batch.length }, 'mqtt uplink: events rejected')
    }
    return { rejected }
  }

  /** `detail` says why when not connected, e.g. "connection refused (ECONNREFUSED)". */
  health(): UplinkHealth {
    if (this.conn && !this.conn.closed) return { connected: true }
    return { connected: false, detail: this.stopController ? (this.lastError ?? 'connecting') : 'not started' }
  }

  /** Counters for metrics; cheap to call. */
  stats(): MqttUplinkStats {
    return this.counters.snapshot(this.health().connected)
  }

  /** Registers a listener for connection changes; returns the unsubscribe function. */
  onConnectionChange(listener: ConnectionListener): () => void {
    return this.signal.on(listener)
  }

  /**
   * Resolves once connected (at once if already). Rejects with retriable `stopped` if the uplink
   * is not started or stops first, or with `aborted` when `signal` aborts.
   */
  whenConnected(signal?: AbortSignal): Promise<void> {
    if (this.health().connected) return Promise.resolve()
    return this.signal.nextUp(this.stopController?.signal, signal)
  }

  private readonly hooks: SendHooks = {
    published: () => this.counters.publishes++,
    refused: (_message, verdict) => {
      this.counters.pubackErrors++
      this.log.debug({ reason: verdict.reason }, verdict.message)
    },
    ackTimedOut: () => {
      this.counters.ackTimeouts++
      this.lastError = `no PUBACK within ${this.config.ackTimeoutMs} ms`
      this.log.warn({ ackTimeoutMs: this.config.ackTimeoutMs }, 'mqtt uplink: no PUBACK in time, reconnecting')
    },
    batchTooLarge: (message) => {
      this.learnedMaxPacketBytes = Math.max(256, Math.floor(message.packetBytes / 2))
      this.log.warn({ maxPacketBytes: this.learnedMaxPacketBytes }, 'mqtt uplink: broker refused a batch as too large; splitting smaller')
    },
  }

  private async connectLoop(tls: TlsMaterial, signal: AbortSignal): Promise<void> {
    const backoff = new Backoff({ initialMs: RECONNECT_INITIAL_MS, maxMs: this.config.reconnectMaxMs, random: this.deps.random })
    const options = buildClientOptions(this.config, this.deps.gatewayId, tls)
    while (!signal.aborted) {
      const upForMs = await this.connectOnce(options, signal)
      if (signal.aborted) break
      if (upForMs >= STABLE_CONNECTION_MS) backoff.reset()
      const waitMs = backoff.next()
      this.log.debug({ waitMs, attempt: backoff.attempts }, 'mqtt uplink: reconnecting after backoff')
      await sleep(waitMs, signal)
    }
  }

  /** One connection attempt; resolves when it is over, with how long it was up (0: never). */
  private connectOnce(options: IClientOptions, signal: AbortSignal): Promise<number> {
    return new Promise((resolve) => {
      let client: MqttClient
      try {
        client = (this.deps.connect ?? mqttConnect)(this.config.url, options)
      } catch (err) {
        this.recordError(err)
        this.counters.connectFailures++
        return resolve(0)
      }
      this.client = client
      let connectedAt = 0
      client.on('error', (err) => this.recordError(err))
      client.on('disconnect', (packet) => {
        this.recordError(new Error(`broker sent DISCONNECT (reason 0x${(packet.reasonCode ?? 0).toString(16)})`))
      })
      client.on('connect', (connack: IConnackPacket) => {
        if (signal.aborted) return void client.end(true)
        connectedAt = Date.now()
        this.onConnected(new MqttConnection(client, connack, this.config.maxPacketBytes))
      })
      client.once('close', () => {
        const conn = this.conn
        if (conn?.client === client) {
          this.conn = undefined
          conn.close(signal.aborted ? stoppedError() : disconnectedError(this.lastError ?? 'connection closed'))
          if (signal.aborted) this.notify(false)
          else this.onLost()
        } else {
          this.counters.connectFailures++
          client.end(true)
        }
        if (this.client === client) this.client = undefined
        resolve(connectedAt === 0 ? 0 : Date.now() - connectedAt)
      })
    })
  }

  private onConnected(conn: MqttConnection): void {
    this.conn = conn
    this.lastError = undefined
    this.counters.connects++
    this.log.info(
      { url: this.url, protocolVersion: this.config.protocolVersion, maxPacketBytes: conn.maxPacketBytes, receiveMaximum: conn.receiveMaximum },
      'mqtt uplink connected',
    )
    this.notify(true)
  }

  private onLost(): void {
    this.counters.disconnects++
    this.log.warn({ url: this.url, detail: this.lastError }, 'mqtt uplink disconnected')
    this.notify(false)
  }

  /** Remembers the error for health(); logs it once per distinct message (rate limit by dedupe). */
  private recordError(err: unknown): void {
    const detail = describeConnectionError(err)
    if (detail !== this.lastError) this.log.warn({ url: this.url, detail }, 'mqtt uplink connection problem')
    this.lastError = detail
  }

  private notify(connected: boolean): void {
    this.signal.emit(connected)
  }
}
