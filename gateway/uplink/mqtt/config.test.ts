import { describe, expect, it } from 'vitest'
import { classifyPubackCode } from './classify-error.js'
import { redactUrl } from './client-options.js'
import { mqttUplinkSchema } from './config.js'

describe('mqtt uplink config', () => {
  it('applies defaults', () => {
    const c = mqttUplinkSchema.parse({ type: 'mqtt', id: 'cloud', url: 'mqtt://broker:1883' })
    expect(c).toMatchObject({ mode: 'structured', protocolVersion: 5, qos: 1, maxEvents: 100, stopGraceMs: 2000 })
    expect(c.maxPacketBytes).toBeUndefined()
  })

  it('refuses binary mode on MQTT 3.1.1 (binding 1.3)', () => {
    expect(() => mqttUplinkSchema.parse({ type: 'mqtt', id: 'c', url: 'mqtt://b', mode: 'binary', protocolVersion: 4 })).toThrow(/protocolVersion 5/)
  })

  it('refuses wildcards and unknown placeholders in the topic template', () => {
    expect(() => mqttUplinkSchema.parse({ type: 'mqtt', id: 'c', url: 'mqtt://b', topic: 'edge/+/{deviceId}' })).toThrow(/\+, #/)
    expect(() => mqttUplinkSchema.parse({ type: 'mqtt', id: 'c', url: 'mqtt://b', topic: 'edge/{device}' })).toThrow(/placeholder/)
    expect(mqttUplinkSchema.parse({ type: 'mqtt', id: 'c', url: 'mqtt://b', maxPacketBytes: '128KiB' }).maxPacketBytes).toBe(131072)
  })
})

describe('PUBACK classification (MQTT 5 §3.4.2.1)', () => {
  it('makes content refusals permanent and load refusals retriable', () => {
    expect(classifyPubackCode(0x87)).toMatchObject({ retriable: false, reason: 'not_authorized' })
    expect(classifyPubackCode(0x90)).toMatchObject({ retriable: false, reason: 'topic_name_invalid' })
    expect(classifyPubackCode(0x95)).toMatchObject({ retriable: false, reason: 'packet_too_large' })
    expect(classifyPubackCode(0x99)).toMatchObject({ retriable: false, reason: 'payload_format_invalid' })
    expect(classifyPubackCode(0x97)).toMatchObject({ retriable: true, reason: 'quota_exceeded' })
    expect(classifyPubackCode(0x89)).toMatchObject({ retriable: true, reason: 'server_busy' })
    expect(classifyPubackCode(0xa0)).toMatchObject({ retriable: true, reason: 'puback_error' })
  })
})

describe('redactUrl', () => {
  it('drops credentials', () => {
    expect(redactUrl('mqtts://user:s3cret@broker:8883')).toBe('mqtts://broker:8883')
    expect(redactUrl('mqtt://broker:1883')).toBe('mqtt://broker:1883')
  })
})
