/**
 * N simulated ESP32 sensors (firmware-sim/esp32-publisher.ts) publishing to the gateway's MQTT
 * ingress at a total rate, for `edge-gateway simulate mqtt|fleet` and the demo.
 *
 * Each device is its own MQTT 3.1.1 connection with its own client id (from its MAC) and publishes
 * JSON at QoS 1. A publish counts as `acked` when its PUBACK arrived, which the ingress sends only
 * once the reading is on disk: `acked` is what the gateway durably accepted.
 *
 * Devices take turns (strict round-robin), so each sends the same share at the same rate.
 * Bounded: at most `maxInFlight` unacknowledged publishes per device (esp-mqtt's outbox is bounded
 * too). When the next device is at its bound the fleet waits for its PUBACK, so a gateway that
 * cannot keep up shows as a lower achieved rate, never as an unbounded queue in this process.
 * After a lost connection mqtt.js reconnects every `reconnectPeriodMs`; publishes that fail are
 * counted `failed` and not retried (a sensor would send a fresh reading next period).
 */
import { Esp32Publisher } from './esp32-publisher.js'
import { pace } from './pacer.js'

export interface Esp32FleetOptions {
  /** Ingress URL, e.g. `mqtt://127.0.0.1:1883`. */
  url: string
  /** CONNECT username; `{n}` is replaced by the device number (1-based). */
  username?: string
  /** CONNECT password; `{n}` is replaced by the device number. */
  password?: string
  /** Number of devices (connections), >= 1. */
  devices: number
  /** Topic; `{clientId}` is replaced. @default "sensors/{clientId}/env" */
  topic?: string
  /** Unacknowledged publishes per device. @default 1 (stop-and-wait, like most sensor firmware) */
  maxInFlight?: number
  /** Reconnect period after a lost connection, ms; 0 = give up. @default 1000 */
  reconnectPeriodMs?: number
  /** Connections opened at once while connecting. @default 32 */
  connectConcurrency?: number
}

export interface FleetStats {
  devices: number
  /** Publishes handed to mqtt.js. */
  published: number
  /** PUBACKs received: readings the gateway stored. */
  acked: number
  /** Publishes that failed (connection lost before the PUBACK). */
  failed: number
  inFlight: number
}

/** MAC of device n (1-based): an Espressif OUI and n in the last three bytes. */
export function fleetMac(n: number): string {
  const hex = n.toString(16).padStart(6, '0').slice(-6)
  return `24:0a:c4:${hex.slice(0, 2)}:${hex.slice(2, 4)}:${hex.slice(4, 6)}`
}

export class Esp32Fleet {
  private readonly perDevice: number[]
  private readonly window: number
  private published = 0
  private acked = 0
  private failed = 0
  private inFlight = 0
  private next = 0
  private slotWaiters: Array<() => void> = []

  private constructor(
    readonly publishers: Esp32Publisher[],
    private readonly maxInFlight: number,
  ) {
    this.perDevice = publishers.map(() => 0)
    this.window = publishers.length * maxInFlight
  }

  /**
   * Connects every device; rejects with the first connection error (e.g. ECONNREFUSED, or mqtt.js
   * `code: 5` not authorised) after closing the ones that did connect.
   */
  static async connect(opts: Esp32FleetOptions): Promise<Esp32Fleet> {
    if (!Number.isInteger(opts.devices) || opts.devices < 1) throw new RangeError(`devices must be a whole number >= 1, got ${opts.devices}`)
    const fill = (s: string | undefined, n: number): string | undefined => s?.replaceAll('{n}', String(n))
    const publishers: Esp32Publisher[] = []
    const concurrency = Math.max(1, opts.connectConcurrency ?? 32)
    try {
      for (let first = 1; first <= opts.devices; first += concurrency) {
        const batch = []
        for (let n = first; n < first + concurrency && n <= opts.devices; n++) {
          batch.push(
            Esp32Publisher.connect({
              url: opts.url,
              username: fill(opts.username, n),
              password: fill(opts.password, n),
              mac: fleetMac(n),
              topic: opts.topic,
              reconnectPeriodMs: opts.reconnectPeriodMs ?? 1000,
            }).then((p) => (publishers.push(p), p)),
          )
        }
        await Promise.all(batch)
      }
    } catch (err) {
      await Promise.all(publishers.map((p) => p.close().catch(() => {})))
      throw err
    }
    // Keep device order stable (1..N) whatever order the connections completed in.
    publishers.sort((x, y) => x.clientId.localeCompare(y.clientId))
    for (const p of publishers) p.client.on('error', () => {}) // reconnects on its own; failures are counted per publish
    return new Esp32Fleet(publishers, Math.max(1, opts.maxInFlight ?? 1))
  }

  stats(): FleetStats {
    return { devices: this.publishers.length, published: this.published, acked: this.acked, failed: this.failed, inFlight: this.inFlight }
  }

  /**
   * Publishes at `ratePerSec` in total, round-robin over the devices, until `total` were published
   * or `signal` aborts; then waits up to `drainTimeoutMs` (default 5000) for the outstanding
   * PUBACKs. Resolves with the stats; `inFlight` > 0 there means PUBACKs that never came.
   */
  async run(opts: { ratePerSec: number; total?: number; signal: AbortSignal; drainTimeoutMs?: number }): Promise<FleetStats> {
    const { signal } = opts
    // A fleet waiting for PUBACKs from a gateway that is gone must still stop when told to.
    const wake = (): void => this.wakeAll()
    signal.addEventListener('abort', wake, { once: true })
    try {
      await pace({ ...opts, maxBatch: Math.max(1, this.window) }, async (count) => {
        for (let i = 0; i < count && !signal.aborted; i++) await this.publishOne(signal)
      })
    } finally {
      signal.removeEventListener('abort', wake)
    }
    await this.drain(opts.drainTimeoutMs ?? 5000)
    return this.stats()
  }

  /** Resolves when no publish waits for its PUBACK, or after `timeoutMs`. */
  async drain(timeoutMs = Number.POSITIVE_INFINITY): Promise<void> {
    const deadline = performance.now() + timeoutMs
    while (this.inFlight > 0 && performance.now() < deadline) {
      await new Promise<void>((resolve) => {
        const timer = Number.isFinite(timeoutMs) ? setTimeout(resolve, Math.max(0, deadline - performance.now())) : undefined
        this.slotWaiters.push(() => (clearTimeout(timer), resolve()))
      })
    }
  }

  /**
   * Sends DISCONNECT on every connection; with publishes still unacknowledged (the gateway is
   * away) the connections are closed at once instead, since a clean end would wait for them.
   */
  async close(): Promise<void> {
    const force = this.inFlight > 0
    await Promise.all(this.publishers.map((p) => (force ? p.client.endAsync(true) : p.close()).catch(() => {})))
  }

  private wakeAll(): void {
    for (const wake of this.slotWaiters.splice(0)) wake()
  }

  /**
   * Publishes on the next device in strict round-robin order (so every device gets the same share
   * and rate), once that device has a free slot: backpressure from the gateway slows the fleet.
   */
  private async publishOne(signal: AbortSignal): Promise<void> {
    const d = this.next
    while (this.perDevice[d]! >= this.maxInFlight) {
      if (signal.aborted) return
      await new Promise<void>((resolve) => this.slotWaiters.push(resolve))
    }
    this.next = (d + 1) % this.publishers.length
    this.perDevice[d]!++
    this.inFlight++
    this.published++
    this.publishers[d]!.publishReading().then(
      () => this.acked++,
      () => this.failed++,
    ).finally(() => {
      this.perDevice[d]!--
      this.inFlight--
      this.wakeAll()
    })
  }
}
