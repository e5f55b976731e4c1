import { describe, expect, it } from 'vitest'
import type { IngestReceipt, Reading, ReadingSink } from '../core/types.js'
import { DeviceTracker, boundedJsonSize } from './device-tracker.js'

const reading = (deviceId: string, data: unknown = { n: 1 }, timeMs = 1): Reading => ({ deviceId, kind: 'environment', priority: 'telemetry', timeMs, data })

describe('DeviceTracker', () => {
  it('keeps each device\'s last reading, count and age', () => {
    let now = 1_000
    const t = new DeviceTracker({ now: () => now })
    t.record('sim', [reading('a', { n: 1 }), reading('b', { n: 1 }), reading('a', { n: 2 }, 5)])
    now = 1_250
    expect(t.list()).toEqual([
      { source: 'sim', deviceId: 'a', kind: 'environment', priority: 'telemetry', timeMs: 5, receivedMs: 1_000, ageMs: 250, readings: 2, data: { n: 2 } },
      expect.objectContaining({ deviceId: 'b', readings: 1 }),
    ])
  })

  it('the same device id under two sources is two devices', () => {
    const t = new DeviceTracker()
    t.record('s1', [reading('x')])
    t.record('s2', [reading('x')])
    expect(t.list().map((d) => `${d.source}/${d.deviceId}`)).toEqual(['s1/x', 's2/x'])
  })

  it('forgets the least recently heard device beyond maxDevices', () => {
    const t = new DeviceTracker({ maxDevices: 2 })
    t.record('s', [reading('a')])
    t.record('s', [reading('b')])
    t.record('s', [reading('a')]) // a is now the most recent
    t.record('s', [reading('c')])
    expect(t.list().map((d) => d.deviceId)).toEqual(['a', 'c'])
    expect(t.evicted).toBe(1)
    expect(t.size).toBe(2)
  })

  it('does not keep large data, only a marker', () => {
    const t = new DeviceTracker({ maxDataBytes: 100 })
    t.record('s', [reading('big', { pad: 'x'.repeat(500) }), reading('deep', JSON.parse('['.repeat(40) + ']'.repeat(40)))])
    expect(t.list().map((d) => d.data)).toEqual([{ omitted: 'data larger than 100 bytes' }, { omitted: 'data larger than 100 bytes' }])
  })

  it('wrap(): passes push through, records only what was admitted', async () => {
    const t = new DeviceTracker()
    const receipt: IngestReceipt = { durable: Promise.resolve({ accepted: 1, dropped: 0, lost: 0, invalid: 0 }) }
    let refuse = false
    const sink: ReadingSink = {
      push: async () => {
        if (refuse) throw new Error('stopping')
        return receipt
      },
    }
    const wrapped = t.wrap(sink)
    expect(await wrapped.push('s', [reading('a')])).toBe(receipt)
    refuse = true
    await expect(wrapped.push('s', [reading('b')])).rejects.toThrow('stopping')
    expect(t.list().map((d) => d.deviceId)).toEqual(['a'])
  })

  it('boundedJsonSize stops early and approximates JSON length', () => {
    const small = { temperatureC: 21.5, humidityPct: 40, label: 'kitchen' }
    const size = boundedJsonSize(small, 1024)
    expect(size).toBeGreaterThanOrEqual(JSON.stringify(small).length * 0.8)
    expect(size).toBeLessThanOrEqual(1024)
    expect(boundedJsonSize(new Array(1_000_000).fill(1), 1024)).toBeGreaterThan(1024)
    expect(boundedJsonSize(10n, 1024)).toBeGreaterThan(1024)
  })
})
