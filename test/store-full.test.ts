/**
 * A full store under each whenFull policy, with the broker away: the policy is obeyed, every drop is
 * counted, the gateway keeps running, and when the broker returns the subscriber sees exactly as
 * many sequence gaps as the gateway counted drops (block: none, and the source was paused instead).
 */
import { describe, expect, it } from 'vitest'
import { requireMosquitto } from './support/mosquitto.js'
import { expectedFromSimulator, until } from './support/gateway-harness.js'
import { startOutageBrokerForTest, startTestGatewayForTest } from './per-test-resources.js'

const hasMosquitto = requireMosquitto()
const DEVICES = 2
const COUNT = 500
const TOTAL = DEVICES * COUNT

describe.skipIf(!hasMosquitto)('full store, broker away', () => {
  /** The subscriber, then a gateway with a 64 KiB store that starts while the broker is away. */
  async function setUp(whenFull: string, ingest?: Record<string, unknown>) {
    const { broker, col } = await startOutageBrokerForTest(`full-${whenFull}`)
    await broker.stop()
    const g = await startTestGatewayForTest({
      sources: [{ type: 'simulator', id: 'sim', devices: DEVICES, intervalMs: 0, count: COUNT }],
      uplinks: [{ type: 'mqtt', id: 'up', url: broker.url, reconnectMaxMs: 500 }],
      store: { maxBytes: '64KiB', whenFull },
      ...(ingest ? { ingest } : {}),
    })
    return { broker, col, g }
  }

  for (const [whenFull, reason] of [
    ['drop_oldest', 'store_full_oldest'],
    ['reject_new', 'store_full_rejected'],
  ] as const) {
    it(`${whenFull}: drops are counted as ${reason}, and they are exactly the gaps the subscriber sees`, async () => {
      const { broker, col, g } = await setUp(whenFull)
      await g.gateway.sourcesDone()
      await until(() => g.gateway.pendingIngest === 0, 'ingest flushed')
      const stats = g.gateway.store.stats()
      expect(stats.bytes).toBeLessThanOrEqual(64 * 1024)
      const dropped = g.metrics.snapshot().dropped[reason] ?? 0
      expect(dropped).toBeGreaterThan(0)
      expect(stats.entries + dropped).toBe(TOTAL)
      expect(g.gateway.health().components.pipeline.running).toBe(true)

      await broker.restart()
      await col.waitFor((c) => c.events.length >= stats.entries, 30_000)
      await until(() => g.gateway.store.stats().perUplink.up!.depth === 0, 'drained')
      const verdict = col.verdict(expectedFromSimulator('gw-test', 'sim', DEVICES, COUNT))
      expect(verdict.lost).toBe(dropped)
      expect(verdict.delivered).toBe(stats.entries)
      expect(verdict.reordered).toBe(0)
      if (whenFull === 'drop_oldest') {
        // The newest readings survive: each device's last reading arrived.
        const last = col.events.filter((e) => e.sequence === COUNT)
        expect(last).toHaveLength(DEVICES)
      }
    })
  }

  it('block: the source is paused instead of dropping, and everything arrives once the broker is back', async () => {
    const maxPending = 100
    const { broker, col, g } = await setUp('block', { maxPending, maxChunk: 50 })
    await until(() => g.gateway.pendingIngest >= maxPending, 'ingest buffer full behind the blocked store')
    const ingested = g.metrics.snapshot().ingested
    // The simulator holds at most one push worth (256) besides what ingest holds: it is paused.
    expect(ingested + g.gateway.pendingIngest).toBeLessThan(TOTAL)
    expect(g.metrics.snapshot().droppedTotal).toBe(0)

    await broker.restart()
    await col.waitFor((c) => c.events.length >= TOTAL, 30_000)
    const verdict = col.verdict(expectedFromSimulator('gw-test', 'sim', DEVICES, COUNT))
    expect(verdict).toMatchObject({ delivered: TOTAL, lost: 0, reordered: 0 })
    expect(g.metrics.snapshot().droppedTotal).toBe(0)
  })
})
