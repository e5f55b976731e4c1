/**
 * Forwarder paths no real uplink reaches on demand: a whole send refused for good (dead-lettered,
 * so no rewind follows) while the next batch was being read. Real LevelStore; the uplink is a
 * scripted one that refuses its first send.
 */
import { describe, expect, it, onTestFinished } from 'vitest'
import { storeWithEventsForTest } from '../../test/per-test-resources.js'
import { withMethod } from '../../test/support/with-method.js'
import { UplinkError } from '../core/errors.js'
import { silentLogger } from '../core/observability.js'
import type { Entry, SendResult, Store, Uplink } from '../core/types.js'
import { Forwarder } from './forwarder.js'
import { noopPipelineMetrics } from './pipeline-metrics.js'

describe('Forwarder', () => {
  it('a batch read while a send was refused for good is still sent (no rewind follows a dead-letter)', { timeout: 5_000 }, async () => {
    const { store: realStore, events } = await storeWithEventsForTest('u', 30)

    let secondReadStarted!: () => void
    const secondRead = new Promise<void>((resolve) => (secondReadStarted = resolve))
    let firstFailed!: () => void
    const firstFailure = new Promise<void>((resolve) => (firstFailed = resolve))
    let allSent!: () => void
    const sentAll = new Promise<void>((resolve) => (allSent = resolve))
    const delivered: string[] = []
    let sends = 0
    const uplink: Uplink = {
      id: 'u',
      type: 'scripted',
      limits: { maxEvents: 10, maxBytes: 1e9, maxInFlight: 2, lingerMs: 0 },
      start: async () => undefined,
      stop: async () => undefined,
      health: () => ({ connected: true }),
      async send(batch: Entry[]): Promise<SendResult> {
        if (++sends === 1) {
          await secondRead // fail while the forwarder reads its next batch
          firstFailed()
          throw new UplinkError('message_too_large', 'refused for good', { retriable: false })
        }
        delivered.push(...batch.map((e) => e.id))
        if (delivered.length === 20) allSent()
        return { rejected: [] }
      },
    }
    let reads = 0
    const store = withMethod<Store, 'read'>(realStore, 'read', async (...args) => {
      if (++reads === 2) {
        secondReadStarted()
        await firstFailure
      }
      return realStore.read(...args)
    })

    const forwarder = new Forwarder({ uplink, store, metrics: noopPipelineMetrics, log: silentLogger, retryInitialMs: 10, retryMaxMs: 50 })
    forwarder.start()
    onTestFinished(() => forwarder.stop(0))
    await sentAll // without keeping the batch read meanwhile, its 10 events were never sent
    expect(delivered).toEqual(events.slice(10).map((e) => e.id))
    await forwarder.stop(5000) // a graceful stop acks what was confirmed
    expect(realStore.stats().perUplink.u!.depth).toBe(0) // 10 dead-lettered, 20 acked
  })
})
