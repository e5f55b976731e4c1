import { describe, expect, it } from 'vitest'
import { compileTopicTemplate, splitEventSource } from './topic-template.js'

const fields = { gatewayId: 'gw1', sourceId: 'ble', deviceId: 'AA:BB:CC:DD:EE:FF', type: 'io.edgegateway.environment' }

describe('topic templates', () => {
  it('fills every placeholder and keeps literals', () => {
    const t = compileTopicTemplate('edge/{gatewayId}/{sourceId}/{deviceId}/{type}/up')
    expect(t.needsType).toBe(true)
    expect(t.render(fields)).toBe('edge/gw1/ble/AA:BB:CC:DD:EE:FF/io.edgegateway.environment/up')
    expect(compileTopicTemplate('{deviceId}').needsType).toBe(false)
  })

  it('keeps a value inside one level and never produces wildcards or NUL (MQTT-3.3.2-2, MQTT-1.5.4-2)', () => {
    const t = compileTopicTemplate('edge/{deviceId}/x')
    expect(t.render({ ...fields, deviceId: 'a/b+c#d\u0000e' })).toBe('edge/a_b_c_d_e/x')
  })

  it('never starts a topic with $ (reserved, MQTT 4.7.2)', () => {
    expect(compileTopicTemplate('{deviceId}/t').render({ ...fields, deviceId: '$SYS' })).toBe('_SYS/t')
  })

  it('splits CloudEvent sources built at ingest', () => {
    expect(splitEventSource('/gateways/gw1/ble/AA:BB')).toEqual({ gatewayId: 'gw1', sourceId: 'ble', deviceId: 'AA:BB' })
    expect(splitEventSource('/gateways/gw1/ble/a/b')).toEqual({ gatewayId: 'gw1', sourceId: 'ble', deviceId: 'a/b' })
    for (const bad of ['', '/gateways/gw1', '/gateways/gw1/ble', '/gateways/gw1/ble/', 'urn:x', '/gateways//ble/d']) {
      expect(splitEventSource(bad)).toBeUndefined()
    }
  })
})
