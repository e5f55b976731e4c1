import { describe, expect, it } from 'vitest'
import { mqttIngressSourceSchema } from './config.js'
import { DeviceDirectory } from './device-directory.js'

const device = { username: 'esp32-a', password: 'pw', topics: ['sensors/esp32-a/#'] }

describe('mqttIngressSourceSchema', () => {
  it('fills defaults', () => {
    const c = mqttIngressSourceSchema.parse({ type: 'mqtt', id: 'sensors', devices: [device] })
    expect(c.listen).toEqual({ listen: '0.0.0.0:1883', host: '0.0.0.0', port: 1883 })
    expect(c).toMatchObject({ maxPayloadBytes: 16384, allowAnonymous: false, maxClients: 100 })
    expect(c.topicMap).toEqual([{ pattern: 'sensors/+/+', deviceId: '{1}', kind: '{2}', priority: 'telemetry' }])
  })

  it.each([
    [{ devices: [] }, /no sensor could connect/],
    [{ devices: [device, device] }, /duplicate username/],
    [{ devices: [{ ...device, topics: ['a/#/b'] }] }, /"#" must be a whole level/],
    [{ devices: [device], topicMap: [{ pattern: 'a/+', deviceId: '{2}', kind: 'x' }] }, /uses \{2\} but "a\/\+" has 1/],
    [{ devices: [device], topicMap: [{ pattern: 'a/+', kind: 'Bad Kind' }] }, /dotted lower-case/],
    [{ devices: [device], maxPayloadBytes: '2MiB' }, /between 1 byte and 1MiB/],
    [{ devices: [device], listen: 'nope' }, /not host:port/],
  ])('refuses %j', (over, re) => {
    const r = mqttIngressSourceSchema.safeParse({ type: 'mqtt', id: 's', ...over })
    expect(r.success).toBe(false)
    expect(r.error?.issues.map((i) => i.message).join('\n')).toMatch(re)
  })
})

describe('DeviceDirectory', () => {
  const dir = new DeviceDirectory([{ ...device, deviceId: 'kitchen' }])
  it('verifies the password and exposes the topic ACL', () => {
    const d = dir.verify('esp32-a', Buffer.from('pw'))
    expect(d?.deviceId).toBe('kitchen')
    expect(d?.mayPublish('sensors/esp32-a/env')).toBe(true)
    expect(d?.mayPublish('sensors/esp32-b/env')).toBe(false)
  })
  it.each([
    ['esp32-a', 'PW'],
    ['esp32-a', ''],
    ['esp32-a', undefined],
    ['nobody', 'pw'],
    [undefined, 'pw'],
  ])('refuses %s / %s', (u, p) => {
    expect(dir.verify(u, p === undefined ? undefined : Buffer.from(p))).toBeUndefined()
  })
})
