/**
 * Sends at a steady rate on an absolute schedule (message k is due at start + k / rate), so a slow
 * send does not shift every later one: when behind, the next call gets several messages at once,
 * up to `maxBatch`. When the sender itself cannot keep up (it awaits backpressure), the achieved
 * rate is simply lower; callers report it rather than hide it.
 */
import { sleep } from '../gateway/core/abort.js'

export interface PaceOptions {
  /** Messages per second, > 0. */
  ratePerSec: number
  /** Stop after this many messages. @default unlimited (until `signal` aborts) */
  total?: number
  /** Most messages handed to one `send` call. @default 1 */
  maxBatch?: number
  signal: AbortSignal
}

/**
 * Calls `send(count)` until `total` were sent or `signal` aborts; resolves with how many were
 * handed to `send`. A `send` that rejects stops the pacing and rejects this promise.
 * @throws RangeError for a rate that is not a positive finite number.
 */
export async function pace(opts: PaceOptions, send: (count: number) => Promise<void>): Promise<number> {
  const { ratePerSec, signal } = opts
  if (!(ratePerSec > 0) || !Number.isFinite(ratePerSec)) throw new RangeError(`ratePerSec must be > 0, got ${ratePerSec}`)
  const total = opts.total ?? Number.POSITIVE_INFINITY
  const maxBatch = Math.max(1, opts.maxBatch ?? 1)
  const start = performance.now()
  let sent = 0
  while (!signal.aborted && sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * ratePerSec) + 1)
    if (due > sent) {
      const count = Math.min(due - sent, maxBatch)
      await send(count)
      sent += count
      continue
    }
    // Pacing a simulated device is the one place a timed wait is the point.
    await sleep(Math.max(1, start + (sent * 1000) / ratePerSec - performance.now()), signal)
  }
  return sent
}
