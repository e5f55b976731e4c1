/**
 * GpioSource end to end with the fake at the lowest layer (FakeGpioLine behind the GpioLine
 * boundary, a fake sysfs tree for pin mapping): the real mapping, debouncer, queue and push loop run.
 */
import { existsSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { AppendOutcome, Reading, ReadingSink } from '../gateway/core/types.js'
import { RecordingCounters, silentLogger, type Logger } from '../gateway/core/observability.js'
import { GpioSource, gpioSourceSchema, type GpioSourceConfig } from '../drivers/gpio/index.js'
import { FakeGpioLine, PI4_KERNEL_6_6, PI5_KERNEL_6_6, writeFakeGpioSysfs } from '../firmware-sim/doorbell.js'

/** Records pushes; resolves waiters when the n-th reading arrives. */
class RecordingSink implements ReadingSink {
  readonly readings: Reading[] = []
  outcome: () => Promise<AppendOutcome> = async () => ({ accepted: 1, dropped: 0, lost: 0, invalid: 0 })
  private waiters: Array<{ n: number; resolve: () => void }> = []
  async push(_sourceId: string, readings: Reading[]) {
    this.readings.push(...readings)
    this.waiters = this.waiters.filter((w) => (this.readings.length >= w.n ? (w.resolve(), false) : true))
    return { durable: this.outcome() }
  }
  async waitFor(n: number): Promise<Reading[]> {
    if (this.readings.length < n) await new Promise<void>((resolve) => this.waiters.push({ n, resolve }))
    return this.readings
  }
}

/** A Logger that records lines and lets a test await the first `warn`/`error`. */
function recordingLogger() {
  const lines: Array<{ level: string; obj: unknown; msg?: string }> = []
  let onLine: (() => void) | undefined
  const at = (level: string) => (obj: object | string, msg?: string) => {
    lines.push({ level, obj, msg })
    if (level === 'warn' || level === 'error') onLine?.()
  }
  const log: Logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), child: () => log }
  const problem = () => new Promise<void>((resolve) => (onLine = resolve))
  return { log, lines, problem }
}

const roots: string[] = []
async function pi4(): Promise<string> {
  const root = await writeFakeGpioSysfs(PI4_KERNEL_6_6)
  roots.push(root)
  return root
}
afterEach(async () => {
  vi.useRealTimers()
  await Promise.all(roots.splice(0).map((r) => rm(r, { recursive: true, force: true })))
})

const config = (over: Partial<Record<keyof GpioSourceConfig, unknown>> = {}): GpioSourceConfig =>
  gpioSourceSchema.parse({ type: 'gpio', id: 'front-door', pin: 17, ...over })

async function start(cfg: GpioSourceConfig, opts: { chips?: typeof PI4_KERNEL_6_6; log?: Logger } = {}) {
  const line = new FakeGpioLine()
  const counters = new RecordingCounters()
  const sysfsRoot = opts.chips ? await writeFakeGpioSysfs(opts.chips) : await pi4()
  if (opts.chips) roots.push(sysfsRoot)
  const source = new GpioSource(cfg, { log: opts.log ?? silentLogger, counters, openLine: line.opener, sysfsRoot })
  const sink = new RecordingSink()
  const ac = new AbortController()
  const done = source.run(sink, ac.signal)
  await line.watched()
  return { line, counters, source, sink, ac, done }
}

describe('GpioSource with a FakeGpioLine', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance', 'Date'] })
  })

  it('maps BCM 17 to sysfs 529 on a Pi 4 and turns one press into one alert reading', async () => {
    const t = await start(config({ edge: 'rising', deviceId: 'doorbell-1' }))
    expect(t.line.openedWith).toEqual({ sysfsPin: 529, opts: { edge: 'rising', activeLow: false } })
    expect(t.source.health()).toEqual({ state: 'running', detail: 'watching BCM 17 (sysfs 529, pinctrl-bcm2711 base 512)' })

    t.line.press()
    const [reading] = await t.sink.waitFor(1)
    expect(reading).toEqual({
      deviceId: 'doorbell-1',
      kind: 'doorbell.press',
      priority: 'alert',
      timeMs: Date.now(),
      data: { pressed: true, edge: 'rising', value: 1, presses: 1, settled: false },
    })
    t.ac.abort()
    await t.done
    expect(t.sink.readings).toHaveLength(1)
  })

  it('uses the Pi 5 base (571)', async () => {
    const t = await start(config(), { chips: PI5_KERNEL_6_6 })
    expect(t.line.openedWith?.sysfsPin).toBe(588)
    t.ac.abort()
    await t.done
  })

  it('a burst of bounce edges is one press; the bounces are counted', async () => {
    const t = await start(config({ edge: 'rising' }))
    t.line.press({ bounces: 4 }) // 5 rising edges reach the driver
    await t.sink.waitFor(1)
    await vi.advanceTimersByTimeAsync(50) // the quiet period ends the burst
    expect(t.source.stats()).toEqual({ presses: 1, bounces: 4, queued: 0 })
    expect(t.counters.get('front-door', 'bounce')).toBe(4)

    t.line.release()
    await vi.advanceTimersByTimeAsync(200)
    t.line.press({ bounces: 2 }) // a second, separate press
    await t.sink.waitFor(2)
    t.ac.abort()
    await t.done
    expect(t.sink.readings.map((r) => (r.data as { presses: number }).presses)).toEqual([1, 2])
    expect(t.source.stats().bounces).toBe(6)
  })

  it('edge both + activeLow (button to ground): press and release, chatter on both', async () => {
    const t = await start(config({ edge: 'both', activeLow: true }))
    expect(t.line.openedWith?.opts).toEqual({ edge: 'both', activeLow: true })
    t.line.press({ bounces: 3 })
    await t.sink.waitFor(1)
    await vi.advanceTimersByTimeAsync(200)
    t.line.release({ bounces: 1 })
    const readings = await t.sink.waitFor(2)
    await vi.advanceTimersByTimeAsync(50)
    expect(readings.map((r) => r.data)).toEqual([
      { pressed: true, edge: 'rising', value: 1, presses: 1, settled: false },
      { pressed: false, edge: 'falling', value: 0, presses: 1, settled: false },
    ])
    expect(t.source.stats().bounces).toBe(6 + 2)
    t.ac.abort()
    await t.done
  })

  it('edge both: a tap shorter than debounceMs still reports its release after the burst', async () => {
    const t = await start(config({ edge: 'both', debounceMs: 50 }))
    t.line.press({ bounces: 1 })
    t.line.release()
    await t.sink.waitFor(1)
    await vi.advanceTimersByTimeAsync(50)
    const readings = await t.sink.waitFor(2)
    expect(readings.map((r) => (r.data as { pressed: boolean; settled: boolean }))).toMatchObject([
      { pressed: true, settled: false },
      { pressed: false, settled: true },
    ])
    expect(t.source.stats().bounces).toBe(2)
    t.ac.abort()
    await t.done
  })

  it('a failed commit is counted and logged, and the source keeps running', async () => {
    const t = await start(config({ edge: 'rising' }))
    t.sink.outcome = async () => ({ accepted: 0, dropped: 1, lost: 1, invalid: 0, error: new Error('store full') })
    t.line.press()
    await t.sink.waitFor(1)
    t.ac.abort()
    await t.done // run waits for the durable outcome before it returns
    expect(t.counters.get('front-door', 'not_durable')).toBe(1)
  })

  it('an alert dropped without a store error (refused as invalid, or by whenFull) is logged but not counted not_durable', async () => {
    const { log, lines } = recordingLogger()
    const t = await start(config({ edge: 'rising' }), { log })
    // Ingest or the store counted the drop already (invalid_reading, store_full_rejected).
    t.sink.outcome = async () => ({ accepted: 0, dropped: 1, lost: 0, invalid: 0 })
    t.line.press()
    await t.sink.waitFor(1)
    t.ac.abort()
    await t.done
    expect(t.counters.get('front-door', 'not_durable')).toBe(0)
    expect(lines.filter((l) => l.level === 'error').map((l) => l.msg)).toEqual(['alert not stored: refused by the store (full) or as invalid (counted there)'])
  })

  it('an interrupt error is counted, not thrown', async () => {
    const t = await start(config())
    t.line.fail(new Error('epoll failed'))
    expect(t.counters.get('front-door', 'read_error')).toBe(1)
    t.ac.abort()
    await t.done
  })

  it('stop releases the line', async () => {
    const t = await start(config())
    t.ac.abort()
    await t.done
    expect(t.line.unexported).toBe(true)
    expect(t.line.watcherCount).toBe(0)
    expect(t.source.health().state).toBe('stopped')
  })
})

describe('GpioSource without GPIO', () => {
  async function runUnavailable(deps: { openLine?: FakeGpioLine['opener']; sysfsRoot?: string }) {
    const { log, lines, problem } = recordingLogger()
    const source = new GpioSource(config(), { log, counters: new RecordingCounters(), ...deps })
    const ac = new AbortController()
    const warned = problem()
    const done = source.run(new RecordingSink(), ac.signal)
    await warned
    const health = source.health()
    ac.abort()
    await expect(done).resolves.toBeUndefined()
    return { health, lines }
  }

  it('a missing /sys/class/gpio makes the source unavailable, logged once, no throw', async () => {
    const { health, lines } = await runUnavailable({ sysfsRoot: join(tmpdir(), 'no-gpio-here') })
    expect(health.state).toBe('unavailable')
    expect(health.detail).toMatch(/^GPIO not accessible: .*no-gpio-here missing \(no GPIO on this machine\)$/)
    expect(lines.filter((l) => l.level === 'warn' || l.level === 'error')).toHaveLength(1)
  })

  it.each([
    ['EACCES', /permission denied/],
    ['EINVAL', /refused to export sysfs pin 529/],
    ['ENOENT', /no GPIO on this machine/],
  ])('export failing with %s → unavailable', async (code, re) => {
    const line = new FakeGpioLine({ failOpenWith: code })
    const { health } = await runUnavailable({ openLine: line.opener, sysfsRoot: await pi4() })
    expect(health.state).toBe('unavailable')
    expect(health.detail).toMatch(re)
  })

  // The real path: default sysfs root and the real onoff openOnoffLine. This machine has no GPIO.
  it.skipIf(existsSync('/sys/class/gpio'))('with real defaults on a machine without GPIO → unavailable', async () => {
    const { health } = await runUnavailable({})
    expect(health).toEqual({
      state: 'unavailable',
      detail: 'GPIO not accessible: /sys/class/gpio missing (no GPIO on this machine)',
    })
  })

  it.skipIf(existsSync('/sys/class/gpio'))('real openOnoffLine behind a fake sysfs map → unavailable (Gpio.accessible false)', async () => {
    const { health } = await runUnavailable({ sysfsRoot: await pi4() })
    expect(health.state).toBe('unavailable')
    expect(health.detail).toMatch(/\/sys\/class\/gpio\/export cannot be opened/)
  })
})
