/**
 * Adapter life cycle: missing Bluetooth, missing permission, an adapter that disappears and comes
 * back. The gateway must keep running through all of it, and `run` must never throw.
 */
import { createRequire } from 'node:module'
import { describe, expect, it } from 'vitest'
import { RecordingCounters } from '../gateway/core/observability.js'
import { BleSource, NOT_PERMITTED } from '../drivers/ble/index.js'
import { bthomeAdvert } from '../firmware-sim/ble-encoders.js'
import { BINDKEY, RecordingSink, THERMO, bleConfig, recordingLogger, startBleForTest } from './ble-harness.js'

const temp = (packetId: number) => bthomeAdvert({ packetId, temperatureC: 20 + packetId })

describe('adapter disappears and comes back', () => {
  it('poweredOff -> disconnected, nothing heard; poweredOn -> scanning again and readings flow', async () => {
    const t = await startBleForTest()
    t.binding.advertise(temp(1), { address: THERMO })
    await t.sink.waitFor(1)

    t.binding.powerOff()
    expect(t.source.health()).toEqual({
      state: 'disconnected',
      detail: 'Bluetooth adapter powered off or removed; scanning resumes when it is back',
    })
    expect(t.binding.advertise(temp(2), { address: THERMO })).toBe(0)
    expect(t.logger.lines.at(-1)).toMatchObject({ level: 'warn', obj: { code: 'GW_ERR_HARDWARE_UNAVAILABLE', state: 'poweredOff' } })

    t.binding.powerOn()
    await t.binding.whenScanning()
    expect(t.source.health()).toEqual({ state: 'running', detail: 'scanning on adapter' })
    expect(t.binding.calls.startScanning).toHaveLength(2)
    t.binding.advertise(temp(3), { address: THERMO })
    const readings = await t.sink.waitFor(2)
    expect(readings.map((r) => (r.data as { packetId: number }).packetId)).toEqual([1, 3])
  })

  it('a scan stopped by another program is restarted (with backoff)', async () => {
    const t = await startBleForTest({ hciDevice: 1 })
    t.binding.stopScanningExternally()
    expect(t.source.health()).toEqual({ state: 'disconnected', detail: 'scan on hci1 stopped by another program; restarting' })
    await t.binding.whenScanning()
    expect(t.source.health()).toEqual({ state: 'running', detail: 'scanning on hci1' })
  })

  it('stop() stops scanning and leaves no noble listeners behind', async () => {
    const t = await startBleForTest()
    const before = ['stateChange', 'discover', 'scanStop', 'warning'].map((e) => (t.noble as unknown as NodeJS.EventEmitter).listenerCount(e))
    await t.stop()
    const after = ['stateChange', 'discover', 'scanStop', 'warning'].map((e) => (t.noble as unknown as NodeJS.EventEmitter).listenerCount(e))
    expect(t.binding.calls.stopScanning).toBe(1)
    expect(after.map((n, i) => before[i] - n)).toEqual([1, 1, 1, 1])
    expect(t.source.health()).toEqual({ state: 'stopped' })
  })
})

describe('no permission, no LE, no adapter: unavailable, never a throw', () => {
  it('unauthorized -> unavailable with the capability hint; recovers if the adapter later powers on', async () => {
    const t = await startBleForTest({}, { binding: { initialState: 'unauthorized' }, noWait: true })
    await t.logger.problem()
    expect(t.source.health()).toEqual({ state: 'unavailable', detail: NOT_PERMITTED })
    expect(NOT_PERMITTED).toBe('not permitted: grant cap_net_raw,cap_net_admin (see FIELD-NOTES)')
    t.binding.powerOn()
    await t.binding.whenScanning()
    expect(t.source.health().state).toBe('running')
  })

  it('unsupported -> unavailable', async () => {
    const t = await startBleForTest({ hciDevice: 0 }, { binding: { initialState: 'unsupported' }, noWait: true })
    await t.logger.problem()
    expect(t.source.health()).toEqual({ state: 'unavailable', detail: 'Bluetooth hci0 does not support Bluetooth Low Energy' })
  })

  it('binding init throws ENODEV (noble turns it into a warning) -> unavailable', async () => {
    const t = await startBleForTest({ hciDevice: 3 }, { binding: { failInitWith: 'ENODEV' }, noWait: true })
    await t.logger.problem()
    expect(t.source.health()).toEqual({ state: 'unavailable', detail: 'no Bluetooth adapter hci3 (ENODEV)' })
  })

  it('an adapter that never reports a state -> unavailable after stateTimeoutMs', async () => {
    const t = await startBleForTest({}, { binding: { silent: true }, deps: { stateTimeoutMs: 20 }, noWait: true })
    await t.logger.problem()
    expect(t.source.health().state).toBe('unavailable')
    expect(t.source.health().detail).toMatch(/^Bluetooth adapter did not report a state within 0.02 s/)
  })

  it.each([
    ['throws synchronously, like require() on a kernel without Bluetooth', () => {
      throw Object.assign(new Error('EAFNOSUPPORT, Address family not supported by protocol'), { code: 'EAFNOSUPPORT' })
    }],
    ['rejects', async () => {
      throw new Error('EAFNOSUPPORT, Address family not supported by protocol')
    }],
  ])('noble loader %s -> unavailable, run waits for stop', async (_how, loadNoble) => {
    const logger = recordingLogger()
    const source = new BleSource(bleConfig(), { log: logger.log, counters: new RecordingCounters(), loadNoble: loadNoble as () => never })
    const ac = new AbortController()
    const problem = logger.problem()
    const done = source.run(new RecordingSink(), ac.signal)
    await problem
    expect(source.health()).toEqual({ state: 'unavailable', detail: 'no Bluetooth adapter (EAFNOSUPPORT)' })
    expect(logger.lines[0]).toMatchObject({ level: 'warn', obj: { code: 'GW_ERR_HARDWARE_UNAVAILABLE' } })
    ac.abort()
    await expect(done).resolves.toBeUndefined()
    expect(source.health()).toEqual({ state: 'stopped', detail: 'no Bluetooth adapter (EAFNOSUPPORT)' })
  })
})

/** Whether this machine's kernel lacks Bluetooth (FIELD-NOTES: it does here). */
function realNobleThrows(): boolean {
  try {
    createRequire(import.meta.url)('@abandonware/noble')
    return false
  } catch {
    return true
  }
}

describe('the real loader on this machine', () => {
  it.skipIf(!realNobleThrows())('fails with EAFNOSUPPORT -> unavailable, gateway keeps running', async () => {
    const logger = recordingLogger()
    const source = new BleSource(bleConfig({ bindkeys: { [THERMO]: BINDKEY } }), { log: logger.log, counters: new RecordingCounters() })
    const ac = new AbortController()
    const problem = logger.problem()
    const done = source.run(new RecordingSink(), ac.signal)
    await problem
    expect(source.health()).toEqual({ state: 'unavailable', detail: 'no Bluetooth adapter (EAFNOSUPPORT)' })
    ac.abort()
    await expect(done).resolves.toBeUndefined()
  })
})
