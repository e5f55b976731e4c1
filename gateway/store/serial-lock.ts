/** A FIFO mutex for async sections: each run starts after the previous one settled. */
export class SerialLock {
  private tail: Promise<unknown> = Promise.resolve()

  /** Runs `fn` after every earlier `run` settled; resolves or rejects with `fn`'s result. */
  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.tail.then(fn)
    this.tail = result.catch(() => undefined)
    return result
  }
}

/** A one-shot broadcast: `wait` resolves on the next `notify`, or when `signal` aborts. */
export class Notifier {
  private waiters = new Set<() => void>()
  /** Bumped by every notify, so a caller can tell whether it missed one. */
  epoch = 0

  /** Waits not yet released. A notify (or a waiter's abort) releases at once, before any resumes. */
  get waiting(): number {
    return this.waiters.size
  }

  wait(signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal?.aborted) return resolve()
      const done = (): void => {
        this.waiters.delete(done)
        signal?.removeEventListener('abort', done)
        resolve()
      }
      this.waiters.add(done)
      signal?.addEventListener('abort', done, { once: true })
    })
  }

  notify(): void {
    this.epoch++
    for (const done of [...this.waiters]) done()
  }
}
