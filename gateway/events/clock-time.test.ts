import { CloudEvent } from 'cloudevents'
import { describe, expect, it } from 'vitest'
import type { Reading } from '../core/types.js'
import { BOOT_ID_FILE, ClockStatus, TIMESYNC_DIR, TIMESYNC_FLAG, type ClockProbe, type ClockReading } from './clock-status.js'
import { CloudEventBuilder } from './cloudevent-builder.js'
import { clockAttributes, correctEventTime } from './event-time.js'

const BOOT = '0c8d3f2e-8b1a-4d6e-9f00-1234567890ab'
const Y2026 = Date.UTC(2026, 5, 1, 12, 0, 0)

class FakeProbe implements ClockProbe {
  wall = Y2026
  mono = 100_000
  files = new Set<string>()
  texts = new Map<string, string>([[BOOT_ID_FILE, `${BOOT.toUpperCase()}\n`]])
  wallMs = (): number => this.wall
  monotonicMs = (): number => this.mono
  exists = (path: string): boolean => this.files.has(path)
  readText = (path: string): string | undefined => this.texts.get(path)
  advance(ms: number): void {
    this.wall += ms
    this.mono += ms
  }
}

const reading = (timeMs: number): Reading => ({ deviceId: 'dev-1', kind: 'environment', priority: 'telemetry', timeMs, data: { t: 21.5 } })

describe('ClockStatus', () => {
  it('applies the rules: flag file, too early, timesyncd not synced yet, unknown', () => {
    const probe = new FakeProbe()
    const status = (opts = {}) => new ClockStatus({ probe, cacheMs: 0, ...opts })
    expect(status().isSynced()).toBe(true) // nothing known: treated as synced
    probe.files.add(TIMESYNC_DIR)
    expect(status().isSynced()).toBe(false) // timesyncd runs and has not synced
    expect(status({ trustTimesyncd: false }).isSynced()).toBe(true)
    probe.files.add(TIMESYNC_FLAG)
    expect(status().isSynced()).toBe(true)
    probe.files.clear()
    probe.wall = 0 // booted at 1970
    expect(status().isSynced()).toBe(false)
    probe.files.add(TIMESYNC_FLAG)
    expect(status().isSynced()).toBe(true) // the flag wins
  })

  it('caches the answer for cacheMs of monotonic time', () => {
    const probe = new FakeProbe()
    probe.wall = 0
    const status = new ClockStatus({ probe, cacheMs: 5_000 })
    expect(status.isSynced()).toBe(false)
    probe.files.add(TIMESYNC_FLAG)
    probe.mono += 4_999
    expect(status.isSynced()).toBe(false)
    probe.mono += 1
    expect(status.isSynced()).toBe(true)
  })

  it('reads the boot id, or makes up one per instance when it cannot', () => {
    const probe = new FakeProbe()
    expect(new ClockStatus({ probe }).bootId).toBe(BOOT)
    probe.texts.clear()
    const a = new ClockStatus({ probe })
    expect(a.bootId).toMatch(/^[0-9a-f-]{36}$/)
    expect(a.bootId).not.toBe(new ClockStatus({ probe }).bootId)
  })
})

describe('clockAttributes', () => {
  const unsynced: ClockReading = { synced: false, wallMs: 5_000, monotonicMs: 90_000, bootId: BOOT }

  it('marks readings of an unsynced clock with boot id and monotonic time at the reading', () => {
    expect(clockAttributes(4_000, { ...unsynced, synced: true })).toBeUndefined()
    expect(clockAttributes(4_000, unsynced)).toEqual({ clocksynced: false, bootid: BOOT, monotonicms: '89000' })
  })

  it('leaves out boot id and monotonic time for a time that is not on this boot clock', () => {
    expect(clockAttributes(Y2026, unsynced)).toEqual({ clocksynced: false }) // device clock ahead of ours
    expect(clockAttributes(5_000 - 91_000, unsynced)).toEqual({ clocksynced: false }) // before boot
  })
})

describe('correctEventTime', () => {
  const event = (over: Record<string, unknown> = {}): string =>
    JSON.stringify({ id: 'e1', time: '1970-01-01T00:00:04.000Z', data: { t: 1 }, sequence: '1', clocksynced: false, bootid: BOOT, monotonicms: '89000', ...over })
  const synced: ClockReading = { synced: true, wallMs: Y2026, monotonicMs: 95_000, bootId: BOOT }

  it('rewrites time from the monotonic clock once synced, marks it, and keeps everything else', () => {
    const out = JSON.parse(correctEventTime(event(), synced))
    expect(out).toEqual({ ...JSON.parse(event()), time: new Date(Y2026 - 6_000).toISOString(), timecorrected: true })
    expect(correctEventTime(correctEventTime(event(), synced), { ...synced, wallMs: Y2026 + 1 })).toBe(correctEventTime(event(), synced))
  })

  it('leaves the event alone when it cannot or need not correct it', () => {
    const plain = JSON.stringify({ id: 'e2', time: '2026-06-01T00:00:00.000Z', data: {} })
    expect(correctEventTime(plain, synced)).toBe(plain)
    expect(correctEventTime(event(), { ...synced, synced: false })).toBe(event())
    expect(correctEventTime(event({ bootid: 'another-boot' }), synced)).toBe(event({ bootid: 'another-boot' }))
    expect(correctEventTime(event({ monotonicms: undefined }), synced)).toBe(event({ monotonicms: undefined }))
    expect(correctEventTime(event({ monotonicms: '99999999' }), synced)).toBe(event({ monotonicms: '99999999' })) // after now
    expect(correctEventTime('{"clocksynced":false, broken', synced)).toBe('{"clocksynced":false, broken')
  })
})

describe('CloudEventBuilder with an unsynchronized clock', () => {
  it('marks events while unsynced, valid for the SDK, and the correction at send time restores the true time', () => {
    const probe = new FakeProbe()
    probe.wall = 3_600_000 // 1970-01-01T01:00:00Z, booted without RTC
    const clock = new ClockStatus({ probe, cacheMs: 0 })
    const builder = new CloudEventBuilder('gw1', new Map(), clock)
    const readAt = probe.wall - 250 // stamped by the driver a moment before ingest
    const ev = builder.build('sim', reading(readAt))
    const parsed = JSON.parse(ev.json)
    expect(parsed).toMatchObject({ time: new Date(readAt).toISOString(), clocksynced: false, bootid: BOOT, monotonicms: String(probe.mono - 250) })
    expect(() => new CloudEvent(parsed, true)).not.toThrow()
    // 10 s later NTP syncs: the wall clock steps to the true time.
    probe.mono += 10_000
    const trueNow = Y2026
    probe.wall = trueNow
    probe.files.add(TIMESYNC_FLAG)
    const corrected = JSON.parse(correctEventTime(ev.json, clock.now()))
    expect(corrected).toMatchObject({ id: ev.id, time: new Date(trueNow - 10_250).toISOString(), timecorrected: true, clocksynced: false })
    // Events built now carry no clock attributes at all.
    expect(Object.keys(JSON.parse(builder.build('sim', reading(probe.wall)).json))).not.toContain('clocksynced')
  })
})
