/** SerialSource on serialport's binding-mock: supervision, decoding, counting, logging. */
import { SerialPortMock } from 'serialport'
import { afterEach, describe, expect, it } from 'vitest'
import { RecordingCounters } from '../../gateway/core/observability.js'
import { pollUntil } from '../../test/support/pty-pair.js'
import { RecordingLogger, RecordingSink } from '../../test/support/serial-harness.js'
import { serialSourceSchema, type SerialSourceConfigInput } from './config.js'
import type { SerialPortAccess } from './port-access.js'
import { SerialSource } from './serial-source.js'

type MockPort = InstanceType<typeof SerialPortMock>

function setup(input: Partial<SerialSourceConfigInput> = {}, present = { value: true }) {
  const ports: MockPort[] = []
  let identifyCalls = 0
  const access: SerialPortAccess = {
    create(o) {
      const port = new SerialPortMock({ ...o, autoOpen: false })
      ports.push(port)
      return port
    },
    identify: async (p) => (identifyCalls++, present.value ? `mock:${p}` : null),
  }
  const config = serialSourceSchema.parse({ type: 'serial', id: 'bench-1', path: '/dev/ttyUSB0', baudRate: 115200, format: 'jsonl', reopenMaxMs: 100, ...input })
  const log = new RecordingLogger()
  const counters = new RecordingCounters()
  const source = new SerialSource(config, { log, counters, access, probeIntervalMs: 20 })
  const sink = new RecordingSink()
  const ac = new AbortController()
  const running = source.run(sink, ac.signal)
  const openPort = async (): Promise<MockPort> => {
    await pollUntil(() => source.health().state === 'running' && ports.at(-1)?.isOpen === true, 'port open')
    return ports.at(-1)!
  }
  return { source, sink, log, counters, ac, running, ports, openPort, identifyCalls: () => identifyCalls }
}

afterEach(() => SerialPortMock.binding.reset())

describe('SerialSource (binding-mock)', () => {
  it('hardware absent: keeps retrying, reports disconnected with a clear detail, stops cleanly', async () => {
    const t = setup({}, { value: false })
    await pollUntil(() => t.identifyCalls() >= 3, 'several open attempts')
    expect(t.source.health()).toEqual({ state: 'disconnected', detail: 'serial port /dev/ttyUSB0 not found' })
    // One warn for the transition, not one per retry.
    expect(t.log.lines.filter((l) => l.level === 'warn')).toHaveLength(1)
    t.ac.abort()
    await t.running
    expect(t.source.health().state).toBe('stopped')
  })

  it('decodes lines into readings, counts and rate-limits bad ones, keeps going', async () => {
    SerialPortMock.binding.createPort('/dev/ttyUSB0')
    const t = setup({ deviceId: 'bench' })
    const port = await t.openPort()
    port.port!.emitData('{"temp":1}\r\nnot json\n{"device":"other","temp":2}\n')
    port.port!.emitData('{"temp":')
    port.port!.emitData('3}\n[1]\nstill not json\n')
    await t.sink.waitFor(() => t.sink.readings.length === 3, '3 readings')
    expect(t.sink.readings.map((r) => [r.deviceId, (r.data as { temp: number }).temp])).toEqual([['bench', 1], ['other', 2], ['bench', 3]])
    await pollUntil(() => t.source.stats().linesRejected === 3, '3 rejected lines')
    expect(t.counters.get('bench-1', 'bad_json')).toBe(2)
    expect(t.counters.get('bench-1', 'not_object')).toBe(1)
    const warns = t.log.lines.filter((l) => l.msg === 'serial line rejected')
    // bad_json twice within 10 s → one line; not_object → one line. Sizes, never payloads.
    expect(warns.map((l) => (l.obj as { reason: string }).reason)).toEqual(['bad_json', 'not_object'])
    expect(JSON.stringify(warns)).not.toContain('not json')
    t.ac.abort()
    await t.running
  })

  it('reopens after a disconnect: disconnected, then running again, and counts the lost half line', async () => {
    SerialPortMock.binding.createPort('/dev/ttyUSB0')
    const present = { value: true }
    const t = setup({}, present)
    const first = await t.openPort()
    first.port!.emitData('{"temp":1}\n{"temp":')
    await t.sink.waitFor(() => t.sink.readings.length === 1, 'first reading')
    await pollUntil(() => t.source.stats().bytesRead === 19, 'half line read')
    // A real unplug: the node goes away too, so `disconnected` lasts until it is back.
    present.value = false
    first._disconnected(new Error('unplugged'))
    await pollUntil(() => t.source.health().detail === 'serial port /dev/ttyUSB0 not found', 'disconnected, not found')
    expect(t.source.health().state).toBe('disconnected')
    present.value = true
    const second = await t.openPort()
    expect(second).not.toBe(first)
    second.port!.emitData('{"temp":2}\n')
    await t.sink.waitFor(() => t.sink.readings.length === 2, 'reading after reopen')
    expect(t.counters.get('bench-1', 'truncated_line')).toBe(1)
    expect(t.source.stats().opens).toBe(2)
    t.ac.abort()
    await t.running
  })

  it('rejects run() when the sink fails while not stopping (the supervisor restarts it)', async () => {
    SerialPortMock.binding.createPort('/dev/ttyUSB0')
    const t = setup()
    t.sink.push = async () => { throw new Error('ingest closed') }
    const port = await t.openPort()
    port.port!.emitData('{"temp":1}\n')
    await expect(t.running).rejects.toThrow('ingest closed')
    expect(port.isOpen).toBe(false)
  })

  it('refuses a second concurrent run() instead of treating it as an unplug', async () => {
    const t = setup({}, { value: false })
    await expect(t.source.run(t.sink, t.ac.signal)).rejects.toThrow(/already running/)
    t.ac.abort()
    await t.running
  })

  it('uses the nmea decoder for format nmea (gnss.* kinds, bad checksums counted)', async () => {
    SerialPortMock.binding.createPort('/dev/ttyUSB0')
    const t = setup({ format: 'nmea', id: 'gps' })
    const port = await t.openPort()
    port.port!.emitData('$IIGGA,123519,4807.04,N,1131.00,E,1,8,0.9,545.9,M,46.9,M,,*52\r\n$GPGGA,123519,4807.04,N*00\r\n')
    await t.sink.waitFor(() => t.sink.readings.length === 1, 'gnss.fix')
    expect(t.sink.readings[0]).toMatchObject({ deviceId: 'gps', kind: 'gnss.fix' })
    await pollUntil(() => t.counters.get('gps', 'bad_checksum') === 1, 'bad checksum counted')
    t.ac.abort()
    await t.running
  })
})
