/** Connection up/down notifications for the runtime (health, metrics) and for tests to await. */
import { abortedError, stoppedError } from './classify-error.js'

/** Called with `true` on CONNACK success and `false` when an established connection ends. */
export type ConnectionListener = (connected: boolean) => void

export class ConnectionSignal {
  private readonly listeners = new Set<ConnectionListener>()

  /** Registers `listener`; returns the unsubscribe function. */
  on(listener: ConnectionListener): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  emit(connected: boolean): void {
    for (const fn of [...this.listeners]) fn(connected)
  }

  /**
   * Resolves on the next `true`. Rejects with retriable `stopped` when `stopSignal` is missing or
   * aborts first, with `aborted` when `signal` aborts first. Leaves no listener behind.
   */
  nextUp(stopSignal: AbortSignal | undefined, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      const done = (err?: Error): void => {
        off()
        signal?.removeEventListener('abort', onAbort)
        stopSignal?.removeEventListener('abort', onStop)
        if (err) reject(err)
        else resolve()
      }
      const off = this.on((up) => up && done())
      const onAbort = (): void => done(abortedError(signal?.reason))
      const onStop = (): void => done(stoppedError())
      if (!stopSignal || stopSignal.aborted) return done(stoppedError())
      if (signal?.aborted) return done(abortedError(signal.reason))
      signal?.addEventListener('abort', onAbort, { once: true })
      stopSignal.addEventListener('abort', onStop, { once: true })
    })
  }
}

/** True when `promise` settled within `ms`; the timer never outlives the call. */
export async function settlesWithin(promise: Promise<unknown> | undefined, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<false>((resolve) => (timer = setTimeout(resolve, ms, false)))
  try {
    return await Promise.race([Promise.resolve(promise).then(() => true), timeout])
  } finally {
    clearTimeout(timer)
  }
}
