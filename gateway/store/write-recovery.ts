/**
 * Recovery from LevelDB's sticky write error. When a flush, a compaction or a synced write fails
 * (ENOSPC: another process filled the disk, or the free-space guard was too optimistic), LevelDB
 * keeps that error and fails every later write, acks included, until the DB is closed and opened
 * again. This module notices such a failure, refuses writes at once (a write after a torn log
 * record could be dropped with it at recovery), waits until there is space again (or, when none
 * comes back, deletes the store's emergency reserve file), and reopens the same handle under the
 * exclusive gate.
 *
 * Invariants
 * - Nothing stored is lost: reopening replays LevelDB's log like a restart after kill -9 does;
 *   the failed write is all-or-nothing, and the store's in-memory view was never updated for it
 *   (log-mutations.ts applies a write only after it succeeded). Cursor moves the failed acks had
 *   made in memory are written again after the reopen (`onReopened`).
 * - While broken, `assertWritable` throws GW_ERR_STORE_FULL: appends are refused (counted by the
 *   caller as store errors), acks are retried by the forwarder (duplicates, never loss).
 * - Only out-of-space errors count: damage has its own path (repair at the next open), and other
 *   environment errors (permissions, read-only) are not fixed by a reopen.
 * - One reopen loop at a time; `stop()` ends it (store close), leaving the handle to close().
 * - When no space comes back (after `reserveAfterMs` the guard still says critical AND less is free
 *   than the reserve would give back, or a reopen fails for lack of space), nobody else may ever
 *   free any: the store's own files can be what fills the disk. Then the emergency reserve file (reserve-file.ts) is deleted, once
 *   per recovery, logged at error level, and LevelDB reopened in the room it leaves; from then on
 *   the store frees space only by its counted paths (acks and the deletes they allow, whenFull,
 *   expiry). The store makes the reserve again once it has room for it (store-core.ts).
 *   A reserve is not a compaction: if LevelDB's restarted compaction needs more than the reserve
 *   and what the failed one left behind (see test/chaos/README.md), the store fails again and
 *   waits for space as before; without a reserve it waits up to `forceEveryMs` between reopens.
 */
import { GatewayError } from '../core/errors.js'
import type { Logger } from '../core/observability.js'
import type { DbGate } from './db-gate.js'
import type { DiskSpaceGuard } from './disk-space-guard.js'
import type { LevelDb } from './front-trimmer.js'
import { causedByOutOfSpace, isOutOfSpace } from './store-util.js'

/** What recovery needs of the emergency reserve file (reserve-file.ts). */
export interface EmergencyReserve {
  readonly path: string
  /** Its size: what deleting it gives back. */
  readonly bytes: number
  readonly present: boolean
  /** Deletes it; resolves with the bytes freed (0: there was none). */
  release(): Promise<number>
}

export interface WriteRecoveryDeps {
  db: LevelDb
  gate: DbGate
  disk: DiskSpaceGuard
  log: Logger
  /** After a successful reopen (outside the gate): rewrite what failed writes left only in memory. */
  onReopened: () => Promise<void>
  /** Pause between attempts, ms. @default 1000 */
  retryMs?: number
  /** Even without free space, try a reopen this often (replaying the log may itself free space). @default 30000 */
  forceEveryMs?: number
  /** Deleted when no space comes back; none: wait for space (or `forceEveryMs`) only. */
  reserve?: EmergencyReserve
  /** With a reserve, wait this long for space before deleting it. @default 5000 */
  reserveAfterMs?: number
}

export class WriteRecovery {
  private cause: unknown
  private running: Promise<void> | undefined
  private stopped = false
  private wakeStop: (() => void) | undefined

  constructor(private readonly deps: WriteRecoveryDeps) {}

  /** Whether LevelDB refuses writes now (a recovery is under way). */
  get broken(): boolean {
    return this.cause !== undefined
  }

  /** @throws GatewayError GW_ERR_STORE_FULL while LevelDB refuses writes (until reopened). */
  assertWritable(): void {
    if (this.cause === undefined) return
    throw new GatewayError('GW_ERR_STORE_FULL', 'store cannot write: LevelDB failed a write for lack of disk space and is reopened once there is space', { cause: this.cause })
  }

  /** Told about every failed write; starts recovery when it was for lack of space. */
  noteWriteFailure(err: unknown): void {
    if (this.stopped || this.cause !== undefined || err instanceof GatewayError || !isOutOfSpace(err)) return
    this.cause = err
    this.deps.log.error({ code: 'GW_ERR_STORE_FULL', err }, 'store: LevelDB failed a write for lack of disk space; writes are refused until it is reopened (when space is available)')
    // A write failing again during a recovery's own follow-up starts a new recovery; only the
    // newest may clear `running`, so stop() always waits for the one still going.
    const run: Promise<void> = this.recover().finally(() => {
      if (this.running === run) this.running = undefined
    })
    this.running = run
  }

  /** Ends a recovery in progress (store close); resolves when it has let go of the gate. */
  async stop(): Promise<void> {
    this.stopped = true
    this.wakeStop?.()
    while (this.running) await this.running
  }

  private async recover(): Promise<void> {
    const retryMs = this.deps.retryMs ?? 1000
    const waitLimitMs = (): number => (this.deps.reserve?.present ? this.deps.reserveAfterMs ?? 5000 : this.deps.forceEveryMs ?? 30_000)
    let waitedMs = 0
    // Wait for space outside the gate: reads go on meanwhile (LevelDB still reads fine).
    let level = (await this.deps.disk.room()).level
    while (!this.stopped && level === 'critical' && waitedMs < waitLimitMs()) {
      await this.pause(retryMs)
      waitedMs += retryMs
      level = (await this.deps.disk.room()).level
    }
    if (this.stopped) return
    // Critical means less free than the guard's reserve, not an empty disk: delete the emergency
    // reserve only when less is free than it would give back (a plain reopen handles the rest).
    const nearlyEmpty = level === 'critical' && this.deps.disk.estimatedFreeBytes() < (this.deps.reserve?.bytes ?? 0)
    let reserveUsed = nearlyEmpty && (await this.useReserve('no free space came back'))
    // One attempt per turn of the gate: holding it between attempts would stall every caller
    // (and a graceful shutdown waiting for them). Between failed attempts the handle is closed:
    // writes fail fast (still broken), reads fail with "Database is not open" (the forwarder backs off and retries).
    let attempts = 0
    for (;;) {
      attempts++
      const failure = await this.deps.gate.exclusive(async () => {
        try {
          await this.deps.db.close()
          await this.deps.db.open()
          return undefined
        } catch (err) {
          return err
        }
      })
      if (failure === undefined) break
      // LevelDB writes its log into a table and a new manifest before it deletes anything: with
      // no free space at all it cannot open, and nothing but the reserve will make room.
      if (!reserveUsed && causedByOutOfSpace(failure)) {
        reserveUsed = await this.useReserve('LevelDB could not reopen for lack of space')
        if (reserveUsed) continue
      }
      if (attempts === 1 || attempts % 30 === 0) this.deps.log.warn({ code: 'GW_ERR_STORE_FULL', err: failure, attempts }, 'store: LevelDB could not be reopened yet; retrying')
      await this.pause(retryMs)
      if (this.stopped) return
    }
    this.cause = undefined
    this.deps.log.warn({ code: 'GW_ERR_STORE_FULL', attempts, reserveUsed }, 'store: LevelDB reopened after a failed write; writes work again')
    await this.deps.onReopened().catch((err: unknown) => {
      this.deps.log.error({ err }, 'store: rewriting cursors after the reopen failed')
      this.noteWriteFailure(err)
    })
  }

  /** Deletes the emergency reserve (if there is one); true when that freed space. */
  private async useReserve(why: string): Promise<boolean> {
    const reserve = this.deps.reserve
    if (!reserve?.present) return false
    const freed = await reserve.release().catch((err: unknown) => {
      this.deps.log.error({ code: 'GW_ERR_STORE_FULL', err, path: reserve.path }, 'store could not delete its emergency disk reserve')
      return 0
    })
    if (freed > 0) {
      await this.deps.disk.roomNow() // a fresh sample: adding `freed` to the last one could count it twice
      this.deps.log.error({ code: 'GW_ERR_STORE_FULL', path: reserve.path, freedBytes: freed, why },
        'store: the disk is full and nothing freed space (LevelDB cannot write or reopen); deleted the emergency disk reserve so the store can reopen and free space by acks (and whenFull); it is made again once there is room')
    }
    return freed > 0
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms)
      function done(): void {
        clearTimeout(timer)
        resolve()
      }
      this.wakeStop = done
    })
  }
}
