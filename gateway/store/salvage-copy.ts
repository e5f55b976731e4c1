/**
 * The copy step of a salvage (salvage.ts step 3, whose header lists every crash point), done so
 * that a crash or power cut at any moment neither opens a half copy as the store nor leaves a
 * readable entry only in `.damaged-*`.
 *
 * Invariants
 * - The copy is built in `<dir>.salvaging` and renamed to `<dir>` only once the children are done
 *   and every file of it is synced. `<dir>` is therefore either the old store or a finished copy.
 * - `<dir>.salvaging` exists, holding SALVAGE_SOURCE (the name of the moved-aside directory), and
 *   is synced, BEFORE `<dir>` is moved aside. So "no `<dir>`, a `.salvaging`" always means an
 *   interrupted copy whose source is known, and "`<dir>` and a `.salvaging`" a stale one.
 * - The moved-aside directory is only ever read through a hard-linked snapshot (child-salvage.ts):
 *   an interrupted copy can always start again from it, as found.
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import type { Logger } from '../core/observability.js'
import { copyInChild, type CopyOutcome } from './child-salvage.js'

/** File in `<dir>.salvaging` naming the moved-aside directory it is copied from (a sibling). */
export const SALVAGE_SOURCE = 'SALVAGE-FROM'

const salvaging = (dir: string): string => `${dir}.salvaging`
/** Hard-linked snapshot of the moved-aside directory that the copy children read. */
const snapshot = (dir: string): string => `${dir}.salvage-source`

export interface SalvageCopy {
  /** The moved-aside damaged store (kept for the operator). */
  movedAside: string
  copy: CopyOutcome
}

function fsyncPath(p: string): void {
  const fd = openSync(p, 'r')
  try {
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
}

/** Syncs every file of `dir` and `dir` itself (LevelDB syncs its writes, not the directory entries). */
function syncTree(dir: string): void {
  for (const name of readdirSync(dir)) {
    const file = path.join(dir, name)
    if (statSync(file).isFile()) fsyncPath(file)
  }
  fsyncPath(dir)
}

/** `<dir>.damaged-<UTC>` (with `-2`, `-3`... when taken): a name for a store moved aside. */
export function asideName(dir: string, wallMs: number): string {
  const stamp = new Date(wallMs).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')
  let target = `${dir}.damaged-${stamp}`
  for (let n = 2; existsSync(target); n++) target = `${dir}.damaged-${stamp}-${n}`
  return target
}

/**
 * Moves the damaged store `dir` aside, after recording where to in a new `<dir>.salvaging` (see
 * invariants). Resolves with the moved-aside path; copyIntoStore comes next.
 * @throws when it could not; `dir` is then still the store (a `.salvaging` left is stale).
 */
export function moveAside(dir: string, wallMs: number): string {
  const movedAside = asideName(dir, wallMs)
  const staging = salvaging(dir)
  rmSync(staging, { recursive: true, force: true })
  mkdirSync(staging)
  writeFileSync(path.join(staging, SALVAGE_SOURCE), `${path.basename(movedAside)}\n`)
  syncTree(staging)
  fsyncPath(path.dirname(dir))
  renameSync(dir, movedAside)
  fsyncPath(path.dirname(dir))
  return movedAside
}

/**
 * Copies what is readable from `movedAside` into the (emptied) `<dir>.salvaging`, syncs it and
 * renames it to `dir`: the new store.
 * @throws when the copy could not write the new store or the rename failed: then there is still
 * no `dir`, and resumeInterruptedCopy takes it up again at the next open.
 */
export async function copyIntoStore(dir: string, movedAside: string): Promise<CopyOutcome> {
  const staging = salvaging(dir)
  // A half copy of an interrupted attempt: start afresh, but keep the directory and its source
  // record, so a crash while clearing is still an interrupted copy.
  for (const name of readdirSync(staging)) if (name !== SALVAGE_SOURCE) rmSync(path.join(staging, name), { recursive: true, force: true })
  const copy = await copyInChild(movedAside, staging, snapshot(dir))
  syncTree(staging)
  publish(dir)
  return copy
}

function publish(dir: string): void {
  renameSync(salvaging(dir), dir)
  fsyncPath(path.dirname(dir))
  rmSync(path.join(dir, SALVAGE_SOURCE), { force: true }) // LevelDB ignores it; a leftover is harmless
}

/** The moved-aside directory an interrupted copy read from, if its record is intact and it still exists. */
function sourceOf(dir: string): string | undefined {
  try {
    const name = readFileSync(path.join(salvaging(dir), SALVAGE_SOURCE), 'utf8').trim()
    const source = path.join(path.dirname(dir), name)
    return name.startsWith(`${path.basename(dir)}.damaged-`) && existsSync(source) ? source : undefined
  } catch {
    return undefined
  }
}

/**
 * At open, before anything else touches `dir`: finishes what a crash left of a salvage copy.
 * Resolves with the copy when one was interrupted and has now been redone, else undefined.
 * @throws like copyIntoStore.
 */
export async function resumeInterruptedCopy(dir: string, log: Logger): Promise<SalvageCopy | undefined> {
  const staging = salvaging(dir)
  if (!existsSync(staging)) return undefined
  if (existsSync(dir)) {
    // The crash came before the store was moved aside: `dir` is still the store.
    rmSync(staging, { recursive: true, force: true })
    rmSync(path.join(dir, SALVAGE_SOURCE), { force: true })
    return undefined
  }
  const movedAside = sourceOf(dir)
  if (movedAside === undefined) {
    // Someone deleted the moved-aside store: the half copy is all that is left of it.
    log.error({ code: 'GW_ERR_STORE_CORRUPT', dir }, 'store: a salvage copy was interrupted and the store it copied from is gone; keeping the partial copy')
    publish(dir)
    return undefined
  }
  log.error({ code: 'GW_ERR_STORE_CORRUPT', dir, movedAside }, 'store: a salvage copy was interrupted (crash or power cut); copying again from the moved-aside store (child process)')
  return { movedAside, copy: await copyIntoStore(dir, movedAside) }
}
