/**
 * The forwarder must not launch a batch it read while an outstanding send failed: that batch
 * would reach the peer ahead of the failed entries, which are only resent after the rewind.
 * Seen once in the chaos clock-jump case (a device's events #49-#59 first arrived after #84).
 *
 * Real LevelStore, real EventHubsUplink, the AMQP test peer. The store's read is only delayed
 * (until the first send failed) to hit that window every time instead of now and then.
 */
import { describe, expect, it, onTestFinished } from 'vitest'
import { silentLogger } from '../gateway/core/observability.js'
import type { Store, Uplink } from '../gateway/core/types.js'
import { Forwarder } from '../gateway/pipeline/forwarder.js'
import { noopPipelineMetrics } from '../gateway/pipeline/pipeline-metrics.js'
import { ehVerdict } from './support/eh-verdict.js'
import { startPeerForTest, startUplinkForTest, storeWithEventsForTest } from './per-test-resources.js'
import { withMethod } from './support/with-method.js'

describe('Forwarder: a send that fails while the next batch is read', () => {
  it('does not launch that batch: every device first reaches the peer in order, nothing lost', { timeout: 30_000 }, async () => {
    const peer = await startPeerForTest()
    const realUplink = await startUplinkForTest(peer, { maxEvents: 10, maxInFlight: 2, lingerMs: 0, retryMaxMs: 100 })
    const { store: realStore, events } = await storeWithEventsForTest('eh', 40)

    let firstSendSettled!: () => void
    const firstSend = new Promise<void>((resolve) => (firstSendSettled = resolve))
    let sends = 0
    const uplink: Uplink = withMethod<Uplink, 'send'>(realUplink, 'send', (batch, signal) => {
      const sent = realUplink.send(batch, signal)
      if (++sends === 1) sent.then(firstSendSettled, firstSendSettled)
      return sent
    })
    let reads = 0
    const store: Store = withMethod<Store, 'read'>(realStore, 'read', async (...args) => {
      if (++reads === 2) await firstSend // the second batch is read while the first one fails
      return realStore.read(...args)
    })

    peer.rejectWithServerBusy(3) // the first delivery and both SDK retries of it: the first send fails
    const forwarder = new Forwarder({ uplink, store, metrics: noopPipelineMetrics, log: silentLogger, retryInitialMs: 10, retryMaxMs: 50 })
    forwarder.start()
    onTestFinished(() => forwarder.stop(0))
    await peer.waitFor((received) => ehVerdict(received, new Map([[events[0]!.source, 40]])).delivered === 40)

    expect(peer.stats().serverBusyRejections).toBe(3)
    expect(ehVerdict(peer.received(), new Map([[events[0]!.source, 40]]))).toMatchObject({ delivered: 40, lost: 0, reordered: 0 })
  })
})
