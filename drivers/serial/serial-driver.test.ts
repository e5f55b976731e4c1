/**
 * SerialDriver on serialport's binding-mock: the real stream, pause/resume and close logic run;
 * only the OS binding is fake. (PTY behaviour is covered in test/serial-*.test.ts.)
 */
import { SerialPortMock } from 'serialport'
import { afterEach, describe, expect, it } from 'vitest'
import { isDisconnect } from '../../gateway/core/errors.js'
import { pollUntil } from '../../test/support/pty-pair.js'
import { SerialDisconnectedError } from './disconnect-error.js'
import type { SerialPortAccess } from './port-access.js'
import { SerialDriver, type SerialDriverOptions } from './serial-driver.js'

const PATH = '/dev/ttyMOCK0'
type MockPort = InstanceType<typeof SerialPortMock>

function mockAccess(present: { value: boolean } = { value: true }): SerialPortAccess & { ports: MockPort[] } {
  const ports: MockPort[] = []
  return {
    ports,
    create(o) {
      const port = new SerialPortMock({ ...o, autoOpen: false })
      ports.push(port)
      return port
    },
    identify: async (p) => (present.value ? `mock:${p}` : null),
  }
}

function driver(access: SerialPortAccess, extra: Partial<SerialDriverOptions> = {}): SerialDriver {
  return new SerialDriver({ id: 'mock', path: PATH, baudRate: 9600, access, ...extra })
}

async function nextError(it: AsyncIterator<unknown>): Promise<SerialDisconnectedError> {
  for (;;) {
    try {
      const r = await it.next()
      if (r.done) throw new Error('iterator ended without an error')
    } catch (err) {
      return err as SerialDisconnectedError
    }
  }
}

afterEach(() => SerialPortMock.binding.reset())

describe('SerialDriver (binding-mock)', () => {
  it('yields read chunks, counts bytes, and calls onOpen', async () => {
    SerialPortMock.binding.createPort(PATH)
    const access = mockAccess()
    let opened = 0
    const d = driver(access, { onOpen: () => opened++ })
    const ac = new AbortController()
    const it = d.frames(ac.signal)[Symbol.asyncIterator]()
    const first = it.next()
    await pollUntil(() => access.ports[0]?.isOpen === true, 'port open')
    expect(opened).toBe(1)
    access.ports[0]!.port!.emitData('temp=1\n')
    const frame = await first
    expect(frame.value?.bytes.toString()).toBe('temp=1\n')
    expect(d.bytesRead).toBe(7)
    ac.abort()
    expect((await it.next()).done).toBe(true)
    expect(access.ports[0]!.isOpen).toBe(false)
  })

  it('pauses the port when the consumer stops pulling, resumes when it pulls again', async () => {
    SerialPortMock.binding.createPort(PATH)
    const access = mockAccess()
    const d = driver(access, { maxQueuedBytes: 4096, readBufferBytes: 1024 })
    const ac = new AbortController()
    const it = d.frames(ac.signal)[Symbol.asyncIterator]()
    const first = it.next()
    await pollUntil(() => access.ports[0]?.isOpen === true, 'port open')
    const port = access.ports[0]!
    port.port!.emitData(Buffer.alloc(64 * 1024, 0x41)) // far more than every buffer together
    await first
    await pollUntil(() => d.isPaused(), 'driver paused')
    const readWhenPaused = d.bytesRead
    // Bounded: the queue limit + one read, not the 64 KiB the device offered.
    expect(readWhenPaused).toBeLessThanOrEqual(4096 + 1024 + 1024)
    // Let the stream do whatever it still would; nothing more may be delivered while paused.
    await new Promise((r) => setImmediate(r))
    expect(d.bytesRead).toBe(readWhenPaused)
    for (let i = 0; i < 8; i++) await it.next()
    await pollUntil(() => d.bytesRead > readWhenPaused, 'reading resumed')
    ac.abort()
    await it.return?.()
  })

  it('throws disconnected when serialport reports the device gone', async () => {
    SerialPortMock.binding.createPort(PATH)
    const access = mockAccess()
    const it = driver(access).frames(new AbortController().signal)[Symbol.asyncIterator]()
    const pending = nextError(it)
    await pollUntil(() => access.ports[0]?.isOpen === true, 'port open')
    // What the stream itself does when a binding read fails (e.g. USB unplug).
    access.ports[0]!._disconnected(new Error('device reports readiness to read but returned no data'))
    const err = await pending
    expect(isDisconnect(err)).toBe(true)
    expect(err).toMatchObject({ reason: 'closed', code: 'GW_ERR_HARDWARE_UNAVAILABLE' })
  })

  it('reports a missing path as not_found with a clear message', async () => {
    const err = await nextError(driver(mockAccess({ value: false })).frames(new AbortController().signal)[Symbol.asyncIterator]())
    expect(err).toBeInstanceOf(SerialDisconnectedError)
    expect(err).toMatchObject({ reason: 'not_found', disconnected: true, message: `serial port ${PATH} not found` })
  })

  it('falls back to defaults for options passed as explicit undefined (native access, fs probe)', async () => {
    const d = new SerialDriver({ id: 'x', path: '/nonexistent/ttyUSB9', baudRate: 9600, access: undefined, probeIntervalMs: undefined })
    const err = await nextError(d.frames(new AbortController().signal)[Symbol.asyncIterator]())
    expect(err).toMatchObject({ reason: 'not_found', message: 'serial port /nonexistent/ttyUSB9 not found' })
  })

  it('reports an open failure as open_failed', async () => {
    // identify says present, but the mock binding has no such port: open() fails.
    const err = await nextError(driver(mockAccess()).frames(new AbortController().signal)[Symbol.asyncIterator]())
    expect(err).toMatchObject({ reason: 'open_failed', disconnected: true })
  })

  it('notices the device node vanishing while the port is paused or idle', async () => {
    SerialPortMock.binding.createPort(PATH)
    const present = { value: true }
    const access = mockAccess(present)
    const it = driver(access, { probeIntervalMs: 20 }).frames(new AbortController().signal)[Symbol.asyncIterator]()
    const pending = nextError(it)
    await pollUntil(() => access.ports[0]?.isOpen === true, 'port open')
    present.value = false
    expect(await pending).toMatchObject({ reason: 'vanished' })
    expect(access.ports[0]!.isOpen).toBe(false)
  })

  it('treats silence beyond idleTimeoutMs as a possible unplug', async () => {
    SerialPortMock.binding.createPort(PATH)
    const access = mockAccess()
    const started = Date.now()
    const err = await nextError(driver(access, { idleTimeoutMs: 150 }).frames(new AbortController().signal)[Symbol.asyncIterator]())
    expect(err).toMatchObject({ reason: 'idle_timeout', disconnected: true })
    expect(Date.now() - started).toBeGreaterThanOrEqual(140)
  })

  it('validates options with a TypeError naming the field, and is not re-entrant', async () => {
    expect(() => driver(mockAccess(), { maxQueuedBytes: 0 })).toThrow(/"maxQueuedBytes"/)
    expect(() => driver(mockAccess(), { baudRate: 96.5 })).toThrow(/"baudRate"/)
    expect(() => driver(mockAccess(), { path: '' })).toThrow(/"path"/)
    SerialPortMock.binding.createPort(PATH)
    const d = driver(mockAccess())
    const ac = new AbortController()
    const a = d.frames(ac.signal)[Symbol.asyncIterator]()
    const first = a.next()
    await expect(d.frames(ac.signal)[Symbol.asyncIterator]().next()).rejects.toThrow(/already running/)
    ac.abort()
    await first
  })
})
