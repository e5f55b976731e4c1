/**
 * The MQTT ingress against real MQTT 3.1.1 clients (mqtt.js, protocolVersion 4) on loopback,
 * port 0. The sink is a fake whose commit (`durable`) the test controls, so "PUBACK only after
 * durable" is observed from the client side.
 */
import net from 'node:net'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { connectAsync, type IClientOptions, type MqttClient } from 'mqtt'
import type { AppendOutcome, IngestReceipt, Reading, ReadingSink } from '../gateway/core/types.js'
import { RecordingCounters, silentLogger } from '../gateway/core/observability.js'
import { MqttIngressSource, mqttIngressSourceSchema } from '../drivers/mqtt-ingress/index.js'
import { Esp32Publisher } from '../firmware-sim/esp32-publisher.js'

interface Deferred<T> {
  promise: Promise<T>
  resolve(v: T): void
}
function deferred<T>(): Deferred<T> {
  let resolve!: (v: T) => void
  const promise = new Promise<T>((r) => (resolve = r))
  return { promise, resolve }
}

/** A sink whose commits resolve at once, unless `hold` says to keep them for the test to release. */
class ControlledSink implements ReadingSink {
  readonly readings: Reading[] = []
  readonly held: Array<Deferred<AppendOutcome>> = []
  hold: (r: Reading) => boolean = () => false
  private waiters: Array<{ n: number; resolve: () => void }> = []

  async push(_sourceId: string, readings: Reading[]): Promise<IngestReceipt> {
    this.readings.push(...readings)
    this.waiters = this.waiters.filter((w) => (this.readings.length >= w.n ? (w.resolve(), false) : true))
    if (!readings.some((r) => this.hold(r))) return { durable: Promise.resolve({ accepted: readings.length, dropped: 0, lost: 0, invalid: 0 }) }
    const d = deferred<AppendOutcome>()
    this.held.push(d)
    return { durable: d.promise }
  }

  /** Resolves when `n` readings have been pushed in total. */
  async pushed(n: number): Promise<Reading[]> {
    if (this.readings.length < n) await new Promise<void>((resolve) => this.waiters.push({ n, resolve }))
    return this.readings
  }
}

const DEVICES = [
  { username: 'esp32-a1', password: 'correct horse', topics: ['sensors/esp32-a1/#'] },
  { username: 'door', password: 'battery staple', deviceId: 'front-door', topics: ['doorbell/front'] },
]
const TOPIC_MAP = [
  { pattern: 'sensors/+/env', deviceId: '{1}', kind: 'environment' },
  { pattern: 'doorbell/+', kind: 'doorbell.press', priority: 'alert' },
]

let source: MqttIngressSource
let sink: ControlledSink
let counters: RecordingCounters
let ac: AbortController
let running: Promise<void>
let url: string
const clients: MqttClient[] = []

beforeEach(async () => {
  const config = mqttIngressSourceSchema.parse({
    type: 'mqtt',
    id: 'lan-sensors',
    listen: '127.0.0.1:0',
    devices: DEVICES,
    topicMap: TOPIC_MAP,
    maxPayloadBytes: 1024,
  })
  counters = new RecordingCounters()
  source = new MqttIngressSource(config, { log: silentLogger, counters })
  sink = new ControlledSink()
  ac = new AbortController()
  running = source.run(sink, ac.signal)
  expect((await source.ready()).state).toBe('running')
  url = `mqtt://127.0.0.1:${source.address()!.port}`
})

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.endAsync(true)))
  ac.abort()
  await running
})

async function connect(username: string, password: string, extra: IClientOptions = {}): Promise<MqttClient> {
  const c = await connectAsync(url, { protocolVersion: 4, reconnectPeriod: 0, username, password, ...extra })
  clients.push(c)
  return c
}
const sensor = () => connect('esp32-a1', 'correct horse')
const json = (v: unknown) => JSON.stringify(v)
const count = (reason: string) => counters.get('lan-sensors', reason)

/** Records every PUBACK a client receives, by message id. */
function pubacks(c: MqttClient): number[] {
  const ids: number[] = []
  c.on('packetreceive', (p) => {
    if (p.cmd === 'puback') ids.push(p.messageId!)
  })
  return ids
}

describe('MQTT ingress: accepted traffic', () => {
  it('a valid publish becomes a reading with the mapped device id, kind and priority', async () => {
    const c = await sensor()
    await c.publishAsync('sensors/esp32-a1/env', json({ temperature: 21.5, humidity: 40 }), { qos: 1 })
    expect(sink.readings).toEqual([
      { deviceId: 'esp32-a1', kind: 'environment', priority: 'telemetry', timeMs: expect.any(Number), data: { temperature: 21.5, humidity: 40 } },
    ])
    const door = await connect('door', 'battery staple')
    await door.publishAsync('doorbell/front', json({ pressed: true }), { qos: 1 })
    expect(sink.readings[1]).toMatchObject({ deviceId: 'front-door', kind: 'doorbell.press', priority: 'alert' })
    expect(source.health()).toEqual({ state: 'running', detail: expect.stringMatching(/^listening on 127\.0\.0\.1:\d+, 2 client\(s\)$/) })
  })

  it('the simulated ESP32 publisher is accepted end to end', async () => {
    const esp = await Esp32Publisher.connect({ url, username: 'esp32-a1', password: 'correct horse', mac: '24:0a:c4:00:a1:01', topic: 'sensors/esp32-a1/env' })
    const sent = await esp.publishReading()
    await esp.close()
    expect(esp.clientId).toBe('esp32-00a101')
    expect(sink.readings[0]).toMatchObject({ deviceId: 'esp32-a1', data: sent })
  })

  it('QoS 0 publishes are stored too', async () => {
    const c = await sensor()
    c.publish('sensors/esp32-a1/env', json({ t: 1 }), { qos: 0 })
    expect((await sink.pushed(1))[0]!.data).toEqual({ t: 1 })
  })

  it('keeps the order of one sensor’s publishes', async () => {
    const c = await sensor()
    await Promise.all(Array.from({ length: 50 }, (_, i) => c.publishAsync('sensors/esp32-a1/env', json({ i }), { qos: 1 })))
    expect(sink.readings.map((r) => (r.data as { i: number }).i)).toEqual(Array.from({ length: 50 }, (_, i) => i))
  })
})

describe('MQTT ingress: PUBACK only after durable', () => {
  it('the client is not acked until the store commit resolves, and acks keep arrival order', async () => {
    sink.hold = (r) => r.deviceId === 'esp32-a1'
    const a = await sensor()
    const acked = pubacks(a)
    let firstDone = false
    const first = a.publishAsync('sensors/esp32-a1/env', json({ n: 1 }), { qos: 1 }).then(() => (firstDone = true))
    const second = a.publishAsync('sensors/esp32-a1/env', json({ n: 2 }), { qos: 1 })
    await sink.pushed(2)

    // Another sensor's traffic completes a full round trip meanwhile: the broker is not stuck,
    // it is holding a1's PUBACKs on purpose.
    const door = await connect('door', 'battery staple')
    await door.publishAsync('doorbell/front', json({ pressed: true }), { qos: 1 })
    expect(acked).toEqual([])
    expect(firstDone).toBe(false)

    // Commit the SECOND first: its PUBACK still waits for the first (MQTT-4.6.0-2).
    sink.held[1]!.resolve({ accepted: 1, dropped: 0, lost: 0, invalid: 0 })
    await door.publishAsync('doorbell/front', json({ pressed: false }), { qos: 1 })
    expect(acked).toEqual([])

    sink.held[0]!.resolve({ accepted: 1, dropped: 0, lost: 0, invalid: 0 })
    await Promise.all([first, second])
    expect(acked).toHaveLength(2)
    expect(acked[0]).toBeLessThan(acked[1]!)
  })

  it('a failed commit is not acked: the connection is closed and the retransmission after reconnect is stored', async () => {
    let failNext = true
    sink.hold = () => (failNext ? ((failNext = false), true) : false) // only the first attempt is held
    // Auto-reconnect like esp-mqtt: mqtt.js keeps the unacked QoS 1 message and resends it.
    const a = await connect('esp32-a1', 'correct horse', { reconnectPeriod: 20 })
    const acked = pubacks(a)
    const closed = new Promise<void>((resolve) => a.once('close', () => resolve()))
    const pub = a.publishAsync('sensors/esp32-a1/env', json({ n: 1 }), { qos: 1 })
    await sink.pushed(1)
    sink.held[0]!.resolve({ accepted: 0, dropped: 1, lost: 1, invalid: 0, error: new Error('GW_ERR_STORE_FULL') })
    await closed
    expect(acked).toEqual([])
    expect(count('not_durable')).toBe(1)

    await pub // resolved by the PUBACK of the retransmission
    expect(acked).toHaveLength(1)
    expect(sink.readings.map((r) => r.data)).toEqual([{ n: 1 }, { n: 1 }]) // at-least-once
  })
})

describe('MQTT ingress: a reading the full store refuses (whenFull: reject_new)', () => {
  it('is not acked, so the sensor retransmits it, and is counted once: by the store, not again as not_durable', async () => {
    let refuseNext = true
    sink.hold = () => (refuseNext ? ((refuseNext = false), true) : false)
    const a = await connect('esp32-a1', 'correct horse', { reconnectPeriod: 20 })
    const acked = pubacks(a)
    const closed = new Promise<void>((resolve) => a.once('close', () => resolve()))
    const pub = a.publishAsync('sensors/esp32-a1/env', json({ n: 1 }), { qos: 1 })
    await sink.pushed(1)
    sink.held[0]!.resolve({ accepted: 0, dropped: 1, lost: 0, invalid: 0 }) // the store counted it store_full_rejected
    await closed
    expect(acked).toEqual([])
    expect([...counters.totals.values()].reduce((a, b) => a + b, 0)).toBe(0) // no rejected{...} at all
    await pub // the retransmission found room
    expect(sink.readings.map((r) => r.data)).toEqual([{ n: 1 }, { n: 1 }])
  })
})

describe('MQTT ingress: a reading ingest refuses for its content', () => {
  it('is acked, not answered by closing the connection: a retransmission would be refused again, forever', async () => {
    sink.hold = () => true
    const c = await sensor()
    const closed = new Promise<string>((resolve) => c.once('close', () => resolve('closed')))
    const acked = pubacks(c)
    const pub = c.publishAsync('sensors/esp32-a1/env', json({ n: 1 }), { qos: 1 })
    await sink.pushed(1)
    sink.held[0]!.resolve({ accepted: 0, dropped: 1, lost: 0, invalid: 1 }) // counted invalid_reading by ingest
    expect(await Promise.race([pub.then(() => 'acked'), closed])).toBe('acked')
    expect(acked).toHaveLength(1)
    expect(count('not_durable')).toBe(0)
  })
})

describe('MQTT ingress: refused input', () => {
  it('a wrong password is refused with CONNACK 4 and counted; no username with CONNACK 5', async () => {
    await expect(connect('esp32-a1', 'wrong')).rejects.toMatchObject({ code: 4 })
    await expect(connect('nobody', 'x')).rejects.toMatchObject({ code: 4 })
    await expect(connectAsync(url, { protocolVersion: 4, reconnectPeriod: 0 })).rejects.toMatchObject({ code: 5 })
    expect(count('auth_failed')).toBe(3)
  })

  it('forbidden and unmapped topics are acked (MQTT-3.3.5-2), not stored, counted', async () => {
    const c = await sensor()
    await c.publishAsync('sensors/esp32-b2/env', json({ spoof: true }), { qos: 1 }) // another device's topic
    await c.publishAsync('sensors/esp32-a1/unknown', json({ x: 1 }), { qos: 1 }) // allowed, but no rule
    expect(sink.readings).toEqual([])
    expect(count('forbidden_topic')).toBe(1)
    expect(count('unmapped_topic')).toBe(1)
  })

  it('non-JSON, invalid UTF-8 and oversize payloads are acked, not stored, counted', async () => {
    const c = await sensor()
    await c.publishAsync('sensors/esp32-a1/env', 'temperature=21.5', { qos: 1 })
    await c.publishAsync('sensors/esp32-a1/env', Buffer.from([0x22, 0xc3, 0x28, 0x22]), { qos: 1 })
    await c.publishAsync('sensors/esp32-a1/env', json({ pad: 'x'.repeat(2000) }), { qos: 1 })
    expect(sink.readings).toEqual([])
    expect(count('invalid_json')).toBe(2)
    expect(count('oversize')).toBe(1)
  })

  it('a packet far beyond the limit is cut off at its header, before it is buffered', async () => {
    const c = await sensor()
    const closed = new Promise<void>((resolve) => c.once('close', () => resolve()))
    c.publish('sensors/esp32-a1/env', Buffer.alloc(200_000, 0x20), { qos: 1 })
    await closed
    expect(count('oversize')).toBe(1)
    expect(sink.readings).toEqual([])
    // The ingress is fine: the next connection works.
    await (await sensor()).publishAsync('sensors/esp32-a1/env', json({ ok: 1 }), { qos: 1 })
    expect(sink.readings).toHaveLength(1)
  })

  it('valid traffic around bad traffic still flows, in order, on the same connection', async () => {
    const c = await sensor()
    const t = 'sensors/esp32-a1/env'
    await Promise.all([
      c.publishAsync(t, json({ i: 1 }), { qos: 1 }),
      c.publishAsync(t, '{not json', { qos: 1 }),
      c.publishAsync('sensors/esp32-zz/env', json({ i: -1 }), { qos: 1 }),
      c.publishAsync(t, 'x'.repeat(5000), { qos: 1 }),
      c.publishAsync(t, json({ i: 2 }), { qos: 1 }),
    ])
    expect(sink.readings.map((r) => r.data)).toEqual([{ i: 1 }, { i: 2 }])
    expect([count('invalid_json'), count('forbidden_topic'), count('oversize')]).toEqual([1, 1, 1])
  })

  it('subscriptions are refused (SUBACK 0x80)', async () => {
    const c = await sensor()
    // mqtt.js turns a 0x80 grant into an error carrying the SUBACK.
    await expect(c.subscribeAsync('sensors/#', { qos: 1 })).rejects.toMatchObject({ packet: { granted: [128] } })
  })
})

describe('MQTT ingress: lifecycle', () => {
  it('a port in use makes the source unavailable without throwing', async () => {
    const blocker = net.createServer()
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve))
    const port = (blocker.address() as net.AddressInfo).port
    const cfg = mqttIngressSourceSchema.parse({ type: 'mqtt', id: 'busy', listen: `127.0.0.1:${port}`, devices: DEVICES })
    const busy = new MqttIngressSource(cfg, { log: silentLogger, counters })
    const stop = new AbortController()
    const done = busy.run(sink, stop.signal)
    expect(await busy.ready()).toEqual({
      state: 'unavailable',
      detail: `cannot listen on 127.0.0.1:${port}: EADDRINUSE (port in use: another MQTT broker? set \`listen\`)`,
    })
    stop.abort()
    await expect(done).resolves.toBeUndefined()
    await new Promise<void>((resolve) => blocker.close(() => resolve()))
  })

  it('stop closes sensor connections and run resolves', async () => {
    const c = await sensor()
    const closed = new Promise<void>((resolve) => c.once('close', () => resolve()))
    ac.abort()
    await running
    await closed
    expect(source.health().state).toBe('stopped')
  })
})
