/**
 * MqttUplink against an in-process aedes broker over MQTT 3.1.1 (aedes does not speak MQTT 5).
 * aedes hooks script the broker: hold PUBACKs, never send them, or cut the connection mid-batch.
 */
import type { Client } from 'aedes'
import { afterEach, describe, expect, it } from 'vitest'
import { UplinkError } from '../gateway/core/errors.js'
import type { Logger } from '../gateway/core/observability.js'
import { MqttUplink, mqttUplinkSchema } from '../gateway/uplink/mqtt/index.js'
import { startAedes, type AedesHandle } from './support/aedes-broker.js'
import { collectEvents, type Collector } from './support/collector.js'
import { makeEntries, makeEntry } from './support/entries.js'
import { freePort } from './support/mosquitto.js'

type Policy = 'pass' | 'hold' | 'never' | 'cut'
let policy: Policy = 'pass'
let releaseHeld: () => void = () => {}
let held = new Promise<void>((r) => (releaseHeld = r))
const cleanups: Array<() => Promise<unknown> | unknown> = []

afterEach(async () => {
  onPublishSeen = () => {}
  releaseHeld()
  policy = 'pass'
  held = new Promise<void>((r) => (releaseHeld = r))
  for (const c of cleanups.splice(0).reverse()) await c()
})

let publishesSeen = 0
let onPublishSeen: () => void = () => {}

/** authorizePublish decides when (and whether) aedes sends the PUBACK. */
function authorizePublish(client: Client | null, _packet: unknown, cb: (err?: Error | null) => void): void {
  publishesSeen++
  onPublishSeen()
  if (policy === 'pass') return cb(null)
  if (policy === 'hold') return void held.then(() => cb(null))
  if (policy === 'cut') return void client?.conn.destroy()
  // 'never': no callback, so no PUBACK
}

async function broker(port?: number): Promise<AedesHandle> {
  const b = await startAedes({ port, aedes: { authorizePublish } })
  cleanups.push(() => b.close())
  return b
}

async function collector(url: string): Promise<Collector> {
  const c = await collectEvents(url, 'edge/#', { protocolVersion: 4 })
  cleanups.push(() => c.close())
  return c
}

interface LogLine {
  level: string
  obj: unknown
  msg?: string
}
function recordingLogger(lines: LogLine[]): Logger {
  const at = (level: string) => (obj: object | string, msg?: string) => void lines.push({ level, obj, msg })
  const log: Logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), child: () => log }
  return log
}

function uplink(url: string, overrides: Record<string, unknown> = {}, lines: LogLine[] = []): MqttUplink {
  const config = mqttUplinkSchema.parse({ type: 'mqtt', id: 'cloud', url, protocolVersion: 4, reconnectMaxMs: 200, ...overrides })
  const u = new MqttUplink(config, { gatewayId: 'gw1', log: recordingLogger(lines) })
  cleanups.push(() => u.stop())
  return u
}

async function rejection(p: Promise<unknown>): Promise<UplinkError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(err).toBeInstanceOf(UplinkError)
  return err as UplinkError
}

const signal = (): AbortSignal => new AbortController().signal

describe('MqttUplink over MQTT 3.1.1 (aedes)', () => {
  it('structured mode: one publish per event on the templated topic, payload unchanged', async () => {
    const b = await broker()
    const col = await collector(b.url)
    const u = uplink(b.url)
    await u.start()
    await u.whenConnected()
    const entries = makeEntries(5, { devices: ['dev-a', 'AA:BB:CC'] })
    await expect(u.send(entries, signal())).resolves.toEqual({ rejected: [] })
    await col.waitFor((c) => c.events.length === 10)
    expect(col.messages.map((m) => m.topic)).toContain('edge/gw1/sim/AA:BB:CC/io.edgegateway.environment')
    expect(col.messages.map((m) => m.payload.toString())).toEqual(entries.map((e) => e.json))
    expect(col.messages.every((m) => m.mode === 'structured' && m.contentType === undefined)).toBe(true)
    const expected = new Map(entries.map((e) => [e.source, 5]))
    expect(col.verdict(expected)).toEqual({ delivered: 10, lost: 0, duplicated: 0, reordered: 0, unexpected: 0 })
    expect(u.stats()).toMatchObject({ connected: true, connects: 1, publishes: 10, pubackErrors: 0 })
  })

  it('batch mode: JSON arrays per topic, at most maxEvents per message, order kept', async () => {
    const b = await broker()
    const col = await collector(b.url)
    const u = uplink(b.url, { mode: 'batch', maxEvents: 100 })
    await u.start()
    await u.whenConnected()
    const entries = makeEntries(150, { devices: ['a', 'b'] })
    await expect(u.send(entries, signal())).resolves.toEqual({ rejected: [] })
    await col.waitFor((c) => c.events.length === 300)
    expect(col.messages.map((m) => [m.topic, m.eventCount, m.mode])).toEqual([
      ['edge/gw1/sim/a/io.edgegateway.environment', 100, 'batch'],
      ['edge/gw1/sim/a/io.edgegateway.environment', 50, 'batch'],
      ['edge/gw1/sim/b/io.edgegateway.environment', 100, 'batch'],
      ['edge/gw1/sim/b/io.edgegateway.environment', 50, 'batch'],
    ])
    expect(col.verdict(new Map(entries.map((e) => [e.source, 150])))).toMatchObject({ lost: 0, duplicated: 0, reordered: 0 })
  })

  it('resolves only after every PUBACK', async () => {
    const b = await broker()
    const u = uplink(b.url)
    await u.start()
    await u.whenConnected()
    policy = 'hold'
    publishesSeen = 0
    let settled = false
    const sending = u.send(makeEntries(3), signal()).finally(() => (settled = true))
    // Wait until aedes has received all three PUBLISHes (and is holding their PUBACKs).
    await new Promise<void>((resolve) => {
      onPublishSeen = () => publishesSeen === 3 && resolve()
      onPublishSeen()
    })
    expect(settled).toBe(false)
    releaseHeld()
    await expect(sending).resolves.toEqual({ rejected: [] })
  })

  it('PUBACK timeout → retriable ack_timeout, then reconnects by itself', async () => {
    const b = await broker()
    const u = uplink(b.url, { ackTimeoutMs: 300 })
    await u.start()
    await u.whenConnected()
    policy = 'never'
    const lost = new Promise<void>((resolve) => u.onConnectionChange((up) => !up && resolve()))
    const err = await rejection(u.send(makeEntries(2), signal()))
    expect(err).toMatchObject({ retriable: true, reason: 'ack_timeout' })
    await lost
    policy = 'pass'
    await u.whenConnected()
    await expect(u.send(makeEntries(1), signal())).resolves.toEqual({ rejected: [] })
    expect(u.stats()).toMatchObject({ ackTimeouts: 1, reconnects: 1 })
  })

  it('connection cut mid-batch → retriable disconnected; nothing replayed from memory', async () => {
    const b = await broker()
    const col = await collector(b.url)
    const u = uplink(b.url)
    await u.start()
    await u.whenConnected()
    policy = 'cut'
    const err = await rejection(u.send(makeEntries(5), signal()))
    expect(err).toMatchObject({ retriable: true, reason: 'disconnected' })
    policy = 'pass'
    await u.whenConnected()
    const next = makeEntries(2, { devices: ['after'] })
    await u.send(next, signal())
    await col.waitFor((c) => c.events.length >= 2)
    expect(col.events.map((e) => e.id)).toEqual(next.map((e) => e.id))
  })

  it('broker down: start() does not throw, send rejects at once, reconnects when the broker comes', async () => {
    const port = await freePort()
    const lines: LogLine[] = []
    const u = uplink(`mqtt://user:s3cret-pw@127.0.0.1:${port}`, { username: 'user', password: 's3cret-pw' }, lines)
    await u.start()
    const offline = makeEntries(3, { devices: ['offline'] })
    const err = await rejection(u.send(offline, signal()))
    expect(err).toMatchObject({ retriable: true, reason: 'disconnected', code: 'GW_ERR_UPLINK_UNAVAILABLE' })
    await expect.poll(() => u.health().detail).toMatch(/connection refused/)
    expect(u.health().connected).toBe(false)

    const b = await broker(port)
    const col = await collector(b.url)
    await u.whenConnected()
    const online = makeEntries(2, { devices: ['online'] })
    await u.send(online, signal())
    await col.waitFor((c) => c.events.length >= 2)
    // The rejected offline send was not buffered by mqtt.js and replayed on connect.
    expect(col.events.map((e) => e.id)).toEqual(online.map((e) => e.id))
    expect(JSON.stringify(lines)).not.toContain('s3cret-pw')
    expect(u.stats().connectFailures).toBeGreaterThan(0)
  })

  it('stop() rejects a send still waiting for PUBACK with retriable stopped', async () => {
    const b = await broker()
    const u = uplink(b.url, { stopGraceMs: 100 })
    await u.start()
    await u.whenConnected()
    policy = 'hold'
    const outcome = rejection(u.send(makeEntries(2), signal()))
    await u.stop()
    expect(await outcome).toMatchObject({ retriable: true, reason: 'stopped' })
    expect(u.health()).toMatchObject({ connected: false })
    await expect(u.send(makeEntries(1), signal())).rejects.toMatchObject({ reason: 'stopped' })
  })

  it('abort signal → retriable aborted', async () => {
    const b = await broker()
    const u = uplink(b.url)
    await u.start()
    await u.whenConnected()
    policy = 'hold'
    const ac = new AbortController()
    const sending = u.send(makeEntries(2), ac.signal)
    ac.abort()
    expect(await rejection(sending)).toMatchObject({ retriable: true, reason: 'aborted' })
  })

  it('MQTT 3.1.1 with maxPacketBytes: an oversize event is rejected locally, the rest delivered, no disconnect', async () => {
    const b = await broker()
    const col = await collector(b.url)
    const u = uplink(b.url, { maxPacketBytes: 1024 })
    await u.start()
    await u.whenConnected()
    const [a, c] = makeEntries(2)
    const big = makeEntry({ sequence: 3, padBytes: 2000 })
    const result = await u.send([a!, big, c!], signal())
    expect(result.rejected).toEqual([expect.objectContaining({ entry: big, reason: 'packet_too_large' })])
    await col.waitFor((x) => x.events.length === 2)
    expect(u.stats()).toMatchObject({ connected: true, disconnects: 0, rejected: { packet_too_large: 1 } })
  })
})
