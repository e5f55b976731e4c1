/**
 * Opening a damaged store: the gateway must come up and keep what can be kept, never crash-loop.
 *
 *  1. Open and load normally.
 *  2. If that fails with damage (store-util.isDamage: LevelDB corruption or an I/O error about its
 *     own files), or a repair was requested while running (REPAIR_MARKER), or the data files lost
 *     their CURRENT (opening would create an empty DB and LevelDB would DELETE the old files):
 *     run LevelDB's repair IN A CHILD PROCESS on a hard-linked snapshot, followed by a full
 *     compaction and scan (child-salvage.ts, leveldb-child.ts). LevelDB can abort() on a damaged
 *     table (an assertion in TableBuilder::Add); in a child that fails one attempt, not the
 *     gateway at every restart. The repair keeps every readable record and moves what it cannot
 *     use to `<dir>/lost/`; the verified result replaces the store.
 *  3. If the repair fails (the child died, e.g. SIGABRT), recovers nothing, or the store still does
 *     not load: rename the directory to `<dir>.damaged-<UTC timestamp>` (never deleted), copy
 *     every key still readable from it into `<dir>.salvaging` (again in child processes, resuming
 *     after a child crashed), sync that and rename it to `<dir>` (salvage-copy.ts), and open it.
 *     Counters and meta keys are copied first, so sequences are not reused.
 *
 * Crash points of step 3 (kill -9 or power cut; each rename is followed by a sync of the parent
 * directory). What the next open() finds, and does before anything else:
 *   a. before `<dir>.salvaging` holds SALVAGE-FROM (the name the store is about to get): `<dir>`
 *      is the damaged store; a `.salvaging` beside it is stale and removed; 1-3 run again.
 *   b. after that, before `<dir>` was renamed to `.damaged-*`: the same as a.
 *   c. after that rename, while the children copy, or after they finished and before
 *      `.salvaging` was renamed to `<dir>`: no `<dir>`, a `.salvaging` naming its source. The
 *      half copy is cleared and the copy starts again from the `.damaged-*` directory, which was
 *      only ever read through a snapshot. A half copy never opens as the store.
 *   d. after `.salvaging` became `<dir>`: the finished copy opens (a SALVAGE-FROM left in it is
 *      harmless and deleted).
 *   e. the copy does not load either and was moved aside too: no `<dir>`, no `.salvaging`, so an
 *      empty store starts, which is what that step was doing.
 *   In c, a copy child is not left running: children exit with the gateway (child-salvage.ts).
 *   Only if an operator deleted the `.damaged-*` directory in c is the half copy kept (logged).
 *   Crash points of the repair swap (step 2): child-salvage.ts.
 * A copy that cannot write the new store (disk full) throws GW_ERR_STORE_CLOSED and is state c.
 *
 * Entries lost on the way are counted `corrupt_entry` by the store: missing at the front by
 * open-state.ts (front key), missing inside the queue by the readers. Every step logs an error
 * with code GW_ERR_STORE_CORRUPT; the outcome is the SalvageReport (LevelStore.salvage) for a
 * metric. Environment errors (LOCK held, disk full, permissions) are never salvaged: they throw.
 */
import { existsSync, readdirSync, writeFileSync } from 'node:fs'
import { rename } from 'node:fs/promises'
import { join } from 'node:path'
import { GatewayError } from '../core/errors.js'
import type { Logger } from '../core/observability.js'
import { finishInterruptedRepair, repairInChild } from './child-salvage.js'
import { asideName, copyIntoStore, moveAside, resumeInterruptedCopy, type SalvageCopy } from './salvage-copy.js'
import { isDamage, isEnvironmentError, toStoreError } from './store-util.js'

export interface SalvageReport {
  /** open() found the store damaged and LevelDB's repair made it usable (unusable files: `<dir>/lost/`). */
  repaired: boolean
  /** open() could not repair the store: it was renamed to this path and a new store started. */
  movedAside?: string
  /** After a move aside: how many keys (entries, counters, cursors...) were copied into the new store. */
  salvagedKeys?: number
  /** Entries open() found missing at the front of the queue (lost to damage; counted `corrupt_entry`). */
  lostEntries?: number
  /** Damage was seen while running that only a repair fixes (unreadable table block, failed write); the next open() repairs first. */
  repairOnNextOpen: boolean
}

/** File inside the DB directory that makes the next open() repair first. LevelDB ignores it. */
export const REPAIR_MARKER = 'REPAIR-REQUESTED'

const DATA_FILE = /^\d+\.(ldb|sst|log)$/

function orphanedData(dir: string): boolean {
  try {
    return !existsSync(join(dir, 'CURRENT')) && readdirSync(dir).some((f) => DATA_FILE.test(f))
  } catch {
    return false
  }
}

/** Makes the next open() run a repair first. Never throws (the caller is already handling damage). */
export function requestRepair(dir: string, reason: string): boolean {
  try {
    writeFileSync(join(dir, REPAIR_MARKER), `${new Date().toISOString()} ${reason}\n`)
    return true
  } catch {
    return false
  }
}

/** Repair in a child; resolves with why it did not work, or undefined when `dir` now holds the repaired store. */
async function tryRepair(dir: string, log: Logger): Promise<Error | undefined> {
  let outcome
  try {
    outcome = await repairInChild(dir, log)
  } catch (err) {
    return err instanceof Error ? err : new Error(String(err)) // the snapshot or the swap failed
  }
  if (!outcome.ok) return new Error(`LevelDB repair in a child process failed (${outcome.detail})`)
  return undefined
}

function copyFailed(err: unknown, dir: string): GatewayError {
  return new GatewayError('GW_ERR_STORE_CLOSED', `store at ${dir} is damaged and its salvage copy could not be written; the next start copies again`, { cause: err })
}

/**
 * Runs `attempt` (open + load; it must close its DB when it throws) with the salvage steps above.
 * @throws what toStoreError makes of an environment error, or of a failure of the new store;
 * GW_ERR_STORE_CLOSED when a salvage copy could not be written (resumed at the next open).
 */
export async function openSalvaging<T>(dir: string, log: Logger, wallMs: number, attempt: () => Promise<T>): Promise<{ value: T; report: SalvageReport }> {
  finishInterruptedRepair(dir, log)
  const report: SalvageReport = { repaired: false, repairOnNextOpen: false }
  const resumed = await resumeInterruptedCopy(dir, log).catch((err: unknown) => {
    throw copyFailed(err, dir)
  })
  if (resumed) return openCopy(dir, log, wallMs, attempt, resumed, report)
  const marker = join(dir, REPAIR_MARKER)
  let cause: unknown
  let reason = existsSync(marker) ? 'a repair was requested after damage was seen while running' : orphanedData(dir) ? 'CURRENT is missing' : undefined
  if (!reason) {
    try {
      return { value: await attempt(), report }
    } catch (err) {
      if (!isDamage(err)) throw toStoreError(err, dir)
      cause = err
      reason = err instanceof Error ? err.message : String(err)
    }
  }
  log.error({ code: 'GW_ERR_STORE_CORRUPT', dir, reason, err: cause }, 'store is damaged; running LevelDB repair on a copy, in a child process')
  const repairFailure = await tryRepair(dir, log)
  if (repairFailure !== undefined && isEnvironmentError(repairFailure)) throw toStoreError(repairFailure, dir)
  if (repairFailure === undefined) {
    try {
      const value = await attempt()
      report.repaired = true
      log.error({ code: 'GW_ERR_STORE_CORRUPT', dir, lost: join(dir, 'lost') }, 'store repaired; records LevelDB could not read are lost (counted corrupt_entry), its unusable files are in lost/')
      return { value, report }
    } catch (err) {
      if (!isDamage(err)) throw toStoreError(err, dir)
      cause = err
    }
  } else {
    cause = repairFailure
  }
  let movedAside: string
  try {
    movedAside = moveAside(dir, wallMs)
  } catch (err) {
    throw new GatewayError('GW_ERR_STORE_CORRUPT', `store at ${dir} is damaged and could not be moved aside`, { cause: err })
  }
  log.error({ code: 'GW_ERR_STORE_CORRUPT', dir, movedAside, err: cause }, 'store could not be repaired; moved aside, copying what is still readable into a new store (child process)')
  const copy = await copyIntoStore(dir, movedAside).catch((err: unknown) => {
    throw copyFailed(err, dir)
  })
  return openCopy(dir, log, wallMs, attempt, { movedAside, copy }, report)
}

/** Opens the store a salvage copy made; if even that does not load, starts empty (the damaged store is kept). */
async function openCopy<T>(dir: string, log: Logger, wallMs: number, attempt: () => Promise<T>, salvage: SalvageCopy, report: SalvageReport): Promise<{ value: T; report: SalvageReport }> {
  const { movedAside, copy } = salvage
  report.movedAside = movedAside
  report.salvagedKeys = copy.copied
  log.error({ code: 'GW_ERR_STORE_CORRUPT', dir, movedAside, salvagedKeys: copy.copied, complete: copy.complete, failures: copy.failures },
    copy.complete ? 'store salvaged: every readable key copied into the new store' : 'store partly salvaged: reading the damaged store failed part-way; the rest is lost (counted corrupt_entry)')
  try {
    return { value: await attempt(), report }
  } catch (err) {
    if (!isDamage(err) || !copy.copied) throw toStoreError(err, dir)
    // The copy itself does not load: start empty rather than not at all (the damaged store is kept).
    const second = asideName(dir, wallMs)
    await rename(dir, second)
    log.error({ code: 'GW_ERR_STORE_CORRUPT', dir, movedAside: second, err }, 'the salvaged copy does not load either; moved aside, starting with an empty store')
    try {
      return { value: await attempt(), report }
    } catch (err2) {
      throw toStoreError(err2, dir)
    }
  }
}
