/**
 * Retry timing as a policy: exponential growth with "full jitter" (a uniformly random wait between
 * 0 and the exponential cap), so a fleet of gateways coming back after a broker outage does not
 * reconnect in lock-step.
 */
export interface BackoffOptions {
  /** First cap, ms. @default 100 */
  initialMs?: number
  /** Largest cap, ms. @default 30000 */
  maxMs?: number
  /** Growth factor per attempt. @default 2 */
  factor?: number
  /** Source of randomness in [0, 1); injectable for tests. @default Math.random */
  random?: () => number
}

export class Backoff {
  private attempt = 0
  private readonly initialMs: number
  private readonly maxMs: number
  private readonly factor: number
  private readonly random: () => number

  constructor(opts: BackoffOptions = {}) {
    this.initialMs = opts.initialMs ?? 100
    this.maxMs = opts.maxMs ?? 30_000
    this.factor = opts.factor ?? 2
    this.random = opts.random ?? Math.random
  }

  /** The wait before the next attempt, ms; grows the cap for the one after. */
  next(): number {
    const cap = Math.min(this.maxMs, this.initialMs * this.factor ** this.attempt)
    if (cap < this.maxMs) this.attempt++
    return Math.floor(this.random() * cap)
  }

  /** Call after a success. */
  reset(): void {
    this.attempt = 0
  }

  get attempts(): number {
    return this.attempt
  }
}
