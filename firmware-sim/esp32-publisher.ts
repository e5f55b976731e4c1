/**
 * A simulated ESP32 environment sensor speaking what such firmware really sends: MQTT 3.1.1
 * (esp-mqtt's default protocol), clean session, a client id derived from the Wi-Fi MAC, username
 * and password, and small JSON documents published at QoS 1.
 *
 * It uses mqtt.js as the wire implementation; what is "ESP32" here is the shape of the session and
 * of the payloads, which the ingress sees exactly as from real firmware.
 */
import { connectAsync, type IClientOptions, type MqttClient } from 'mqtt'

export interface Esp32PublisherOptions {
  /** Broker URL, e.g. `mqtt://127.0.0.1:1883`. */
  url: string
  username?: string
  password?: string
  /** Station MAC, `aa:bb:cc:dd:ee:ff`; the client id is `esp32-` + its last three bytes. @default "24:0a:c4:12:34:56" */
  mac?: string
  /** Topic for `publishReading`; `{clientId}` is replaced. @default "sensors/{clientId}/env" */
  topic?: string
  /** Seconds; esp-mqtt's default is 120, battery sensors often use less. @default 15 */
  keepaliveSec?: number
  /** Auto-reconnect period, ms; 0 disables (tests drive reconnects themselves). @default 0 */
  reconnectPeriodMs?: number
}

/** What the simulated sensor measures; serialised as the JSON payload. */
export interface Esp32EnvReading {
  temperature: number
  humidity: number
  battery_mv: number
  rssi: number
  uptime_s: number
  seq: number
}

export class Esp32Publisher {
  readonly clientId: string
  private seq = 0

  private constructor(
    readonly client: MqttClient,
    clientId: string,
    private readonly topic: string,
  ) {
    this.clientId = clientId
  }

  /** Connects; rejects with mqtt.js's error (e.g. `code: 4` bad username or password). */
  static async connect(opts: Esp32PublisherOptions): Promise<Esp32Publisher> {
    const mac = (opts.mac ?? '24:0a:c4:12:34:56').toLowerCase()
    const clientId = `esp32-${mac.split(':').slice(3).join('')}`
    const options: IClientOptions = {
      protocolVersion: 4,
      clientId,
      clean: true,
      keepalive: opts.keepaliveSec ?? 15,
      reconnectPeriod: opts.reconnectPeriodMs ?? 0,
      username: opts.username,
      password: opts.password,
    }
    const client = await connectAsync(opts.url, options)
    return new Esp32Publisher(client, clientId, (opts.topic ?? 'sensors/{clientId}/env').replace('{clientId}', clientId))
  }

  /** The next synthetic measurement (deterministic: a slow sine around 21 °C). */
  nextReading(): Esp32EnvReading {
    const seq = ++this.seq
    return {
      temperature: Math.round((21 + 2 * Math.sin(seq / 10)) * 100) / 100,
      humidity: Math.round((45 + 5 * Math.cos(seq / 7)) * 10) / 10,
      battery_mv: 3300 - (seq % 100),
      rssi: -60 - (seq % 15),
      uptime_s: seq * 30,
      seq,
    }
  }

  /** Publishes `reading` (or the next one) as JSON at QoS 1; resolves on PUBACK. */
  async publishReading(reading: Esp32EnvReading = this.nextReading()): Promise<Esp32EnvReading> {
    await this.client.publishAsync(this.topic, JSON.stringify(reading), { qos: 1 })
    return reading
  }

  /** Publishes arbitrary bytes (for malformed-input tests); resolves on PUBACK at QoS 1. */
  async publishRaw(topic: string, payload: string | Buffer, qos: 0 | 1 = 1): Promise<void> {
    await this.client.publishAsync(topic, payload, { qos })
  }

  /** Sends DISCONNECT and closes. */
  async close(): Promise<void> {
    await this.client.endAsync()
  }
}
