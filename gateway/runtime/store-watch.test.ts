import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Level } from 'level'
import { afterEach, describe, expect, it } from 'vitest'
import { LevelStore } from '../store/index.js'
import { GatewayMetrics } from '../telemetry/metrics.js'
import { silentLogger } from '../core/observability.js'
import { StoreWatch } from './store-watch.js'

describe('StoreWatch', () => {
  const dirs: string[] = []
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
  })

  it('reports drops the store makes on its own (maxAge expiry) as dropped_total{reason="expired"}', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'eg-watch-'))
    dirs.push(dir)
    let monoMs = 1_000_000
    const store = new LevelStore({ dir, maxBytes: 1e9, maxAgeMs: 1000, uplinks: ['u'], monotonicNow: () => monoMs })
    await store.open()
    const metrics = new GatewayMetrics({ defaultMetrics: false })
    const watch = new StoreWatch(store, metrics, silentLogger)
    watch.start()
    const events = [1, 2, 3].map((i) => ({ priority: 'telemetry' as const, source: '/gateways/g/s/d', id: `id-${i}`, json: `{"i":${i}}` }))
    await store.append({ events, counters: new Map() })
    monoMs += 5000
    await store.expireNow()
    watch.stop() // flushes the last tick
    expect(metrics.snapshot().dropped.expired).toBe(3)
    expect(await metrics.render()).toMatch(/edge_gateway_events_dropped_total\{reason="expired",uplink=""\} 3/)
    await store.close()
  })

  it('reports what the store counted while opening (entries lost at the front) in /metrics too', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'eg-watch-'))
    dirs.push(dir)
    const first = new LevelStore({ dir, maxBytes: 1e9, maxAgeMs: 1e9, uplinks: ['u'] })
    await first.open()
    const events = [1, 2, 3, 4].map((i) => ({ priority: 'telemetry' as const, source: '/gateways/g/s/d', id: `id-${i}`, json: `{"i":${i}}` }))
    await first.append({ events, counters: new Map() })
    await first.close()
    // What a damaged table does: the two oldest entries vanish without a deletion being recorded.
    const db = new Level<string, Buffer>(dir, { keyEncoding: 'utf8', valueEncoding: 'buffer' })
    await db.batch([{ type: 'del', key: 'e!t!0000000000000000' }, { type: 'del', key: 'e!t!0000000000000001' }])
    await db.close()
    const store = new LevelStore({ dir, maxBytes: 1e9, maxAgeMs: 1e9, uplinks: ['u'] })
    await store.open()
    const metrics = new GatewayMetrics({ defaultMetrics: false })
    const watch = new StoreWatch(store, metrics, silentLogger)
    watch.start()
    watch.stop()
    expect(metrics.snapshot().dropped.corrupt_entry).toBe(2)
    await store.close()
  })
})
