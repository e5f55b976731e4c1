/**
 * The store's emergency disk reserve ("ballast"): a file of real bytes that nothing but the
 * store's recovery deletes, so that when LevelDB has run out of disk and nobody else frees any,
 * deleting it gives LevelDB the room to reopen (it writes its log into a table and a new
 * manifest before it deletes anything) and to write the acks and deletes that free the rest.
 *
 * Invariants
 * - It is never LevelDB's file and never in LevelDB's directory: it lives beside it
 *   (`<dir>.reserve`), so LevelDB, a repair and a salvage (which rename, hard-link and copy that
 *   directory, salvage.ts) never see it, and the free-space guard's count of the store's bytes
 *   (disk-space-guard.ts, `levelDbNeed`) does not include it. To the guard it is like any other
 *   file: it is not free space, so the store's capacity is what is left beside it.
 * - Size `reserveFileBytes`: min(8 MiB, 1/32 of the filesystem), 0 (no reserve) when the
 *   filesystem's size is unknown (statfs does not work there) or under 64 MiB. On a filesystem
 *   that small, running out of disk is most likely the store's own whole-store compaction, which
 *   a reserve of 1/32 cannot carry (write-recovery.ts), while that 1/32 is taken from the store's
 *   room for good. The store's `emergencyReserveBytes` option sets the size explicitly (0: none).
 * - Really allocated: random bytes (a filesystem that compresses or deduplicates cannot store
 *   them in less), fsynced, in a `.tmp` file renamed to its name only when complete; so a crash
 *   or ENOSPC while creating it never leaves a short file taken for a whole reserve. A leftover
 *   `.tmp` or a file of another size (the filesystem was resized) is deleted and made again.
 * - `present` is true only while a whole reserve is on disk; `release()` deletes it and
 *   returns the bytes it freed (0 when there was none), `create()` makes it when asked (the
 *   store asks only when the free-space guard has room for it, store-core.ts).
 */
import { randomBytes } from 'node:crypto'
import { open, rename, rm, stat } from 'node:fs/promises'
import { resolve } from 'node:path'
import type { Logger } from '../core/observability.js'

export const MAX_RESERVE_FILE_BYTES = 8 * 1024 * 1024
const RESERVE_FS_DIVISOR = 32
/** Below this filesystem size there is no reserve by default (see the invariants). */
export const MIN_RESERVE_FILESYSTEM_BYTES = 64 * 1024 * 1024
/** Written per step, so a close can stop a creation between steps. */
const CHUNK_BYTES = 256 * 1024

/** The reserve for a filesystem of this size: min(8 MiB, 1/32 of it), in whole 4 KiB blocks; 0 when unknown or under 64 MiB. */
export function reserveFileBytes(filesystemBytes: number | undefined): number {
  if (filesystemBytes === undefined || !Number.isFinite(filesystemBytes) || filesystemBytes < MIN_RESERVE_FILESYSTEM_BYTES) return 0
  const bytes = Math.min(MAX_RESERVE_FILE_BYTES, Math.floor(filesystemBytes / RESERVE_FS_DIVISOR))
  return Math.floor(bytes / 4096) * 4096
}

/** Where the reserve of the store in `dir` lives: beside it, never inside. */
export function reserveFilePath(dir: string): string {
  return `${resolve(dir)}.reserve`
}

export class ReserveFile {
  private whole = false

  constructor(readonly path: string, readonly bytes: number, private readonly log: Logger) {}

  /** Whether a whole reserve is on disk now. */
  get present(): boolean {
    return this.whole
  }

  /** At open: takes a whole reserve left by an earlier run; removes a partial one. */
  async load(): Promise<void> {
    await rm(`${this.path}.tmp`, { force: true })
    const size = await stat(this.path).then((st) => st.size, () => undefined)
    this.whole = this.bytes > 0 && size === this.bytes
    if (size !== undefined && !this.whole) await rm(this.path, { force: true })
  }

  /**
   * Writes the reserve (fsynced) unless it is there already; `stop()` is asked between chunks
   * (store closing). Never throws: a failure (ENOSPC meanwhile) is logged, the partial file removed.
   */
  async create(stop: () => boolean): Promise<boolean> {
    if (this.whole || this.bytes === 0) return this.whole
    const tmp = `${this.path}.tmp`
    let complete = false
    try {
      const file = await open(tmp, 'w')
      try {
        // write(2) may write less than asked on a nearly full disk: count what it wrote.
        for (let written = 0; written < this.bytes && !stop(); ) {
          const { bytesWritten } = await file.write(randomBytes(Math.min(CHUNK_BYTES, this.bytes - written)))
          if (bytesWritten === 0) throw new Error('wrote 0 bytes (no space left)')
          written += bytesWritten
        }
        if (!stop()) {
          await file.sync()
          complete = true
        }
      } finally {
        await file.close()
      }
      if (complete) {
        await rename(tmp, this.path)
        this.whole = true
      }
    } catch (err) {
      this.log.warn({ err, path: this.path, bytes: this.bytes }, 'store could not create its emergency disk reserve; tried again later')
    } finally {
      if (!this.whole) await rm(tmp, { force: true }).catch(() => undefined)
    }
    return this.whole
  }

  /** Deletes the reserve; resolves with the bytes that freed (0 when there was none). */
  async release(): Promise<number> {
    if (!this.whole) return 0
    this.whole = false
    await rm(this.path, { force: true })
    return this.bytes
  }
}

/** Whether a file name beside the store is its reserve (or one being made): for listings that check what else is there. */
export function isReserveFile(name: string): boolean {
  return /\.reserve(\.tmp)?$/.test(name)
}
