/** Ingest against a real LevelStore: group commit, bounded buffer, alerts ahead of telemetry. */
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { LevelStore } from '../store/index.js'
import { CloudEventBuilder } from '../events/cloudevent-builder.js'
import { silentLogger } from '../core/observability.js'
import type { Reading } from '../core/types.js'
import { GatewayMetrics } from '../telemetry/metrics.js'
import { Ingest } from './ingest.js'
import { noopPipelineMetrics, type PipelineMetrics } from './pipeline-metrics.js'

const reading = (priority: Reading['priority'] = 'telemetry', deviceId = 'd1'): Reading => ({
  deviceId,
  kind: priority === 'alert' ? 'doorbell.press' : 'environment',
  priority,
  timeMs: Date.now(),
  data: { v: 1 },
})

describe('Ingest', () => {
  const dirs: string[] = []
  const stores: LevelStore[] = []
  afterEach(async () => {
    for (const s of stores.splice(0)) await s.close().catch(() => {})
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
  })

  async function setUp(opts: { maxBytes: number; whenFull: 'block' | 'drop_oldest'; maxPending: number; metrics?: PipelineMetrics }): Promise<{ ingest: Ingest; store: LevelStore }> {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'eg-ingest-'))
    dirs.push(dir)
    const store = new LevelStore({ dir, maxBytes: opts.maxBytes, maxAgeMs: 86_400_000, whenFull: opts.whenFull, uplinks: ['u'] })
    stores.push(store)
    await store.open()
    const ingest = new Ingest({ store, builder: new CloudEventBuilder('gw', await store.counters()), metrics: opts.metrics ?? noopPipelineMetrics, log: silentLogger, maxPending: opts.maxPending, maxChunk: 10, alertHeadroom: 5 })
    ingest.start()
    return { ingest, store }
  }

  it('resolves durable only after the commit, with the counts of what was stored', async () => {
    const { ingest, store } = await setUp({ maxBytes: 1e9, whenFull: 'drop_oldest', maxPending: 100 })
    const receipts = await Promise.all([ingest.push('s', [reading(), reading()]), ingest.push('s', [reading()])])
    const outcomes = await Promise.all(receipts.map((r) => r.durable))
    expect(outcomes).toEqual([{ accepted: 2, dropped: 0, lost: 0, invalid: 0 }, { accepted: 1, dropped: 0, lost: 0, invalid: 0 }])
    expect(store.stats().entries).toBe(3)
    await ingest.stop()
  })

  it('makes a full buffer wait (backpressure) but still admits an alert within its headroom', async () => {
    // A store that holds almost nothing, blocking: the first commit stalls, the buffer fills.
    const { ingest, store } = await setUp({ maxBytes: 600, whenFull: 'block', maxPending: 4 })
    await ingest.push('s', [reading(), reading(), reading(), reading()])
    let telemetryAdmitted = false
    const waiting = ingest.push('s', [reading()]).then(() => (telemetryAdmitted = true))
    const alert = await ingest.push('s', [reading('alert')])
    expect(telemetryAdmitted).toBe(false)
    // The alert evicts stored telemetry instead of waiting behind it (block policy, promise 5).
    expect(await alert.durable).toMatchObject({ accepted: 1 })
    expect(ingest.pending).toBeGreaterThanOrEqual(4)
    // Free space: acking what is stored lets the blocked telemetry through.
    const stopWaiting = new AbortController()
    for (;;) {
      // Listen before reading: an append between the read and the wait must not be missed.
      const appended = store.waitForAppend(stopWaiting.signal)
      const batch = await store.read('u', 100, 1e9)
      if (batch.length === 0 && telemetryAdmitted) break
      await store.ack('u', batch)
      // Nothing to ack yet: wait for the unblocked commit (an append), or for the telemetry's admission.
      if (batch.length === 0) await Promise.race([appended, waiting])
    }
    stopWaiting.abort()
    await waiting
    await ingest.stop()
  })

  it('refuses pushes once stopping, after committing what it already holds', async () => {
    const { ingest, store } = await setUp({ maxBytes: 1e9, whenFull: 'drop_oldest', maxPending: 100 })
    const receipt = await ingest.push('s', [reading()])
    await ingest.stop()
    expect(await receipt.durable).toEqual({ accepted: 1, dropped: 0, lost: 0, invalid: 0 })
    await expect(ingest.push('s', [reading()])).rejects.toThrow(/stopping/)
    expect(store.stats().entries).toBe(1)
  })

  it('stopped while a blocked commit was part-way in: counts the stored part as ingested, only the rest as dropped', async () => {
    const metrics = new GatewayMetrics({ defaultMetrics: false })
    // Ten readings in one commit, a store that holds only a few: stored in parts, the rest waits.
    const { ingest, store } = await setUp({ maxBytes: 1500, whenFull: 'block', maxPending: 100, metrics })
    const firstPart = store.waitForAppend(AbortSignal.timeout(10_000))
    const receipts = await Promise.all([ingest.push('a', [reading(), reading()]), ingest.push('b', Array.from({ length: 8 }, () => reading()))])
    await firstPart
    await ingest.stop(0) // the grace is over at once: the blocked append is aborted
    const stored = store.stats().entries
    expect(stored).toBeGreaterThan(2) // push a is in the stored part, push b only in part
    expect(stored).toBeLessThan(10)
    const [a, b] = await Promise.all(receipts.map((r) => r.durable))
    expect(a).toEqual({ accepted: 2, dropped: 0, lost: 0, invalid: 0 })
    expect(b).toMatchObject({ accepted: stored - 2, dropped: 10 - stored, lost: 10 - stored, error: { code: 'GW_ERR_STORE_FULL' } })
    const snap = metrics.snapshot()
    expect(snap.ingested).toBe(stored)
    expect(snap.dropped).toEqual({ store_error: 10 - stored })
  })
})
