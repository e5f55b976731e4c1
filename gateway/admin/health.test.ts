import { describe, expect, it } from 'vitest'
import { evaluateHealth, type HealthInput } from './health.js'

function input(over: Partial<HealthInput> = {}): HealthInput {
  return {
    pipelineRunning: true,
    storeOpen: true,
    heartbeatAgeMs: 500,
    sources: [{ id: 'sim', type: 'simulator', health: { state: 'running' } }],
    uplinks: [{ id: 'cloud', health: { connected: true }, disconnectedForMs: 0 }],
    ...over,
  }
}

describe('evaluateHealth', () => {
  it('is ok when everything runs', () => {
    const r = evaluateHealth(input())
    expect(r).toMatchObject({ status: 'ok', healthy: true, reasons: [], warnings: [] })
    expect(r.components.sources).toEqual([{ id: 'sim', type: 'simulator', state: 'running', detail: undefined }])
    expect(r.components.uplinks[0]).toMatchObject({ id: 'cloud', connected: true, disconnectedForMs: 0 })
  })

  it('is unhealthy when the pipeline stopped, the store closed or a heartbeat is stale', () => {
    expect(evaluateHealth(input({ pipelineRunning: false })).reasons).toEqual(['pipeline: not running'])
    expect(evaluateHealth(input({ storeOpen: false })).reasons).toEqual(['store: closed'])
    const stale = evaluateHealth(input({ heartbeatAgeMs: 45_000 }))
    expect(stale).toMatchObject({ status: 'unhealthy', healthy: false })
    expect(stale.reasons).toEqual(['pipeline: heartbeat 45 s old (limit 30 s)'])
    expect(evaluateHealth(input({ heartbeatAgeMs: 45_000 }), { heartbeatMaxAgeMs: 60_000 }).healthy).toBe(true)
    expect(evaluateHealth(input({ heartbeatAgeMs: undefined })).healthy).toBe(true)
  })

  it('degrades for an uplink down within its grace and fails beyond it', () => {
    const brief = evaluateHealth(input({ uplinks: [{ id: 'cloud', health: { connected: false, detail: 'ECONNREFUSED' }, disconnectedForMs: 5_000 }] }))
    expect(brief).toMatchObject({ status: 'degraded', healthy: true, reasons: [] })
    expect(brief.warnings).toEqual(['uplink cloud: disconnected for 5 s: ECONNREFUSED'])
    const long = evaluateHealth(input({ uplinks: [{ id: 'cloud', health: { connected: false }, disconnectedForMs: 61_000 }] }))
    expect(long).toMatchObject({ status: 'unhealthy', healthy: false })
    expect(long.reasons).toEqual(['uplink cloud: disconnected for 61 s (grace 60 s)'])
    expect(evaluateHealth(input({ uplinks: [{ id: 'cloud', health: { connected: false }, disconnectedForMs: 61_000 }] }), { uplinkGraceMs: 120_000 }).status).toBe('degraded')
  })

  it('reports unavailable, disconnected and stopped sources as degraded, never unhealthy', () => {
    const r = evaluateHealth(input({
      sources: [
        { id: 'ble', type: 'ble', health: { state: 'unavailable', detail: 'no Bluetooth adapter (EAFNOSUPPORT)' } },
        { id: 'uart', type: 'serial', health: { state: 'disconnected' } },
        { id: 'gpio', type: 'gpio', health: { state: 'stopped' } },
        { id: 'sim', type: 'simulator', health: { state: 'done' } },
        { id: 'mq', type: 'mqtt', health: { state: 'starting' } },
      ],
    }))
    expect(r).toMatchObject({ status: 'degraded', healthy: true, reasons: [] })
    expect(r.warnings).toEqual([
      'source ble (ble): unavailable: no Bluetooth adapter (EAFNOSUPPORT)',
      'source uart (serial): disconnected',
      'source gpio (gpio): stopped',
    ])
    expect(r.components.sources).toHaveLength(5)
  })

  it('lists both reasons and warnings when unhealthy and degraded at once', () => {
    const r = evaluateHealth(input({ storeOpen: false, sources: [{ id: 'ble', type: 'ble', health: { state: 'unavailable' } }] }))
    expect(r.status).toBe('unhealthy')
    expect(r.reasons).toEqual(['store: closed'])
    expect(r.warnings).toEqual(['source ble (ble): unavailable'])
  })
})
