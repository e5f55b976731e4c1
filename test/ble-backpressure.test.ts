/**
 * Backpressure (ARCHITECTURE 2.4, 2.5): a sink that never resolves `push` must not make memory
 * grow. Adverts keep arriving while push waits; the queue stays at `maxQueued`, every dropped
 * reading is counted, and alerts push telemetry out instead of being dropped.
 */
import { describe, expect, it } from 'vitest'
import { bthomeAdvert } from '../firmware-sim/ble-encoders.js'
import { BUTTON, startBleForTest } from './ble-harness.js'

/** A distinct device per index, so neither the interval nor packet-id dedup interferes. */
const mac = (i: number) => `02:00:00:${((i >> 16) & 0xff).toString(16).padStart(2, '0')}:${((i >> 8) & 0xff).toString(16).padStart(2, '0')}:${(i & 0xff).toString(16).padStart(2, '0')}`
const telemetry = (i: number) => bthomeAdvert({ packetId: i & 0xff, temperatureC: (i % 4000) / 100 })

describe('a sink that never resolves push', () => {
  it('keeps the queue at maxQueued and counts queue_full; alerts evict telemetry', async () => {
    const t = await startBleForTest({ maxQueued: 10 })
    t.sink.stall()
    t.binding.advertise(telemetry(0), { address: mac(0) })
    await t.sink.waitForPushes(1) // the push loop now hangs in push() with that reading

    for (let i = 1; i <= 500; i++) t.binding.advertise(telemetry(i), { address: mac(i) })
    expect(t.source.stats()).toMatchObject({ queued: 10, dropped: 490 })
    expect(t.rejected('queue_full')).toBe(490)

    for (let p = 1; p <= 4; p++) t.binding.advertise(bthomeAdvert({ packetId: p, button: 'press' }), { address: BUTTON })
    expect(t.source.stats()).toMatchObject({ queued: 10, dropped: 494 })
    expect(t.rejected('queue_full_alert')).toBe(0)

    t.sink.release()
    const readings = await t.sink.waitFor(11)
    expect(readings).toHaveLength(11)
    expect(readings[0].deviceId).toBe('020000000000')
    // Alerts first, then the NEWEST six telemetry readings (the oldest went first).
    expect(readings.slice(1, 5).map((r) => r.kind)).toEqual(['button.press', 'button.press', 'button.press', 'button.press'])
    expect(readings.slice(5).map((r) => r.deviceId)).toEqual([495, 496, 497, 498, 499, 500].map((i) => mac(i).replace(/:/g, '')))
  })

  it('an alert is dropped (and logged as an error) only when the queue holds nothing but alerts', async () => {
    const t = await startBleForTest({ maxQueued: 3 })
    t.sink.stall()
    t.binding.advertise(telemetry(0), { address: mac(0) })
    await t.sink.waitForPushes(1)
    for (let p = 1; p <= 5; p++) t.binding.advertise(bthomeAdvert({ packetId: p, button: 'long_press' }), { address: mac(1000 + p) })
    expect(t.source.stats().queued).toBe(3)
    expect(t.rejected('queue_full_alert')).toBe(2)
    expect(t.logger.lines.find((l) => l.obj.reason === 'queue_full_alert')).toMatchObject({ level: 'error' })
  })

  // The second push carries three queued readings; the store kept the first of them (a
  // whenFull=block append aborted at stop commits a prefix). The rest were lost to the error, or
  // one of them was refused at ingest (counted invalid_reading there, never not_durable).
  it.each([
    { lost: 2, what: 'a commit the store cut short counts only the readings it does not hold as not_durable' },
    { lost: 1, what: 'a failed commit counts as not_durable only what the store error lost, not a reading ingest refused as invalid' },
  ])('$what', async ({ lost }) => {
    const t = await startBleForTest({ maxQueued: 10 })
    t.sink.stall()
    t.binding.advertise(telemetry(0), { address: mac(0) })
    await t.sink.waitForPushes(1)
    for (let i = 1; i <= 3; i++) t.binding.advertise(telemetry(i), { address: mac(i) })
    t.sink.outcome = (readings) =>
      readings.length === 3 ? { accepted: 1, dropped: 2, lost, invalid: 2 - lost, error: new Error('store full (whenFull=block): append aborted') } : { accepted: readings.length, dropped: 0, lost: 0, invalid: 0 }
    const problem = t.logger.problem()
    t.sink.release()
    await problem
    expect(t.rejected('not_durable')).toBe(lost)
    expect(t.logger.lines.find((l) => l.msg === 'BLE readings not stored')?.obj).toMatchObject({ readings: lost })
  })

  it('memory stays bounded: 20 000 adverts from rotating random addresses', async () => {
    const t = await startBleForTest({ maxQueued: 100 })
    t.sink.stall()
    for (let i = 0; i < 20_000; i++) t.binding.advertise(telemetry(i), { address: mac(i), addressType: 'random' })
    expect(t.source.stats().queued).toBeLessThanOrEqual(100)
    expect(t.source.stats().dropped + t.source.stats().queued + t.sink.pushes).toBeGreaterThanOrEqual(20_000 - 64)
    // noble keeps per-address state forever; NobleCacheTrim deletes it (see noble-cache-trim.ts).
    const internals = t.noble as unknown as { _peripherals: object; _services: object }
    expect(Object.keys(internals._peripherals)).toHaveLength(0)
    expect(Object.keys(internals._services)).toHaveLength(0)
    expect(Object.keys(t.binding._gap._discoveries).length).toBeLessThanOrEqual(4096 + 1024)
  })
})
