/** Small helpers of LevelStore that need no state. */
import { existsSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { GatewayError } from '../core/errors.js'
import type { PreparedEvent } from './append-plan.js'

/** `dir`, or its nearest ancestor that exists (the same filesystem, for statfs before `dir` is created). */
export function existingAncestor(dir: string): string {
  let at = resolve(dir)
  while (!existsSync(at) && dirname(at) !== at) at = dirname(at)
  return at
}

/** Two ascending lists of batch indices as one ascending list (`b` alone when `a` is absent). */
export function mergeIndices(a: readonly number[] | undefined, b: readonly number[]): number[] {
  if (!a || a.length === 0) return [...b]
  const out: number[] = []
  let i = 0
  let j = 0
  while (i < a.length || j < b.length) out.push(j >= b.length || (i < a.length && a[i]! < b[j]!) ? a[i++]! : b[j++]!)
  return out
}

/** Splits events (in order) into runs of at most `maxBytes` each; every event is <= maxBytes. */
export function chunkBySize(events: readonly PreparedEvent[], maxBytes: number): PreparedEvent[][] {
  const chunks: PreparedEvent[][] = []
  let current: PreparedEvent[] = []
  let bytes = 0
  for (const event of events) {
    if (current.length > 0 && bytes + event.sizeBytes > maxBytes) {
      chunks.push(current)
      current = []
      bytes = 0
    }
    current.push(event)
    bytes += event.sizeBytes
  }
  if (current.length > 0) chunks.push(current)
  return chunks
}

function levelCode(err: unknown): string | undefined {
  const e = err as { code?: unknown; cause?: { code?: unknown } } | undefined
  const code = e?.cause?.code ?? e?.code
  return typeof code === 'string' ? code : undefined
}

function levelMessage(err: unknown): string {
  const e = err as { message?: unknown; cause?: { message?: unknown } } | undefined
  const message = e?.cause?.message ?? e?.message
  return typeof message === 'string' ? message : ''
}

/** Another process (a running gateway) holds the store's LOCK. */
export function isLockedError(err: unknown): boolean {
  return levelCode(err) === 'LEVEL_LOCKED'
}

/** Conditions of the machine, not of the data: salvaging would not help and must not move data aside. */
const ENVIRONMENT = /No space left|Permission denied|Operation not permitted|Read-only file system|Too many open files|Cannot allocate memory|Disk quota exceeded/i

/** Another process holds the DB, or the disk/permissions/limits refuse: fix the machine, not the data. */
export function isEnvironmentError(err: unknown): boolean {
  return isLockedError(err) || ENVIRONMENT.test(levelMessage(err))
}

/** The disk (or quota) is full: LevelDB keeps such a write error until reopened (write-recovery.ts). */
export function isOutOfSpace(err: unknown): boolean {
  return /No space left|Disk quota exceeded/i.test(levelMessage(err))
}

/**
 * True when `err` says the data is damaged: LevelDB corruption, a LevelDB I/O error about its own
 * files (e.g. a truncated table), or our GW_ERR_STORE_CORRUPT. Never for environment errors.
 */
export function isDamage(err: unknown): boolean {
  if (err instanceof GatewayError) return err.code === 'GW_ERR_STORE_CORRUPT'
  const code = levelCode(err)
  return (code === 'LEVEL_CORRUPTION' || code === 'LEVEL_IO_ERROR') && !isEnvironmentError(err)
}

/**
 * Maps an open-time failure that salvage did not handle: LevelDB corruption ->
 * GW_ERR_STORE_CORRUPT, any other level error -> GW_ERR_STORE_CLOSED; GatewayErrors pass through.
 * Cause kept.
 */
export function toStoreError(err: unknown, dir: string): Error {
  if (err instanceof GatewayError) return err
  if (levelCode(err) === 'LEVEL_CORRUPTION') {
    return new GatewayError('GW_ERR_STORE_CORRUPT', `store at ${dir} is corrupt`, { cause: err })
  }
  const detail = isLockedError(err) ? ' (another process holds its LOCK)' : ''
  return new GatewayError('GW_ERR_STORE_CLOSED', `store at ${dir} could not be opened${detail}`, { cause: err })
}

/** True when `err` or any error in its `cause` chain says the disk (or quota) is full (e.g. "Database failed to open" caused by ENOSPC). */
export function causedByOutOfSpace(err: unknown): boolean {
  let at: unknown = err
  for (let depth = 0; depth < 5 && at !== undefined && at !== null; depth++) {
    if (isOutOfSpace(at)) return true
    at = (at as { cause?: unknown }).cause
  }
  return false
}
