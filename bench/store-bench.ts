/**
 * LevelStore throughput: durable append (one synced db.batch per append) with batches of 100 and
 * 1000 events of ~217 B, and drain (read + ack, which deletes) of what was appended.
 * Prints nothing; bench/run calls it and prints the figures.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { NewEvent } from '../gateway/core/types.js'
import { LevelStore } from '../gateway/store/index.js'

const UPLINK = 'bench'

/** Size of a typical structured CloudEvent from a sensor (FIELD-NOTES measurements use it too). */
const EVENT_JSON_BYTES = 217

/** A structured CloudEvent of exactly EVENT_JSON_BYTES for n < 10^8 (padded in `data.note`). */
function benchEvent(n: number): NewEvent {
  const id = `bench-${String(n).padStart(8, '0')}`
  const source = 'urn:gw:bench:sensor-0001'
  const event = {
    specversion: '1.0',
    id,
    source,
    type: 'io.edge.environment',
    time: '2025-01-01T00:00:00.000Z',
    data: { temperature: 21.5, humidity: 40.2, note: '' },
  }
  event.data.note = '-'.repeat(Math.max(0, EVENT_JSON_BYTES - Buffer.byteLength(JSON.stringify(event))))
  return { priority: 'telemetry', source, id, json: JSON.stringify(event) }
}

async function withStore<T>(fn: (store: LevelStore) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'gw-store-bench-'))
  const store = new LevelStore({ dir, maxBytes: 4 * 1024 ** 3, maxAgeMs: 86_400_000, whenFull: 'drop_oldest', uplinks: [UPLINK] })
  try {
    await store.open()
    return await fn(store)
  } finally {
    await store.close()
    rmSync(dir, { recursive: true, force: true })
  }
}

/** Appends `totalEvents` in batches; resolves with events per second. */
async function appendRate(store: LevelStore, totalEvents: number, batchEvents: number): Promise<number> {
  const batches: NewEvent[][] = []
  for (let n = 0; n < totalEvents; n += batchEvents) batches.push(Array.from({ length: batchEvents }, (_, i) => benchEvent(n + i)))
  const counters = new Map<string, number>()
  const startNs = process.hrtime.bigint()
  for (const [i, events] of batches.entries()) {
    counters.set(events[0]!.source, (i + 1) * batchEvents)
    await store.append({ events, counters })
  }
  return perSecond(totalEvents, startNs)
}

/** Reads and acks everything queued, `pageEvents` at a time; resolves with events per second. */
async function drainRate(store: LevelStore, pageEvents: number): Promise<number> {
  let drained = 0
  const startNs = process.hrtime.bigint()
  for (let page = await store.read(UPLINK, pageEvents, Infinity); page.length > 0; page = await store.read(UPLINK, pageEvents, Infinity)) {
    await store.ack(UPLINK, page)
    drained += page.length
  }
  return perSecond(drained, startNs)
}

function perSecond(events: number, startNs: bigint): number {
  const seconds = Number(process.hrtime.bigint() - startNs) / 1e9
  return Math.round(events / seconds)
}

/** Measures the store; keys are figure names (ev/s, bytes). Takes a few seconds. */
export async function benchStore(): Promise<Record<string, number>> {
  const results: Record<string, number> = { store_event_bytes: Buffer.byteLength(benchEvent(0).json) }
  results.store_append_batch100_ev_per_s = await withStore((store) => appendRate(store, 50_000, 100))
  await withStore(async (store) => {
    results.store_append_batch1000_ev_per_s = await appendRate(store, 200_000, 1000)
    results.store_drain_read1000_ack_ev_per_s = await drainRate(store, 1000)
  })
  return results
}
