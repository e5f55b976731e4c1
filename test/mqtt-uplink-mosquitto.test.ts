/**
 * MqttUplink against a real Mosquitto 2.0 over MQTT 5: the three CloudEvents modes as a real
 * subscriber sees them, PUBACK reason codes (0x10 success, 0x87 refusal via ACL), the broker's
 * Maximum Packet Size and Receive Maximum, and an outage with kill + restart on the same port.
 */
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { connect, type IClientOptions, type MqttClient } from 'mqtt'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { silentLogger } from '../gateway/core/observability.js'
import { MqttUplink, mqttUplinkSchema } from '../gateway/uplink/mqtt/index.js'
import { collectEvents, type Collector } from './support/collector.js'
import { makeEntries, makeEntry } from './support/entries.js'
import { requireMosquitto, startMosquitto, type MosquittoHandle, type MosquittoOptions } from './support/mosquitto.js'

const cleanups: Array<() => Promise<unknown> | unknown> = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

const signal = (): AbortSignal => new AbortController().signal

async function mosquitto(opts?: MosquittoOptions): Promise<MosquittoHandle> {
  const b = await startMosquitto(opts)
  cleanups.push(() => b.stop())
  return b
}

async function collector(url: string, filter = 'edge/#'): Promise<Collector> {
  const c = await collectEvents(url, filter, { protocolVersion: 5 })
  cleanups.push(() => c.close())
  return c
}

async function connectedUplink(url: string, overrides: Record<string, unknown> = {}, connectFn?: (u: string, o: IClientOptions) => MqttClient): Promise<MqttUplink> {
  const config = mqttUplinkSchema.parse({ type: 'mqtt', id: 'cloud', url, reconnectMaxMs: 200, ...overrides })
  const u = new MqttUplink(config, { gatewayId: 'gw1', log: silentLogger, connect: connectFn })
  cleanups.push(() => u.stop())
  await u.start()
  await u.whenConnected()
  return u
}

describe.skipIf(!requireMosquitto())('MqttUplink over MQTT 5 (Mosquitto)', () => {
  let shared: MosquittoHandle
  beforeAll(async () => {
    shared = await startMosquitto()
  })
  afterAll(() => shared?.stop())

  it('structured: Content Type application/cloudevents+json, payload = stored JSON', async () => {
    const col = await collector(shared.url)
    const u = await connectedUplink(shared.url)
    const entries = makeEntries(3, { devices: ['d1', 'd2'] })
    await expect(u.send(entries, signal())).resolves.toEqual({ rejected: [] })
    await col.waitFor((c) => c.events.length === 6)
    for (const [i, m] of col.messages.entries()) {
      expect(m).toMatchObject({ mode: 'structured', contentType: 'application/cloudevents+json' })
      expect(m.payload.toString()).toBe(entries[i]!.json)
    }
    expect(col.messages[0]!.topic).toBe('edge/gw1/sim/d1/io.edgegateway.environment')
    expect(col.verdict(new Map(entries.map((e) => [e.source, 3])))).toMatchObject({ lost: 0, duplicated: 0, reordered: 0 })
  })

  it('binary: data as payload, datacontenttype as Content Type, attributes as User Properties', async () => {
    const col = await collector(shared.url)
    const u = await connectedUplink(shared.url, { mode: 'binary' })
    const e = makeEntry({ sequence: 1, extensions: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' } })
    await u.send([e], signal())
    await col.waitFor((c) => c.events.length === 1)
    const m = col.messages[0]!
    const original = JSON.parse(e.json) as Record<string, unknown>
    expect(m.contentType).toBe('application/json')
    expect(m.payload.toString()).toBe(JSON.stringify(original.data))
    expect(m.userProperties).toMatchObject({ specversion: '1.0', id: e.id, source: e.source, type: original.type, time: original.time, sequence: original.sequence, traceparent: original.traceparent })
    expect(col.events[0]!.event).toEqual(original) // nothing lost in the round trip
  })

  it('batch: application/cloudevents-batch+json arrays per topic', async () => {
    const col = await collector(shared.url)
    const u = await connectedUplink(shared.url, { mode: 'batch', maxEvents: 50 })
    const entries = makeEntries(60, { devices: ['x', 'y'] })
    await u.send(entries, signal())
    await col.waitFor((c) => c.events.length === 120)
    expect(col.messages.map((m) => [m.contentType, m.eventCount])).toEqual([
      ['application/cloudevents-batch+json', 50],
      ['application/cloudevents-batch+json', 10],
      ['application/cloudevents-batch+json', 50],
      ['application/cloudevents-batch+json', 10],
    ])
    expect(col.verdict(new Map(entries.map((e) => [e.source, 60])))).toMatchObject({ delivered: 120, lost: 0, duplicated: 0, reordered: 0 })
  })

  it('PUBACK 0x10 "no matching subscribers" is success', async () => {
    const u = await connectedUplink(shared.url, { topic: 'nobody-listens/{deviceId}' })
    await expect(u.send(makeEntries(2), signal())).resolves.toEqual({ rejected: [] })
    expect(u.stats()).toMatchObject({ publishes: 2, pubackErrors: 0 })
  })

  it('honours the broker Receive Maximum (MQTT-4.9.0-2)', async () => {
    const b = await mosquitto({ extraConfig: 'max_inflight_messages 5' })
    let inFlight = 0
    let peak = 0
    const spy = (url: string, o: IClientOptions): MqttClient => {
      const client = connect(url, o)
      client.on('packetsend', (p) => p.cmd === 'publish' && (peak = Math.max(peak, ++inFlight)))
      client.on('packetreceive', (p) => p.cmd === 'puback' && inFlight--)
      return client
    }
    const u = await connectedUplink(b.url, {}, spy)
    await expect(u.send(makeEntries(100), signal())).resolves.toEqual({ rejected: [] })
    expect(peak).toBeLessThanOrEqual(5)
    expect(peak).toBeGreaterThan(1) // still pipelined
  })

  it('event larger than max_packet_size: rejected alone, the rest delivered, connection kept', async () => {
    const b = await mosquitto({ maxPacketSize: 2048 })
    const col = await collector(b.url)
    for (const mode of ['structured', 'binary', 'batch']) {
      const u = await connectedUplink(b.url, { mode, clientId: `oversize-${mode}` })
      const before = col.events.length
      const small = makeEntries(4, { devices: [`dev-${mode}`] })
      const big = makeEntry({ deviceId: `dev-${mode}`, sequence: 5, padBytes: 4000 })
      const result = await u.send([small[0]!, small[1]!, big, small[2]!, small[3]!], signal())
      expect(result.rejected).toEqual([expect.objectContaining({ entry: big, reason: 'packet_too_large' })])
      await col.waitFor((c) => c.events.length === before + 4)
      expect(u.stats()).toMatchObject({ connected: true, disconnects: 0 })
    }
  })

  it('PUBACK 0x87 not authorized: those entries rejected, the rest of the batch confirmed', async () => {
    const b = await mosquitto({
      files: { acl: 'topic read #\ntopic write edge/gw1/sim/dev-ok/#\n' },
      extraConfig: 'acl_file {dir}/acl',
    })
    const col = await collector(b.url)
    const u = await connectedUplink(b.url)
    const entries = makeEntries(3, { devices: ['dev-ok', 'dev-denied'] })
    const result = await u.send(entries, signal())
    expect(result.rejected.map((r) => [r.entry.source, r.reason])).toEqual(
      Array(3).fill(['/gateways/gw1/sim/dev-denied', 'not_authorized']),
    )
    await col.waitFor((c) => c.events.length === 3)
    expect(col.events.every((e) => e.source.endsWith('dev-ok'))).toBe(true)
    expect(u.stats()).toMatchObject({ connected: true, pubackErrors: 3, rejected: { not_authorized: 3 } })
  })

  it('outage: send rejects retriable disconnected while down; reconnects after restart by itself', async () => {
    const b = await mosquitto()
    const col = await collector(b.url) // survives the outage: reconnects and subscribes again
    const u = await connectedUplink(b.url)
    const lost = new Promise<void>((resolve) => u.onConnectionChange((up) => !up && resolve()))
    await b.kill()
    await lost
    await expect(u.send(makeEntries(2), signal())).rejects.toMatchObject({ retriable: true, reason: 'disconnected' })
    expect(u.health()).toMatchObject({ connected: false })
    await b.restart()
    await Promise.all([u.whenConnected(), col.ready()])
    const entries = makeEntries(3, { devices: ['after-restart'] })
    await expect(u.send(entries, signal())).resolves.toEqual({ rejected: [] })
    await col.waitFor((c) => c.events.length === 3)
    expect(u.stats()).toMatchObject({ disconnects: 1, reconnects: 1 })
  })

  it('TLS: verifies the broker against tls.ca read at start (mqtts://)', async (ctx) => {
    const tmp = mkdtempSync(path.join(os.tmpdir(), 'eg-tls-'))
    cleanups.push(() => rmSync(tmp, { recursive: true, force: true }))
    try {
      execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost',
        '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost', '-keyout', path.join(tmp, 'key.pem'), '-out', path.join(tmp, 'cert.pem')], { stdio: 'ignore' })
    } catch {
      return ctx.skip('openssl not available to make a test certificate')
    }
    const cert = readFileSync(path.join(tmp, 'cert.pem'), 'utf8')
    const b = await mosquitto({
      files: { 'cert.pem': cert, 'key.pem': readFileSync(path.join(tmp, 'key.pem'), 'utf8') },
      extraConfig: 'certfile {dir}/cert.pem\nkeyfile {dir}/key.pem', // applies to the test listener
    })
    const url = b.url.replace('mqtt://', 'mqtts://')
    const u = await connectedUplink(url, { tls: { ca: path.join(tmp, 'cert.pem') } })
    await expect(u.send(makeEntries(1), signal())).resolves.toEqual({ rejected: [] })
    // Without the CA the same broker is refused, and health says why.
    const config = mqttUplinkSchema.parse({ type: 'mqtt', id: 'no-ca', url })
    const untrusted = new MqttUplink(config, { gatewayId: 'gw1', log: silentLogger })
    cleanups.push(() => untrusted.stop())
    await untrusted.start()
    await expect.poll(() => untrusted.health().detail).toMatch(/self.signed|certificate/i)
  })
})

describe('MqttUplink.start()', () => {
  it('throws GW_ERR_CONFIG naming the field when a TLS file cannot be read', async () => {
    const config = mqttUplinkSchema.parse({ type: 'mqtt', id: 'c', url: 'mqtts://127.0.0.1:1', tls: { ca: '/nonexistent/ca.pem' } })
    const u = new MqttUplink(config, { gatewayId: 'gw1', log: silentLogger })
    await expect(u.start()).rejects.toMatchObject({ code: 'GW_ERR_CONFIG', message: expect.stringContaining('tls.ca') })
    expect(u.health().connected).toBe(false)
  })
})
