/**
 * In/out event rates for `/api/status`, kept by the daemon so one request (the CLI's `status`, the
 * page's poll) gets a meaningful rate without sampling twice itself.
 *
 * Samples the cumulative counters once per `intervalMs` into a ring that covers `windowMs`; a rate
 * is (counters now − oldest sample in the ring) / elapsed, i.e. a moving average over at most
 * windowMs. Memory: windowMs / intervalMs + 1 samples. The timer is unref'd and ends with `stop()`.
 */

export interface RateCounters {
  ingested: number
  forwarded: number
}

export interface Rates {
  /** Events stored per second (all sources). */
  inPerSec: number
  /** Events confirmed per second, summed over uplinks (an event sent to two uplinks counts twice). */
  outPerSec: number
  /** The span the rates average over, ms (shorter right after start). */
  windowMs: number
}

export interface RateSamplerOptions {
  /** @default 1000 */
  intervalMs?: number
  /** @default 5000 */
  windowMs?: number
  /** @default Date.now */
  now?: () => number
}

interface Sample extends RateCounters {
  atMs: number
}

export class RateSampler {
  private readonly intervalMs: number
  private readonly windowMs: number
  private readonly now: () => number
  private readonly samples: Sample[] = []
  private timer: NodeJS.Timeout | undefined

  constructor(
    private readonly read: () => RateCounters,
    opts: RateSamplerOptions = {},
  ) {
    this.intervalMs = opts.intervalMs ?? 1000
    this.windowMs = opts.windowMs ?? 5000
    this.now = opts.now ?? Date.now
  }

  /** Takes the first sample and starts the timer. Idempotent. */
  start(): void {
    if (this.timer) return
    this.sample()
    this.timer = setInterval(() => this.sample(), this.intervalMs)
    this.timer.unref()
  }

  stop(): void {
    clearInterval(this.timer)
    this.timer = undefined
  }

  /** Rates over the ring; zeros before the first sample. Never throws. */
  rates(): Rates {
    const oldest = this.samples[0]
    if (!oldest) return { inPerSec: 0, outPerSec: 0, windowMs: 0 }
    const now = this.now()
    const current = this.read()
    const elapsedMs = now - oldest.atMs
    if (elapsedMs <= 0) return { inPerSec: 0, outPerSec: 0, windowMs: 0 }
    const perSec = (delta: number): number => Math.max(0, (delta * 1000) / elapsedMs)
    return {
      inPerSec: perSec(current.ingested - oldest.ingested),
      outPerSec: perSec(current.forwarded - oldest.forwarded),
      windowMs: elapsedMs,
    }
  }

  /** Records the counters now and drops samples that left the window. */
  sample(): void {
    const atMs = this.now()
    this.samples.push({ atMs, ...this.read() })
    while (this.samples.length > 1 && atMs - this.samples[0]!.atMs > this.windowMs) this.samples.shift()
  }
}
