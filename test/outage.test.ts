/**
 * Broker outages under load: Mosquitto is stopped while the simulator keeps producing, then
 * restarted. Counted at a persistent-session subscriber from source + sequence: nothing lost, the
 * backlog drains, duplicates bounded by the in-flight window, order per device kept.
 */
import { describe, expect, it } from 'vitest'
import { requireMosquitto } from './support/mosquitto.js'
import { expectedFromSimulator, until } from './support/gateway-harness.js'
import { distinctPairs } from './support/sequence-verdict.js'
import { startOutageBrokerForTest, startTestGatewayForTest } from './per-test-resources.js'

const hasMosquitto = requireMosquitto()

describe.skipIf(!hasMosquitto)('broker outage under load', () => {
  it('loses nothing when Mosquitto is down for several seconds, and drains the backlog after', async () => {
    const { broker, col } = await startOutageBrokerForTest('outage-collector')
    const devices = 5
    const count = 1200
    const maxInFlight = 4
    const maxEvents = 50
    const gw = await startTestGatewayForTest({
      sources: [{ type: 'simulator', id: 'sim', devices, intervalMs: 2, count }],
      uplinks: [{ type: 'mqtt', id: 'up', url: broker.url, maxInFlight, maxEvents, reconnectMaxMs: 1000 }],
    })
    const metrics = gw.metrics
    await col.waitFor((c) => c.events.length >= 500)

    await broker.stop()
    const ingestedAtStop = metrics.snapshot().ingested
    // Keep it down until a real backlog has built up on disk.
    await until(() => metrics.snapshot().ingested >= ingestedAtStop + 1500, 'backlog of 1500 while the broker is down')
    expect(gw.gateway.store.stats().perUplink.up!.depth).toBeGreaterThanOrEqual(1000)
    expect(gw.gateway.health().components.uplinks[0]!.connected).toBe(false)

    await broker.restart()
    const total = devices * count
    await col.waitFor((c) => distinctPairs(c.events) >= total, 60_000)
    const verdict = col.verdict(expectedFromSimulator('gw-test', 'sim', devices, count))
    expect(verdict.lost).toBe(0)
    expect(verdict.delivered).toBe(total)
    expect(verdict.reordered).toBe(0)
    expect(verdict.duplicated).toBeLessThanOrEqual(maxInFlight * maxEvents)
    await until(() => gw.gateway.store.stats().perUplink.up!.depth === 0, 'backlog drained')
    expect(metrics.snapshot().sendRetries).toBeGreaterThan(0)
  })
})
