/**
 * One established MQTT connection: the mqtt.js client it runs on, the broker's limits from
 * CONNACK, and a FIFO send window.
 *
 * Design:
 * - One MqttConnection per network connection. The uplink creates a fresh mqtt.js client for
 *   every attempt (reconnectPeriod 0) and throws it away when the connection closes, so nothing
 *   from one connection (in-flight publishes, mqtt.js's in-memory outgoing store) is replayed on
 *   the next one. Our durable store is the only buffer; a failed send is retried from it.
 * - Window: a client MUST NOT have more unacknowledged QoS 1 PUBLISHes than the server's Receive
 *   Maximum (MQTT-4.9.0-2; CONNACK property, default 65,535, MQTT 5 §3.2.2.3.3). mqtt.js does not
 *   enforce it for outgoing publishes, so requests beyond it wait here, in FIFO order, which keeps
 *   the order in which one send() wrote its messages.
 * - Close: `close(err)` is idempotent. It fails queued requests and tells every listener (the
 *   sends in progress) with `err`, then ends the client hard. mqtt.js later calls the callbacks of
 *   written publishes with "Connection closed"; the sends have already settled by then.
 */
import type { IConnackPacket, MqttClient } from 'mqtt'
import type { UplinkError } from '../../core/errors.js'
import type { OutMessage } from './cloudevents-binding.js'
import { MQTT_MAX_PACKET_BYTES } from './packet-size.js'

/** One PUBLISH waiting for the window or for its PUBACK. */
export interface PublishRequest {
  message: OutMessage
  /** True once the owning send gave up; a request still queued is then dropped unsent. */
  cancelled(): boolean
  /**
   * Called at most once (never for a cancelled request dropped before it was written):
   * `undefined` = PUBACK < 0x80; an error with a numeric `code` = PUBACK >= 0x80 (mqtt.js
   * ErrorWithReasonCode); any other error = the connection is gone.
   */
  done(err: Error | undefined): void
}

const DEFAULT_RECEIVE_MAXIMUM = 65_535

export class MqttConnection {
  /** Largest PUBLISH this connection may carry: min(CONNACK Maximum Packet Size, config). */
  readonly maxPacketBytes: number
  /** Server Receive Maximum (MQTT 5) or 65,535 (MQTT 3.1.1: bounded by packet identifiers). */
  readonly receiveMaximum: number
  private free: number
  private queue: PublishRequest[] = []
  private head = 0
  private inFlight = 0
  private pumping = false
  private closedWith: UplinkError | undefined
  private readonly closeListeners = new Set<(err: UplinkError) => void>()
  private idleWaiters: Array<() => void> = []

  constructor(
    readonly client: MqttClient,
    connack: IConnackPacket | undefined,
    configuredMaxPacketBytes: number | undefined,
  ) {
    const props = connack?.properties
    // MQTT 5 §3.2.2.3.6: absent Maximum Packet Size means "no limit beyond the protocol's".
    this.maxPacketBytes = Math.min(configuredMaxPacketBytes ?? MQTT_MAX_PACKET_BYTES, props?.maximumPacketSize ?? MQTT_MAX_PACKET_BYTES)
    this.receiveMaximum = props?.receiveMaximum ?? DEFAULT_RECEIVE_MAXIMUM
    this.free = this.receiveMaximum
  }

  get closed(): boolean {
    return this.closedWith !== undefined
  }

  /** Publishes written but not yet acknowledged, plus those waiting for the window. */
  get pending(): number {
    return this.inFlight + (this.queue.length - this.head)
  }

  /** Queues one QoS 1 PUBLISH; written as soon as the window allows, in call order. */
  publish(req: PublishRequest): void {
    if (this.closedWith) return req.done(this.closedWith)
    this.queue.push(req)
    this.pump()
  }

  /** Registers `fn` for when the connection closes; returns the unsubscribe function. */
  onClose(fn: (err: UplinkError) => void): () => void {
    this.closeListeners.add(fn)
    return () => this.closeListeners.delete(fn)
  }

  /** Resolves when nothing is pending, or after `timeoutMs`; true when idle. */
  idle(timeoutMs: number): Promise<boolean> {
    if (this.pending === 0) return Promise.resolve(true)
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(this.pending === 0), timeoutMs)
      this.idleWaiters.push(() => {
        clearTimeout(timer)
        resolve(true)
      })
    })
  }

  /**
   * Marks the connection dead with `err` (first call wins), fails everything pending and ends
   * the client: gracefully (DISCONNECT, MQTT 5 §3.14) when `graceful` and idle, otherwise hard.
   */
  close(err: UplinkError, graceful = false): void {
    if (this.closedWith) return
    this.closedWith = err
    const queued = this.queue.slice(this.head)
    this.queue = []
    this.head = 0
    for (const req of queued) if (!req.cancelled()) req.done(err)
    for (const fn of [...this.closeListeners]) fn(err)
    this.closeListeners.clear()
    this.client.end(!(graceful && this.inFlight === 0))
  }

  private pump(): void {
    if (this.pumping) return // re-entered from a synchronous mqtt.js callback; the loop continues
    this.pumping = true
    try {
      while (this.free > 0 && this.head < this.queue.length && !this.closedWith) {
        const req = this.queue[this.head++]!
        if (req.cancelled()) continue
        this.write(req)
      }
      if (this.head === this.queue.length) {
        this.queue = []
        this.head = 0
      }
    } finally {
      this.pumping = false
    }
    this.notifyIdle()
  }

  private write(req: PublishRequest): void {
    const { topic, payload, properties } = req.message
    this.free--
    this.inFlight++
    // qos 1: mqtt.js calls back on PUBACK (handlers/ack.ts), with ErrorWithReasonCode for codes
    // >= 0x80 except 0x10, or with "Connection closed" when the client is ended.
    let answered = false
    const onAnswer = (err: Error | undefined): void => {
      if (answered) return
      answered = true
      this.free++
      this.inFlight--
      req.done(err)
      if (!this.closedWith) this.pump()
      else this.notifyIdle()
    }
    try {
      this.client.publish(topic, payload, { qos: 1, properties }, (err) => onAnswer(err ?? undefined))
    } catch (err) {
      // mqtt.js does not throw for a valid topic/payload; if it ever does, fail this message
      // (as a connection-level error: retriable) instead of leaking a window slot.
      onAnswer(err instanceof Error ? err : new Error(String(err)))
    }
  }

  private notifyIdle(): void {
    if (this.pending !== 0 || this.idleWaiters.length === 0) return
    const waiters = this.idleWaiters
    this.idleWaiters = []
    for (const w of waiters) w()
  }
}
