/**
 * A simulated doorbell button on a GPIO input: a fake at the lowest layer (the `GpioLine`
 * boundary of drivers/gpio), so the real GpioSource, debouncer and queue run in tests.
 *
 * It models what the kernel does for a sysfs line: a physical level, `active_low` inversion,
 * and the `edge` filter (only matching logical edges interrupt). A mechanical push button does
 * not switch cleanly: the contacts chatter for a few milliseconds, which shows up as extra edge
 * pairs; `press({ bounces })` reproduces that.
 */
import { mkdtemp, mkdir, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { GpioLine, GpioLineOptions, LineValue, OpenGpioLine } from '../drivers/gpio/gpio-line.js'

type WatchCallback = (err: Error | null | undefined, value: LineValue) => void

export interface FakeGpioLineOptions {
  /** Physical level at open. @default the released level: 0, or 1 when opened `activeLow` */
  initialLevel?: LineValue
  /** Make `open` fail like sysfs does: e.g. 'ENOENT', 'EACCES', 'EINVAL', 'EBUSY'. */
  failOpenWith?: string
}

export class FakeGpioLine implements GpioLine {
  /** What the driver asked for, set by `opener`. */
  openedWith: { sysfsPin: number; opts: GpioLineOptions } | undefined
  unexported = false
  private level: LineValue
  private readonly watchers: WatchCallback[] = []
  private readonly onWatched: Array<() => void> = []

  constructor(private readonly fakeOpts: FakeGpioLineOptions = {}) {
    this.level = fakeOpts.initialLevel ?? 0
  }

  /** An `OpenGpioLine` that hands out this line (or fails with `failOpenWith`). */
  readonly opener: OpenGpioLine = async (sysfsPin, opts) => {
    if (this.fakeOpts.failOpenWith) {
      const code = this.fakeOpts.failOpenWith
      throw Object.assign(new Error(`${code}: fake sysfs refused gpio${sysfsPin}`), { code })
    }
    this.openedWith = { sysfsPin, opts }
    // A button wired to ground idles high: released is physical 1 on an activeLow line.
    if (this.fakeOpts.initialLevel === undefined) this.level = opts.activeLow ? 1 : 0
    return this
  }

  watch(cb: WatchCallback): void {
    if (this.unexported) throw new Error('line was unexported')
    this.watchers.push(cb)
    for (const resolve of this.onWatched.splice(0)) resolve()
  }

  /** Resolves once the driver is watching (so a test can press without polling). */
  watched(): Promise<void> {
    if (this.watchers.length > 0) return Promise.resolve()
    return new Promise((resolve) => this.onWatched.push(resolve))
  }

  unwatchAll(): void {
    this.watchers.length = 0
  }

  async read(): Promise<LineValue> {
    return this.logical(this.level)
  }

  unexport(): void {
    this.unexported = true
    this.watchers.length = 0
  }

  get watcherCount(): number {
    return this.watchers.length
  }

  /** Sets the physical level; interrupts watchers when the logical edge matches the edge filter. */
  setLevel(level: LineValue): void {
    if (level === this.level) return
    this.level = level
    const value = this.logical(level)
    const edge = this.openedWith?.opts.edge ?? 'both'
    if (edge === 'both' || (edge === 'rising') === (value === 1)) {
      for (const cb of this.watchers.slice()) cb(null, value)
    }
  }

  /** Pushes the button: `bounces` extra contact chatter cycles before it settles pressed. */
  press(opts: { bounces?: number } = {}): void {
    this.chatterTo(1, opts.bounces ?? 0)
  }

  /** Lets go of the button, with optional chatter. */
  release(opts: { bounces?: number } = {}): void {
    this.chatterTo(0, opts.bounces ?? 0)
  }

  /** Simulates a failing kernel poller (onoff passes epoll errors to watchers). */
  fail(err: Error): void {
    for (const cb of this.watchers.slice()) cb(err, this.logical(this.level))
  }

  /** Drives the LOGICAL level to `target`, toggling `bounces` extra times on the way. */
  private chatterTo(target: LineValue, bounces: number): void {
    const physical = (v: LineValue): LineValue => this.logical(v) // inversion is its own inverse
    for (let i = 0; i < bounces; i++) {
      this.setLevel(physical(target))
      this.setLevel(physical(target === 1 ? 0 : 1))
    }
    this.setLevel(physical(target))
  }

  private logical(level: LineValue): LineValue {
    return this.openedWith?.opts.activeLow ? ((1 - level) as LineValue) : level
  }
}

/** One `/sys/class/gpio/gpiochipN` directory. */
export interface FakeGpioChip {
  base: number
  label: string
  ngpio: number
}

/** Raspberry Pi 4, kernel >= 6.6: SoC chip moved to base 512. */
export const PI4_KERNEL_6_6: readonly FakeGpioChip[] = [
  { base: 512, label: 'pinctrl-bcm2711', ngpio: 58 },
  { base: 570, label: 'raspberrypi-exp-gpio', ngpio: 8 },
]
/** Raspberry Pi 5, kernel >= 6.6: the header is on RP1 (base 571), after four brcmstb chips. */
export const PI5_KERNEL_6_6: readonly FakeGpioChip[] = [
  { base: 512, label: 'gpio-brcmstb@107d508500', ngpio: 32 },
  { base: 544, label: 'gpio-brcmstb@107d508520', ngpio: 4 },
  { base: 548, label: 'gpio-brcmstb@107d517c00', ngpio: 17 },
  { base: 565, label: 'gpio-brcmstb@107d517c20', ngpio: 6 },
  { base: 571, label: 'pinctrl-rp1', ngpio: 54 },
]
/** Raspberry Pi 3, kernel < 6.6: SoC chip at base 0, so BCM = sysfs. */
export const PI3_KERNEL_6_1: readonly FakeGpioChip[] = [
  { base: 0, label: 'pinctrl-bcm2835', ngpio: 54 },
  { base: 504, label: 'raspberrypi-exp-gpio', ngpio: 8 },
]

/**
 * Writes a fake `/sys/class/gpio` (export file + gpiochip base/label/ngpio) into a new temp
 * directory and returns its path. The caller removes it.
 */
export async function writeFakeGpioSysfs(chips: readonly FakeGpioChip[]): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'gpio-sysfs-'))
  await writeFile(join(root, 'export'), '')
  for (const c of chips) {
    const dir = join(root, `gpiochip${c.base}`)
    await mkdir(dir)
    await writeFile(join(dir, 'base'), `${c.base}\n`)
    await writeFile(join(dir, 'label'), `${c.label}\n`)
    await writeFile(join(dir, 'ngpio'), `${c.ngpio}\n`)
  }
  return root
}
