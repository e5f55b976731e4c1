/**
 * The spine end to end: simulated sensors → ingest → LevelStore → forwarder → MQTT uplink → a real
 * broker → a real subscriber, checking every CloudEvent that arrives.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { requireMosquitto, startMosquitto, type MosquittoHandle } from './support/mosquitto.js'
import { startAedes } from './support/aedes-broker.js'
import { collectEvents } from './support/collector.js'
import { expectedFromSimulator, startTestGateway, until } from './support/gateway-harness.js'

const hasMosquitto = requireMosquitto()
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

describe.skipIf(!hasMosquitto)('pipeline → Mosquitto (MQTT 5)', () => {
  let broker: MosquittoHandle
  beforeAll(async () => {
    broker = await startMosquitto()
  })
  afterAll(async () => {
    await broker?.stop()
  })

  for (const mode of ['structured', 'binary', 'batch'] as const) {
    it(`delivers every reading once, in order, as a valid CloudEvent (${mode} mode)`, async () => {
      const col = await collectEvents(broker.url, `edge/gw-${mode}/#`, { protocolVersion: 5 })
      const gw = await startTestGateway({
        gatewayId: `gw-${mode}`,
        sources: [{ type: 'simulator', id: 'sim', devices: 4, intervalMs: 0, count: 50 }],
        uplinks: [{ type: 'mqtt', id: 'up', url: broker.url, mode, maxEvents: 20 }],
      })
      const expected = expectedFromSimulator(`gw-${mode}`, 'sim', 4, 50)
      await col.waitFor((c) => c.verdict(expected).delivered >= 200)
      await until(() => gw.gateway.store.stats().perUplink.up?.depth === 0 && gw.metrics.snapshot().forwarded === 200, 'queue drained')
      const verdict = col.verdict(expected)
      expect(verdict).toMatchObject({ delivered: 200, lost: 0, reordered: 0, unexpected: 0 })
      // Exactly once unless a send had to be retried (then at-least-once, bounded by the window).
      const retried = gw.metrics.snapshot().sendRetries > 0
      expect(verdict.duplicated).toBeLessThanOrEqual(retried ? 8 * 20 : 0)

      const first = col.events[0]!
      expect(first.topic).toMatch(/^edge\/gw-[a-z]+\/sim\/sim-000[1-4]\/io\.edgegateway\.environment$/)
      expect(first.event).toMatchObject({
        specversion: '1.0',
        type: 'io.edgegateway.environment',
        datacontenttype: 'application/json',
      })
      expect(first.id).toMatch(UUID)
      expect(String(first.event.sequence)).toMatch(/^\d{20}$/)
      expect(Date.parse(String(first.event.time))).toBeGreaterThan(Date.now() - 60_000)
      expect(first.event.data).toMatchObject({ temperatureC: expect.any(Number), humidityPct: expect.any(Number) })
      expect(new Set(col.events.map((e) => e.id)).size).toBe(200) // one id per event, also when resent
      if (mode === 'batch') expect(col.messages.length).toBeLessThan(200)
      await gw.dispose()
      await col.close()
    })
  }

  it('continues each source sequence after a restart, with no gap and no repeat', async () => {
    const col = await collectEvents(broker.url, 'edge/gw-restart/#', { protocolVersion: 5 })
    const input = {
      gatewayId: 'gw-restart',
      sources: [{ type: 'simulator', id: 'sim', devices: 3, intervalMs: 0, count: 10 }],
      uplinks: [{ type: 'mqtt', id: 'up', url: broker.url }],
    }
    const first = await startTestGateway(input)
    await col.waitFor((c) => c.events.length >= 30)
    await first.stop()
    const second = await startTestGateway({ ...input, dataDir: first.dataDir })
    await col.waitFor((c) => c.events.length >= 60)
    expect(col.verdict(expectedFromSimulator('gw-restart', 'sim', 3, 20))).toMatchObject({ lost: 0, duplicated: 0, reordered: 0 })
    await second.dispose()
    await col.close()
  })

  it('dead-letters an event larger than the broker accepts, and the rest flows', async () => {
    const small = await startMosquitto({ maxPacketSize: 2048 })
    const col = await collectEvents(small.url, 'edge/#', { protocolVersion: 5 })
    const gw = await startTestGateway({
      sources: [
        { type: 'simulator', id: 'sim', devices: 2, intervalMs: 0, count: 25 },
        { type: 'simulator', id: 'big', devices: 1, intervalMs: 0, count: 3, padBytes: 4000 },
      ],
      uplinks: [{ type: 'mqtt', id: 'up', url: small.url }],
    })
    await col.waitFor((c) => c.events.length >= 50)
    await until(() => gw.gateway.store.stats().deadLetters === 3, 'three dead letters')
    expect(col.verdict(expectedFromSimulator('gw-test', 'sim', 2, 25))).toMatchObject({ lost: 0, unexpected: 0 })
    expect(gw.metrics.snapshot().dropped.dead_letter).toBe(3)
    const letters = await gw.gateway.store.deadLetters('up', 10)
    expect(letters.map((l) => l.reason)).toEqual(['packet_too_large', 'packet_too_large', 'packet_too_large'])
    await gw.dispose()
    await col.close()
    await small.stop()
  })
})

describe('pipeline → aedes (MQTT 3.1.1)', () => {
  it('delivers in structured mode over MQTT 3.1.1', async () => {
    const broker = await startAedes()
    const col = await collectEvents(broker.url, 'edge/#', { protocolVersion: 4 })
    const gw = await startTestGateway({
      sources: [{ type: 'simulator', id: 'sim', devices: 2, intervalMs: 0, count: 30, alertEvery: 10 }],
      uplinks: [{ type: 'mqtt', id: 'up', url: broker.url, protocolVersion: 4 }],
    })
    await col.waitFor((c) => c.events.length >= 60)
    expect(col.verdict(expectedFromSimulator('gw-test', 'sim', 2, 30))).toMatchObject({ delivered: 60, lost: 0, duplicated: 0 })
    expect(col.messages[0]!.contentType).toBeUndefined() // 3.1.1 has no content type: structured JSON payload
    expect(col.events.filter((e) => e.event.type === 'io.edgegateway.doorbell.press')).toHaveLength(6)
    await gw.dispose()
    await col.close()
    await broker.close()
  })
})
