import { describe, expect, it } from 'vitest'
import type { StoreStats } from '../core/index.js'
import { GatewayMetrics } from './metrics.js'

/** Value of one exact series line in Prometheus text, or undefined when absent. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `))
  return line === undefined ? undefined : Number(line.slice(series.length + 1))
}

function storeStats(over: Partial<StoreStats> = {}): StoreStats {
  return {
    entries: 120, bytes: 40_000, maxBytes: 1_000_000, oldestAgeMs: 5_000,
    perUplink: { cloud: { depth: 100, bytes: 30_000, oldestAgeMs: 4_500 }, local: { depth: 0, bytes: 0, oldestAgeMs: 0 } },
    drops: { store_full_oldest: 0, store_full_rejected: 0, expired: 0, dead_letter: 0, corrupt_entry: 0 },
    deadLetters: 3,
    leftoverClears: { ranges: 1, entries: 10_000 },
    blockedAppends: 2,
    ...over,
  }
}

describe('GatewayMetrics counters', () => {
  it('counts ingested, forwarded, dropped, rejected, retries with stable labels', async () => {
    const m = new GatewayMetrics({ defaultMetrics: false })
    m.ingested('sim', 10)
    m.ingested('sim', 5)
    m.forwarded('cloud', 7)
    m.dropped('store_full_oldest', 2)
    m.dropped('dead_letter', 1, { uplink: 'cloud' })
    m.rejected('serial-1', 'bad_checksum')
    m.rejected('serial-1', 'bad_checksum', 4)
    m.sendRetry('cloud', 'disconnected')
    const text = await m.render()
    expect(sample(text, 'edge_gateway_events_ingested_total{source="sim"}')).toBe(15)
    expect(sample(text, 'edge_gateway_events_forwarded_total{uplink="cloud"}')).toBe(7)
    expect(sample(text, 'edge_gateway_events_dropped_total{reason="store_full_oldest",uplink=""}')).toBe(2)
    expect(sample(text, 'edge_gateway_events_dropped_total{reason="dead_letter",uplink="cloud"}')).toBe(1)
    expect(sample(text, 'edge_gateway_input_rejected_total{source="serial-1",reason="bad_checksum"}')).toBe(5)
    expect(sample(text, 'edge_gateway_send_retries_total{uplink="cloud",reason="disconnected"}')).toBe(1)
  })

  it('pre-creates store-wide drop reasons at 0 so alerts see them before the first drop', async () => {
    const text = await new GatewayMetrics({ defaultMetrics: false }).render()
    for (const reason of ['store_full_oldest', 'store_full_rejected', 'expired', 'corrupt_entry', 'store_error']) {
      expect(sample(text, `edge_gateway_events_dropped_total{reason="${reason}",uplink=""}`)).toBe(0)
    }
  })

  it('ignores zero, negative and NaN counts instead of throwing on the hot path', async () => {
    const m = new GatewayMetrics({ defaultMetrics: false })
    expect(() => {
      m.ingested('sim', -1)
      m.ingested('sim', Number.NaN)
      m.forwarded('cloud', 0)
      m.dropped('expired', -3)
      m.backoff('cloud', -5)
      m.backoffWaited('cloud', Number.NaN)
    }).not.toThrow()
    const text = await m.render()
    expect(text).not.toContain('edge_gateway_events_ingested_total{')
    expect(sample(text, 'edge_gateway_uplink_backoff_ms{uplink="cloud"}')).toBe(0)
    expect(sample(text, 'edge_gateway_uplink_backoff_seconds_total{uplink="cloud"}')).toBeUndefined()
  })

  it('records send duration and batch size histograms and backoff gauge/counter', async () => {
    const m = new GatewayMetrics({ defaultMetrics: false })
    m.sendBatch('cloud', 0.02, 50)
    m.sendBatch('cloud', 3, 100)
    m.backoff('cloud', 1500)
    m.backoffWaited('cloud', 1500)
    let text = await m.render()
    expect(sample(text, 'edge_gateway_send_duration_seconds_count{uplink="cloud"}')).toBe(2)
    expect(sample(text, 'edge_gateway_send_duration_seconds_sum{uplink="cloud"}')).toBeCloseTo(3.02)
    expect(sample(text, 'edge_gateway_send_duration_seconds_bucket{le="0.025",uplink="cloud"}')).toBe(1)
    expect(sample(text, 'edge_gateway_send_batch_events_sum{uplink="cloud"}')).toBe(150)
    expect(sample(text, 'edge_gateway_uplink_backoff_ms{uplink="cloud"}')).toBe(1500)
    expect(sample(text, 'edge_gateway_uplink_backoff_seconds_total{uplink="cloud"}')).toBe(1.5)
    m.backoff('cloud', 0)
    text = await m.render()
    expect(sample(text, 'edge_gateway_uplink_backoff_ms{uplink="cloud"}')).toBe(0)
    expect(sample(text, 'edge_gateway_uplink_backoff_seconds_total{uplink="cloud"}')).toBe(1.5)
  })

  it('snapshot() returns plain totals', () => {
    const m = new GatewayMetrics({ defaultMetrics: false })
    m.ingested('a', 3)
    m.ingested('b', 4)
    m.forwarded('cloud', 6)
    m.dropped('expired', 2)
    m.dropped('dead_letter', 1, { uplink: 'cloud' })
    m.dropped('dead_letter', 1, { uplink: 'local' })
    m.rejected('a', 'bad_json', 2)
    m.sendRetry('cloud', 'timeout')
    expect(m.snapshot()).toEqual({
      ingested: 7, forwarded: 6, dropped: { expired: 2, dead_letter: 2 }, droppedTotal: 4, rejected: 2, sendRetries: 1,
    })
  })

  it('lets several instances live in one process (own registries)', async () => {
    const a = new GatewayMetrics()
    const b = new GatewayMetrics()
    a.ingested('x', 1)
    expect(sample(await a.render(), 'edge_gateway_events_ingested_total{source="x"}')).toBe(1)
    expect(sample(await b.render(), 'edge_gateway_events_ingested_total{source="x"}')).toBeUndefined()
  })

  it('collects default process metrics without a prefix', async () => {
    const text = await new GatewayMetrics().render()
    expect(text).toContain('\nprocess_resident_memory_bytes ')
    expect(text).toContain('nodejs_eventloop_lag_seconds')
    expect(new GatewayMetrics({ defaultMetrics: false }).contentType).toMatch(/^text\/plain; version=0\.0\.4/)
  })
})

describe('GatewayMetrics scrape-time gauges', () => {
  it('reflects the store, uplink and source callbacks at each scrape', async () => {
    const m = new GatewayMetrics({ defaultMetrics: false })
    let stats = storeStats()
    let connected = false
    m.observeStore(() => stats)
    m.observeUplinks(() => [{ id: 'cloud', health: { connected } }])
    m.observeSources(() => [
      { id: 'sim', type: 'simulator', health: { state: 'running' } },
      { id: 'ble', type: 'ble', health: { state: 'unavailable', detail: 'no adapter' } },
    ])
    let text = await m.render()
    expect(sample(text, 'edge_gateway_queue_depth{uplink="cloud"}')).toBe(100)
    expect(sample(text, 'edge_gateway_queue_bytes{uplink="cloud"}')).toBe(30_000)
    expect(sample(text, 'edge_gateway_queue_oldest_age_seconds{uplink="cloud"}')).toBe(4.5)
    expect(sample(text, 'edge_gateway_queue_depth{uplink="local"}')).toBe(0)
    expect(sample(text, 'edge_gateway_store_bytes')).toBe(40_000)
    expect(sample(text, 'edge_gateway_store_max_bytes')).toBe(1_000_000)
    expect(sample(text, 'edge_gateway_store_entries')).toBe(120)
    expect(sample(text, 'edge_gateway_dead_letters')).toBe(3)
    expect(sample(text, 'edge_gateway_store_leftover_entries')).toBe(10_000)
    expect(sample(text, 'edge_gateway_store_blocked_appends')).toBe(2)
    expect(sample(text, 'edge_gateway_uplink_connected{uplink="cloud"}')).toBe(0)
    expect(sample(text, 'edge_gateway_source_up{source="sim",type="simulator",state="running"}')).toBe(1)
    expect(sample(text, 'edge_gateway_source_up{source="sim",type="simulator",state="disconnected"}')).toBe(0)
    expect(sample(text, 'edge_gateway_source_up{source="ble",type="ble",state="unavailable"}')).toBe(1)

    stats = storeStats({ entries: 5, perUplink: { cloud: { depth: 5, bytes: 900, oldestAgeMs: 0 } }, leftoverClears: { ranges: 0, entries: 0 } })
    connected = true
    text = await m.render()
    expect(sample(text, 'edge_gateway_store_entries')).toBe(5)
    expect(sample(text, 'edge_gateway_store_leftover_entries')).toBe(0)
    expect(sample(text, 'edge_gateway_queue_depth{uplink="cloud"}')).toBe(5)
    // An uplink that left the stats leaves no stale series behind.
    expect(sample(text, 'edge_gateway_queue_depth{uplink="local"}')).toBeUndefined()
    expect(sample(text, 'edge_gateway_uplink_connected{uplink="cloud"}')).toBe(1)
  })

  it('emits nothing for unobserved gauges', async () => {
    const text = await new GatewayMetrics({ defaultMetrics: false }).render()
    expect(sample(text, 'edge_gateway_store_bytes')).toBeUndefined()
    expect(text).toContain('# TYPE edge_gateway_store_bytes gauge')
  })

  it('a throwing callback leaves its gauges empty and is counted, the scrape still succeeds', async () => {
    const m = new GatewayMetrics({ defaultMetrics: false })
    m.observeStore(() => {
      throw new Error('store closed')
    })
    m.observeUplinks(() => [{ id: 'cloud', health: { connected: true } }])
    m.ingested('sim', 1)
    const text = await m.render()
    expect(sample(text, 'edge_gateway_store_bytes')).toBeUndefined()
    expect(sample(text, 'edge_gateway_uplink_connected{uplink="cloud"}')).toBe(1)
    expect(sample(text, 'edge_gateway_events_ingested_total{source="sim"}')).toBe(1)
    expect(sample(text, 'edge_gateway_observe_errors_total{provider="store"}')).toBeGreaterThan(0)
  })
})
