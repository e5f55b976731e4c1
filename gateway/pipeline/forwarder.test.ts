/**
 * Forwarder paths no real uplink reaches on demand: a whole send refused for good (dead-lettered,
 * so no rewind follows) while the next batch was being read; and when the next batch is launched
 * while one is out (held sends). Real LevelStore; the uplink is a scripted one.
 */
import { describe, expect, it, onTestFinished } from 'vitest'
import { storeWithEventsForTest } from '../../test/per-test-resources.js'
import { buildEntries } from '../../test/support/eh-entries.js'
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

  /**
   * An uplink whose sends wait until the test releases them: `sent` lists each batch's size as it
   * is handed over, `started(n)` resolves when send number n (from 1) began, `release(n)` lets it resolve.
   */
  function heldUplink(limits: Uplink['limits']): Uplink & { sent: number[]; started(n: number): Promise<void>; release(n: number): void } {
    const starts: Array<() => void> = []
    const startedAt: Array<Promise<void>> = []
    const releases: Array<() => void> = []
    const releasedAt: Array<Promise<void>> = []
    const slot = (n: number): void => {
      while (startedAt.length < n) {
        const i = startedAt.length
        startedAt.push(new Promise((resolve) => (starts[i] = resolve)))
        releasedAt.push(new Promise((resolve) => (releases[i] = resolve)))
      }
    }
    const sent: number[] = []
    return {
      id: 'u',
      type: 'scripted',
      limits,
      sent,
      start: async () => undefined,
      stop: async () => undefined,
      health: () => ({ connected: true }),
      started: (n) => (slot(n), startedAt[n - 1]!),
      release: (n) => (slot(n), releases[n - 1]!()),
      async send(batch: Entry[], signal: AbortSignal): Promise<SendResult> {
        sent.push(batch.length)
        const n = sent.length
        slot(n)
        starts[n - 1]!()
        const aborted = new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(new Error('aborted')), { once: true }))
        await Promise.race([releasedAt[n - 1], aborted])
        return { rejected: [] }
      },
    }
  }

  it('while a batch is out, a partial next batch waits for the head to settle and takes what came meanwhile', { timeout: 5_000 }, async () => {
    const { store } = await storeWithEventsForTest('u', 15)
    const uplink = heldUplink({ maxEvents: 10, maxBytes: 1e9, maxInFlight: 2, lingerMs: 50 })
    const forwarder = new Forwarder({ uplink, store, metrics: noopPipelineMetrics, log: silentLogger })
    forwarder.start()
    onTestFinished(() => forwarder.stop(0))
    await uplink.started(1)
    // 5 events wait, 3 more arrive while the first batch is out: launching at once would have
    // sent the 5 alone (one more message to the peer for the same events).
    await store.append({ events: buildEntries(3, 1, { firstDevice: 5 }).map(({ priority, source, id, json }) => ({ priority, source, id, json })), counters: new Map() })
    expect(uplink.sent).toEqual([10])
    uplink.release(1)
    await uplink.started(2)
    uplink.release(2)
    expect(uplink.sent).toEqual([10, 8])
    await forwarder.stop(5000)
    expect(store.stats().perUplink.u!.depth).toBe(0)
  })

  it('a full batch waiting goes out at once while the head is still out, and lingerMs 0 sends whatever waits', { timeout: 5_000 }, async () => {
    for (const [lingerMs, stored, second, sends] of [[50, 25, 10, 3], [0, 15, 5, 2]] as const) {
      const { store } = await storeWithEventsForTest('u', stored)
      const uplink = heldUplink({ maxEvents: 10, maxBytes: 1e9, maxInFlight: 2, lingerMs })
      const forwarder = new Forwarder({ uplink, store, metrics: noopPipelineMetrics, log: silentLogger })
      forwarder.start()
      // The second send starts while the first is held: waiting for the head would hang here.
      await uplink.started(2)
      expect(uplink.sent).toEqual([10, second])
      for (let n = 1; n <= sends; n++) uplink.release(n)
      await uplink.started(sends)
      await forwarder.stop(5000)
      expect(store.stats().perUplink.u!.depth).toBe(0)
    }
  })

  it('does not spin while the head is out if the store answers every wait for an append at once (closing)', { timeout: 5_000 }, async () => {
    const { store: realStore } = await storeWithEventsForTest('u', 15)
    const store = withMethod<Store, 'waitForAppend'>(realStore, 'waitForAppend', async () => undefined)
    const uplink = heldUplink({ maxEvents: 10, maxBytes: 1e9, maxInFlight: 2, lingerMs: 50 })
    const forwarder = new Forwarder({ uplink, store, metrics: noopPipelineMetrics, log: silentLogger })
    forwarder.start()
    onTestFinished(() => forwarder.stop(0))
    await uplink.started(1)
    // A forwarder looping on promises that are already resolved never lets a timer run.
    await new Promise((resolve) => setTimeout(resolve, 20))
    uplink.release(1)
    await uplink.started(2)
    expect(uplink.sent).toEqual([10, 5])
    uplink.release(2)
  })
})
