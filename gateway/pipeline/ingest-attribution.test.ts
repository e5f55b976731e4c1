/**
 * Ingest credits each push with exactly its own readings, against a real LevelStore: one group
 * commit carries several sources' pushes, and the store may refuse or lose events anywhere in it.
 * Receipts and the per-source `ingested` metric must name the right push, and a receipt's `lost`
 * must count only what a store error lost (sources report that as not durable).
 */
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { LevelStore } from '../store/index.js'
import { CloudEventBuilder } from '../events/cloudevent-builder.js'
import { silentLogger } from '../core/observability.js'
import type { Reading, WhenFull } from '../core/types.js'
import { GatewayMetrics } from '../telemetry/metrics.js'
import { Ingest } from './ingest.js'

const reading = (deviceId = 'd1', data: unknown = { v: 1 }): Reading => ({ deviceId, kind: 'environment', priority: 'telemetry', timeMs: Date.now(), data })
/** Larger than the stores below may hold: refused by the store (store_full_rejected). */
const oversize = (): Reading => reading('d1', { pad: 'x'.repeat(20_000) })
/** Refused at ingest (invalid_reading): a CloudEvent source cannot carry the space. */
const invalid = (): Reading => reading('bad device')

describe('Ingest attribution per push', () => {
  const dirs: string[] = []
  const stores: LevelStore[] = []
  afterEach(async () => {
    for (const s of stores.splice(0)) await s.close().catch(() => {})
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
  })

  async function setUp(maxBytes: number, whenFull: WhenFull) {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'eg-ingest-attr-'))
    dirs.push(dir)
    const store = new LevelStore({ dir, maxBytes, maxAgeMs: 86_400_000, whenFull, uplinks: ['u'] })
    stores.push(store)
    await store.open()
    const metrics = new GatewayMetrics({ defaultMetrics: false })
    const ingest = new Ingest({ store, builder: new CloudEventBuilder('gw', await store.counters()), metrics, log: silentLogger, maxPending: 100, maxChunk: 20 })
    ingest.start()
    const ingestedBySource = async (): Promise<Record<string, number>> => {
      const metric = await metrics.registry.getSingleMetric('edge_gateway_events_ingested_total')!.get()
      return Object.fromEntries(metric.values.map((v) => [v.labels.source, v.value]))
    }
    return { ingest, store, metrics, ingestedBySource }
  }

  /** Bytes one `reading()` takes in the store. */
  async function readingBytes(): Promise<number> {
    const { ingest, store } = await setUp(1e9, 'drop_oldest')
    await (await ingest.push('s', [reading()])).durable
    await ingest.stop()
    return store.stats().bytes
  }

  it('an oversize reading in the middle of the first push is that push\'s drop, not the next one\'s', async () => {
    const { ingest, store, metrics, ingestedBySource } = await setUp(10_000, 'drop_oldest')
    // Pushed in the same turn: one commit of a's three readings followed by b's two.
    const receipts = await Promise.all([ingest.push('a', [reading(), oversize(), reading()]), ingest.push('b', [reading(), reading()])])
    const [a, b] = await Promise.all(receipts.map((r) => r.durable))
    expect(a).toEqual({ accepted: 2, dropped: 1, lost: 0, invalid: 0 })
    expect(b).toEqual({ accepted: 2, dropped: 0, lost: 0, invalid: 0 })
    expect(await ingestedBySource()).toEqual({ a: 2, b: 2 })
    expect(metrics.snapshot().dropped).toEqual({ store_full_rejected: 1 })
    expect(store.stats().entries).toBe(4)
    await ingest.stop()
  })

  it('drop_oldest keeping only the newest of a commit credits the push they came from', async () => {
    const size = await readingBytes()
    // Room for three readings: of a commit of five, a's two oldest are skipped (counted evicted).
    const { ingest, metrics, ingestedBySource } = await setUp(Math.floor(size * 3.5), 'drop_oldest')
    const receipts = await Promise.all([ingest.push('a', [reading(), reading(), reading()]), ingest.push('b', [reading(), reading()])])
    const [a, b] = await Promise.all(receipts.map((r) => r.durable))
    expect(a).toEqual({ accepted: 1, dropped: 2, lost: 0, invalid: 0 })
    expect(b).toEqual({ accepted: 2, dropped: 0, lost: 0, invalid: 0 })
    expect(await ingestedBySource()).toEqual({ a: 1, b: 2 })
    expect(metrics.snapshot().dropped).toEqual({ store_full_oldest: 2 })
    await ingest.stop()
  })

  it('a commit failed by a store error reports as lost only what the error lost, not the invalid or refused readings', async () => {
    const size = await readingBytes()
    // whenFull=block, room for three: the commit is stored in parts; stopping aborts the rest.
    const { ingest, store, metrics, ingestedBySource } = await setUp(size * 3, 'block')
    const firstPart = store.waitForAppend(AbortSignal.timeout(10_000))
    const receipts = await Promise.all([
      ingest.push('a', [reading(), reading()]),
      ingest.push('b', [reading(), invalid(), oversize(), ...Array.from({ length: 5 }, () => reading())]),
    ])
    await firstPart
    await ingest.stop(0) // the grace is over at once: the blocked append is aborted
    const stored = store.stats().entries
    expect(stored).toBe(3) // a's two readings and b's first
    const [a, b] = await Promise.all(receipts.map((r) => r.durable))
    expect(a).toEqual({ accepted: 2, dropped: 0, lost: 0, invalid: 0 })
    // b: 1 stored; invalid and oversize dropped but counted where they were dropped; 5 lost.
    expect(b).toMatchObject({ accepted: 1, dropped: 7, lost: 5, invalid: 1, error: { code: 'GW_ERR_STORE_FULL' } })
    expect(await ingestedBySource()).toEqual({ a: 2, b: 1 })
    expect(metrics.snapshot().dropped).toEqual({ store_full_rejected: 1, store_error: 5 })
    expect(metrics.snapshot().rejected).toBe(1) // the invalid reading
  })
})
