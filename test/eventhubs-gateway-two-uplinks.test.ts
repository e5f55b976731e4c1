/**
 * Issue 4 acceptance: one gateway, two uplinks (Event Hubs peer + a real Mosquitto), each with
 * its own forwarder and store cursor. MQTT is taken down under load: Event Hubs keeps receiving
 * everything meanwhile (completeness, not timing), the store keeps what MQTT has not confirmed
 * (space is freed only when BOTH acked), and after recovery both peers have every event.
 */
import { describe, expect, it } from 'vitest'
import { requireMosquitto } from './support/mosquitto.js'
import { expectedFromSimulator, until } from './support/gateway-harness.js'
import { distinctPairs, ehVerdict } from './support/eh-verdict.js'
import { sample } from './support/prom-text.js'
import { startOutageBrokerForTest, startPeerForTest, startTestGatewayForTest } from './per-test-resources.js'

const hasMosquitto = requireMosquitto()

describe.skipIf(!hasMosquitto)('gateway with Event Hubs and MQTT uplinks', () => {
  it('MQTT down under load: Event Hubs gets everything meanwhile; both complete after; space freed only when both acked', { timeout: 60_000 }, async () => {
    const peer = await startPeerForTest()
    const { broker, col } = await startOutageBrokerForTest('two-uplinks-collector')
    const devices = 4
    const count = 800
    const total = devices * count
    const gw = await startTestGatewayForTest({
      sources: [{ type: 'simulator', id: 'sim', devices, intervalMs: 3, count }],
      uplinks: [
        { type: 'eventhubs', id: 'eh', connectionString: peer.connectionString(), maxEvents: 100, maxInFlight: 4 },
        { type: 'mqtt', id: 'mq', url: broker.url, maxEvents: 50, maxInFlight: 4, reconnectMaxMs: 1000 },
      ],
    })
    const { gateway, metrics } = gw
    const expected = expectedFromSimulator('gw-test', 'sim', devices, count)
    await col.waitFor((c) => c.events.length >= 300)

    await broker.stop()
    const atStop = metrics.snapshot().ingested
    expect(atStop).toBeLessThan(total - 1000) // a real share of the load is produced during the outage
    // Everything the simulator produces while MQTT is down reaches Event Hubs, with MQTT still down.
    await gateway.sourcesDone()
    await peer.waitUntil(() => distinctPairs(peer.received()) >= total, 30_000)
    expect(ehVerdict(peer.received(), expected)).toMatchObject({ delivered: total, lost: 0, reordered: 0, unexpected: 0 })
    await until(() => gateway.store.stats().perUplink.eh!.depth === 0, 'eh acked everything')
    const whileDown = gateway.store.stats()
    expect(whileDown.perUplink.mq!.depth).toBeGreaterThanOrEqual(total - atStop)
    // Acked by Event Hubs, not by MQTT: nothing may be freed yet.
    expect(whileDown.entries).toBeGreaterThanOrEqual(whileDown.perUplink.mq!.depth)
    expect(whileDown.bytes).toBeGreaterThan(0)
    const health = gateway.health().components.uplinks
    expect(health.find((u) => u.id === 'eh')!.connected).toBe(true)
    expect(health.find((u) => u.id === 'mq')!.connected).toBe(false)

    await broker.restart()
    await col.waitFor((c) => new Set(c.events.map((e) => `${e.source}#${e.sequence}`)).size >= total, 30_000)
    expect(col.verdict(expected)).toMatchObject({ delivered: total, lost: 0, reordered: 0, unexpected: 0 })
    await until(() => gateway.store.stats().entries === 0 && metrics.snapshot().forwarded >= 2 * total, 'both acked: space freed')
    expect(gateway.store.stats().perUplink).toMatchObject({ eh: { depth: 0 }, mq: { depth: 0 } })

    const text = await metrics.render()
    const ehForwarded = sample(text, 'edge_gateway_events_forwarded_total{uplink="eh"}')!
    const mqForwarded = sample(text, 'edge_gateway_events_forwarded_total{uplink="mq"}')!
    // Each counts its own confirmed sends: all events, plus any resends (at-least-once).
    expect(ehForwarded).toBeGreaterThanOrEqual(total)
    expect(mqForwarded).toBeGreaterThanOrEqual(total)
    expect(ehForwarded + mqForwarded).toBe(metrics.snapshot().forwarded)
    expect(sample(text, 'edge_gateway_send_retries_total{uplink="eh",reason="disconnected"}')).toBeUndefined()
    expect(sample(text, 'edge_gateway_uplink_backoff_seconds_total{uplink="mq"}')).toBeGreaterThan(0)
  })
})
