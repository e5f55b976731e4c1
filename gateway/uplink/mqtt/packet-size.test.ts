import { generate, type IPublishPacket } from 'mqtt-packet'
import { describe, expect, it } from 'vitest'
import { publishPacketBytes, varIntBytes, type PublishProperties } from './packet-size.js'

function encodedBytes(topic: string, payload: string, protocolVersion: 4 | 5, properties?: PublishProperties): number {
  const packet: IPublishPacket = { cmd: 'publish', topic, payload, qos: 1, messageId: 1, retain: false, dup: false }
  if (protocolVersion === 5) packet.properties = properties ?? {}
  return generate(packet, { protocolVersion }).length
}

describe('publishPacketBytes', () => {
  it('matches mqtt-packet across Variable Byte Integer boundaries (MQTT 5 §1.5.5)', () => {
    const props: PublishProperties = {
      contentType: 'application/json',
      userProperties: { specversion: '1.0', source: '/gateways/gw1/sim/dev-ä', sequence: '00000000000000000001' },
    }
    for (const size of [0, 1, 100, 127, 128, 200, 16_383, 16_384, 20_000, 2_097_151, 2_097_152]) {
      const payload = 'x'.repeat(size)
      for (const topic of ['t', 'edge/gw1/sim/dev-ä/io.edgegateway.environment']) {
        expect(publishPacketBytes(Buffer.byteLength(topic), size, 4)).toBe(encodedBytes(topic, payload, 4))
        expect(publishPacketBytes(Buffer.byteLength(topic), size, 5)).toBe(encodedBytes(topic, payload, 5))
        expect(publishPacketBytes(Buffer.byteLength(topic), size, 5, props)).toBe(encodedBytes(topic, payload, 5, props))
      }
    }
  })

  it('sizes Variable Byte Integers', () => {
    expect([0, 127, 128, 16_383, 16_384, 2_097_151, 2_097_152].map(varIntBytes)).toEqual([1, 1, 2, 2, 3, 3, 4])
  })
})
