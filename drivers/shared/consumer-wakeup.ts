/**
 * Wakes an async consumer when a callback producer (a GPIO interrupt, noble's discover event)
 * has put something where the consumer looks. The producer never waits: `notify()` is synchronous
 * and cheap, and a notify with nobody waiting is a no-op (the consumer re-checks before it waits).
 *
 * Invariants: a waiter is resolved at most once, by a notify or by its signal's abort, and its abort
 * listener is removed either way (no listener piles up on a long-lived signal).
 */
export class ConsumerWakeup {
  private readonly waiters = new Set<() => void>()

  /** Wakes everyone waiting now. Never throws. */
  notify(): void {
    for (const wake of [...this.waiters]) wake()
  }

  /**
   * Resolves true once `ready()` holds (checked now and after every notify), or false once `signal`
   * aborts first. Never rejects.
   */
  async waitUntil(ready: () => boolean, signal: AbortSignal): Promise<boolean> {
    while (!ready()) {
      if (signal.aborted) return false
      await new Promise<void>((resolve) => {
        const wake = (): void => {
          signal.removeEventListener('abort', wake)
          this.waiters.delete(wake)
          resolve()
        }
        this.waiters.add(wake)
        signal.addEventListener('abort', wake, { once: true })
      })
    }
    return true
  }
}
