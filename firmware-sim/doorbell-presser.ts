/**
 * Someone at the door: presses a FakeGpioLine (firmware-sim/doorbell.ts) now and then, with the
 * contact chatter of a real push button, and lets go a moment later. For the demo.
 */
import type { FakeGpioLine } from './doorbell.js'

export interface DoorbellPresserOptions {
  /** First press after this long, ms. @default 3000 */
  firstAfterMs?: number
  /** Then one press per this long, ms. @default 20000 */
  everyMs?: number
  /** How long the button is held, ms. @default 150 */
  holdMs?: number
  /** Contact bounces on press. @default 2 */
  bounces?: number
}

export class DoorbellPresser {
  /** Presses so far. */
  presses = 0
  private readonly timers = new Set<NodeJS.Timeout>()
  private stopped = false

  constructor(
    private readonly line: FakeGpioLine,
    private readonly opts: DoorbellPresserOptions = {},
  ) {}

  start(): void {
    this.stopped = false
    this.schedule(this.opts.firstAfterMs ?? 3000)
  }

  /** One press and, after `holdMs`, the release. */
  pressOnce(): void {
    this.presses++
    this.line.press({ bounces: this.opts.bounces ?? 2 })
    this.later(this.opts.holdMs ?? 150, () => this.line.release())
  }

  stop(): void {
    this.stopped = true
    for (const t of this.timers) clearTimeout(t)
    this.timers.clear()
  }

  private schedule(ms: number): void {
    this.later(ms, () => {
      this.pressOnce()
      this.schedule(this.opts.everyMs ?? 20_000)
    })
  }

  private later(ms: number, fn: () => void): void {
    if (this.stopped) return
    const t = setTimeout(() => {
      this.timers.delete(t)
      fn()
    }, ms)
    this.timers.add(t)
  }
}
