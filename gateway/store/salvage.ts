/**
 * Opening a damaged store: the gateway must come up and keep what can be kept, not crash-loop.
 *
 *  1. Open and load normally.
 *  2. If that fails with damage (store-util.isDamage: LevelDB corruption or an I/O error about its
 *     own files), or a repair was requested while running (REPAIR_MARKER), or the data files lost
 *     their CURRENT (opening would create an empty DB and LevelDB would DELETE the old files):
 *     run LevelDB's repair (`ClassicLevel.repair`). It rebuilds the MANIFEST from the table and log
 *     files, keeps every readable record, and moves what it cannot use to `<dir>/lost/`.
 *  3. If the repair fails, recovers nothing, or the store still does not load: rename the directory
 *     to `<dir>.damaged-<UTC timestamp>` (never deleted) and start an empty store.
 *
 * Every step logs an error with code GW_ERR_STORE_CORRUPT; the outcome is the SalvageReport
 * (LevelStore.salvage) for a metric. Environment
 * errors (LOCK held, disk full, permissions) are never salvaged: they throw as before.
 */
import { existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { rename } from 'node:fs/promises'
import { join } from 'node:path'
import { Level } from 'level'
import { GatewayError } from '../core/errors.js'
import type { Logger } from '../core/observability.js'
import { isDamage, isEnvironmentError, toStoreError } from './store-util.js'

export interface SalvageReport {
  /** open() found the store damaged and LevelDB's repair made it usable (unusable files: `<dir>/lost/`). */
  repaired: boolean
  /** open() could not repair the store: it was renamed to this path and an empty store started. */
  movedAside?: string
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

async function repair(dir: string): Promise<void> {
  const repairDb = (Level as unknown as { repair?: (location: string) => Promise<void> }).repair
  if (typeof repairDb !== 'function') throw new Error('this LevelDB binding has no repair()')
  await repairDb.call(Level, dir)
}

async function isEmpty(dir: string): Promise<boolean> {
  const db = new Level<string, Buffer>(dir, { keyEncoding: 'utf8', valueEncoding: 'buffer' })
  await db.open({ createIfMissing: false })
  try {
    return (await db.keys({ limit: 1 }).all()).length === 0
  } finally {
    await db.close()
  }
}

async function moveAside(dir: string, wallMs: number): Promise<string> {
  const stamp = new Date(wallMs).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')
  let target = `${dir}.damaged-${stamp}`
  for (let n = 2; existsSync(target); n++) target = `${dir}.damaged-${stamp}-${n}`
  await rename(dir, target)
  return target
}

/**
 * Runs `attempt` (open + load; it must close its DB when it throws) with the salvage steps above.
 * @throws what toStoreError makes of an environment error, or of a failure of the empty store.
 */
export async function openSalvaging<T>(dir: string, log: Logger, wallMs: number, attempt: () => Promise<T>): Promise<{ value: T; report: SalvageReport }> {
  const report: SalvageReport = { repaired: false, repairOnNextOpen: false }
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
  log.error({ code: 'GW_ERR_STORE_CORRUPT', dir, reason, err: cause }, 'store is damaged; running LevelDB repair')
  let repairFailure: unknown
  try {
    await repair(dir)
    if (await isEmpty(dir)) repairFailure = new Error('repair recovered nothing')
  } catch (err) {
    repairFailure = err
  }
  if (repairFailure !== undefined && isEnvironmentError(repairFailure)) throw toStoreError(repairFailure, dir)
  if (repairFailure === undefined) {
    try {
      const value = await attempt()
      rmSync(marker, { force: true })
      report.repaired = true
      log.error({ code: 'GW_ERR_STORE_CORRUPT', dir, lost: join(dir, 'lost') }, 'store repaired; records LevelDB could not read are lost, its unusable files are in lost/')
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
    movedAside = await moveAside(dir, wallMs)
  } catch (err) {
    throw new GatewayError('GW_ERR_STORE_CORRUPT', `store at ${dir} is damaged and could not be moved aside`, { cause: err })
  }
  report.movedAside = movedAside
  log.error({ code: 'GW_ERR_STORE_CORRUPT', dir, movedAside, err: cause }, 'store could not be repaired; moved aside, starting with an empty store')
  try {
    return { value: await attempt(), report }
  } catch (err) {
    throw toStoreError(err, dir)
  }
}
