/**
 * Issue 4 acceptance, through the REAL gateway (simulator → store → forwarder → EventHubsUplink →
 * the AMQP peer) while the hub misbehaves under load: the peer is killed for several seconds and
 * restarted, or it answers ServerBusy for a while. Judged at the peer from source + sequence:
 * nothing lost, first receipts in order per device, duplicates bounded by the in-flight window,
 * and the retries and backoff visible in the metrics.
 *
 * Order: with maxInFlight > 1 a later forwarder batch of a device used to overtake an earlier one
 * still being retried by the SDK; the uplink now serialises each partition key across concurrent
 * sends (gateway/uplink/eventhubs/key-order.ts), so `reordered` must be 0, not just restorable.
 */
import { describe, expect, it } from 'vitest'
import { expectedFromSimulator, until } from './support/gateway-harness.js'
import { distinctPairs, ehVerdict } from './support/eh-verdict.js'
import { sample } from './support/prom-text.js'
import { startPeerForTest, startTestGatewayForTest } from './per-test-resources.js'

const MAX_IN_FLIGHT = 4
const MAX_EVENTS = 100

/** A peer and a gateway forwarding a simulator to it, both gone after the test. */
async function start(devices: number, count: number, intervalMs: number, mode: 'binary' | 'batch' = 'binary', routing: 'key' | 'partition' = 'key') {
  const peer = await startPeerForTest({ maxMessageSize: 64 * 1024 })
  const gw = await startTestGatewayForTest({
    sources: [{ type: 'simulator', id: 'sim', devices, intervalMs, count }],
    uplinks: [{
      type: 'eventhubs', id: 'eh', connectionString: peer.connectionString(),
      maxEvents: MAX_EVENTS, maxInFlight: MAX_IN_FLIGHT, sendTimeoutMs: 6_000, mode, routing,
    }],
  })
  return { peer, gw, expected: expectedFromSimulator('gw-test', 'sim', devices, count), total: devices * count }
}

describe('gateway → Event Hubs peer under trouble', () => {
  // batch mode too: a JSON batch document in flight when the link dies is resent whole. And
  // routing: partition, where several devices share each AMQP batch and its fate.
  const variants = [['binary', 'key'], ['batch', 'key'], ['binary', 'partition']] as const
  for (const [mode, routing] of variants) it(`peer killed for several seconds under load, then restarted: nothing lost, order kept, backlog drained (${mode}, routing: ${routing})`, { timeout: 60_000 }, async () => {
    const { peer, gw, expected, total } = await start(5, 1000, 4, mode, routing)
    const { metrics } = gw
    await peer.waitUntil(() => distinctPairs(peer.received()) >= 500)

    await peer.kill()
    const ingestedAtKill = metrics.snapshot().ingested
    // Keep it down until a real backlog has built up on disk (5 devices every 4 ms: ~3 s).
    await until(() => metrics.snapshot().ingested >= ingestedAtKill + 3000, 'backlog of 3000 while the hub is down')
    await until(() => gw.gateway.health().components.uplinks[0]!.connected === false, 'uplink reported down')
    expect(gw.gateway.store.stats().perUplink.eh!.depth).toBeGreaterThanOrEqual(2000)
    const receivedWhileDown = peer.received().length

    await peer.restart()
    await peer.waitUntil(() => distinctPairs(peer.received()) >= total, 40_000)
    const verdict = ehVerdict(peer.received(), expected)
    expect(verdict).toMatchObject({ delivered: total, lost: 0, reordered: 0, unexpected: 0 })
    expect(verdict.duplicated).toBeLessThanOrEqual(MAX_IN_FLIGHT * MAX_EVENTS)
    expect(peer.received().length).toBeGreaterThan(receivedWhileDown)
    await until(() => gw.gateway.store.stats().entries === 0, 'backlog drained')
    expect(gw.gateway.health().components.uplinks[0]!.connected).toBe(true)

    const text = await metrics.render()
    const retries = ['disconnected', 'timeout', 'unavailable'].map((r) => sample(text, `edge_gateway_send_retries_total{uplink="eh",reason="${r}"}`) ?? 0)
    expect(retries.reduce((a, b) => a + b, 0)).toBeGreaterThan(0)
    expect(sample(text, 'edge_gateway_uplink_backoff_seconds_total{uplink="eh"}')).toBeGreaterThan(0)
  })

  it('ServerBusy for a while: nothing lost, order kept, the throttling and its backoff in the metrics', { timeout: 60_000 }, async () => {
    const { peer, gw, expected, total } = await start(4, 600, 4)
    const { metrics } = gw
    await peer.waitFor((events) => events.length >= 200)

    let open = false
    peer.rejectWithServerBusy(() => open)
    const acceptedWhenThrottled = peer.received().length
    // The SDK retries each batch twice itself; only then does the forwarder see `throttled`.
    await until(() => metrics.snapshot().sendRetries >= 1, 'a throttled send reached the forwarder')
    // Events kept coming in meanwhile and were stored, none accepted by the hub.
    expect(peer.received().length).toBe(acceptedWhenThrottled)
    expect(gw.gateway.store.stats().perUplink.eh!.depth).toBeGreaterThan(0)
    open = true

    await peer.waitUntil(() => distinctPairs(peer.received()) >= total, 40_000)
    const verdict = ehVerdict(peer.received(), expected)
    expect(verdict).toMatchObject({ delivered: total, lost: 0, reordered: 0, unexpected: 0 })
    expect(verdict.duplicated).toBeLessThanOrEqual(MAX_IN_FLIGHT * MAX_EVENTS)
    await until(() => gw.gateway.store.stats().entries === 0, 'backlog drained')
    expect(peer.stats().serverBusyRejections).toBeGreaterThan(0)

    const text = await metrics.render()
    expect(sample(text, 'edge_gateway_send_retries_total{uplink="eh",reason="throttled"}')).toBeGreaterThanOrEqual(1)
    // The service said "Please wait 4 seconds": the forwarder waited at least that long.
    expect(sample(text, 'edge_gateway_uplink_backoff_seconds_total{uplink="eh"}')).toBeGreaterThanOrEqual(4)
    expect(sample(text, 'edge_gateway_uplink_backoff_ms{uplink="eh"}')).toBe(0)
    expect(metrics.snapshot().dropped).toEqual({})
  })
})
