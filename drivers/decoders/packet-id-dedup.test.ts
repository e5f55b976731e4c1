/** PacketIdDedup, EncryptionCounterGuard and the LRU under them. */
import { describe, expect, it } from 'vitest'
import { BoundedLru } from './bounded-lru.js'
import { EncryptionCounterGuard, counterIsNewer } from './encryption-counter-guard.js'
import { PacketIdDedup } from './packet-id-dedup.js'
import { loadVectors } from './testing/vectors.js'

describe('PacketIdDedup', () => {
  it('flags only an id equal to the previous one, per device (normalised address)', () => {
    const d = new PacketIdDedup()
    expect(d.isDuplicate('AA:BB:CC:DD:EE:01', 7)).toBe(false)
    expect(d.isDuplicate('aa:bb:cc:dd:ee:01', 7)).toBe(true)
    expect(d.isDuplicate('aa:bb:cc:dd:ee:02', 7)).toBe(false)
    expect(d.isDuplicate('aa:bb:cc:dd:ee:01', 8)).toBe(false)
    expect(d.isDuplicate('aa:bb:cc:dd:ee:01', 7)).toBe(false) // not equal to the previous (8)
  })

  it('stays within maxDevices, evicting the least recently heard', () => {
    const d = new PacketIdDedup({ maxDevices: 2 })
    d.isDuplicate('a', 1)
    d.isDuplicate('b', 1)
    d.isDuplicate('a', 1) // touch a
    d.isDuplicate('c', 1) // evicts b
    expect(d.size).toBe(2)
    expect(d.isDuplicate('b', 1)).toBe(false) // forgotten: treated as new (at worst a duplicate reading)
    expect(d.isDuplicate('c', 1)).toBe(true)
  })

  it('forgetAfterMs: an equal id after a long silence is new (bthome-ble 4 s rule)', () => {
    const d = new PacketIdDedup({ forgetAfterMs: 4000 })
    expect(d.isDuplicate('a', 9, 0)).toBe(false)
    expect(d.isDuplicate('a', 9, 3000)).toBe(true)
    expect(d.isDuplicate('a', 9, 6000)).toBe(true) // heard 3 s ago: still the same burst
    expect(d.isDuplicate('a', 9, 10_001)).toBe(false)
  })

  it('rejects a bad maxDevices with a TypeError naming the field', () => {
    expect(() => new PacketIdDedup({ maxDevices: 0 })).toThrow(/maxEntries/)
    expect(() => new BoundedLru(1.5)).toThrow(TypeError)
  })
})

describe('EncryptionCounterGuard', () => {
  it('serial-number order wraps at 2^32', () => {
    expect(counterIsNewer(1, 2)).toBe(true)
    expect(counterIsNewer(2, 2)).toBe(false)
    expect(counterIsNewer(2, 1)).toBe(false)
    expect(counterIsNewer(0xffffffff, 0)).toBe(true)
  })

  it('matches the counter cases in bthome.json negative_and_flag_cases', () => {
    const v = loadVectors('bthome')
    const expectReplay: Record<string, boolean[]> = {
      'bthome-ble:test_same_service_data': [false, true],
      'bthome-ble:test_increasing_encryption_counter': [false, false],
      'bthome-ble:test_same_encryption_counter': [false, true],
      'bthome-ble:test_decreasing_encryption_counter': [false, true],
      'bthome-ble:test_reset_encryption_counter': [false, false],
    }
    for (const [id, want] of Object.entries(expectReplay)) {
      const c = v.negative_and_flag_cases.find((x: any) => x.id === id)
      const g = new EncryptionCounterGuard()
      const got = c.steps.filter((s: any) => s.encryption_counter !== undefined).map((s: any) => g.isReplay(s.mac, s.encryption_counter))
      expect(got, id).toEqual(want)
    }
  })

  it('a replay does not move the window; forgetAfterMs lets a rebooted device back in', () => {
    const g = new EncryptionCounterGuard({ forgetAfterMs: 60_000 })
    expect(g.isReplay('a', 100, 0)).toBe(false)
    expect(g.isReplay('a', 50, 1000)).toBe(true)
    expect(g.isReplay('a', 101, 2000)).toBe(false)
    expect(g.isReplay('a', 3, 70_000)).toBe(false)
  })
})
