/**
 * A shared/exclusive gate around every use of the LevelDB handle, so the store can close and
 * reopen it (write-recovery.ts) while forwarders read and ingest appends.
 *
 * Invariants
 * - `exclusive` runs only when no `shared` section is running, and no `shared` section starts
 *   while an exclusive one waits or runs (so a reopen cannot starve behind a stream of reads).
 * - Sections must not nest: a shared section that waited for the gate again while an exclusive
 *   one is queued would deadlock. The store enters the gate only at its innermost DB operations
 *   (the write lock's sections, each read), never around a wait for room.
 */
export class DbGate {
  private active = 0
  private exclusiveQueued = 0
  private exclusiveRunning = false
  private wakeShared: Array<() => void> = []
  private wakeExclusive: Array<() => void> = []

  async shared<T>(fn: () => Promise<T>): Promise<T> {
    while (this.exclusiveQueued > 0 || this.exclusiveRunning) await new Promise<void>((r) => this.wakeShared.push(r))
    this.active++
    try {
      return await fn()
    } finally {
      this.active--
      if (this.active === 0) this.wake(this.wakeExclusive)
    }
  }

  async exclusive<T>(fn: () => Promise<T>): Promise<T> {
    this.exclusiveQueued++
    try {
      while (this.active > 0 || this.exclusiveRunning) await new Promise<void>((r) => this.wakeExclusive.push(r))
    } finally {
      this.exclusiveQueued--
    }
    this.exclusiveRunning = true
    try {
      return await fn()
    } finally {
      this.exclusiveRunning = false
      this.wake(this.wakeExclusive)
      this.wake(this.wakeShared)
    }
  }

  private wake(list: Array<() => void>): void {
    for (const r of list.splice(0)) r()
  }
}
