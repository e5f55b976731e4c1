/**
 * What LevelDB itself takes on disk beyond the data it holds, for the free-space guard
 * (disk-space-guard.ts): its write buffer, the most one compaction rewrites, and the bytes in its
 * directory now. Pure sizing; no state.
 */
import { readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'

/** LevelDB's write buffer on a filesystem with room: what the store always opened with. */
const MAX_WRITE_BUFFER_BYTES = 2 * 1024 * 1024
/** LevelDB's limit on one compaction's inputs: 25 times its 2 MiB table size (expanded_compaction_byte_size_limit). */
export const MAX_COMPACTION_BYTES = 25 * 2 * 1024 * 1024
const MIN_WRITE_BUFFER_BYTES = 64 * 1024
const WRITE_BUFFER_FS_DIVISOR = 32

/**
 * The write buffer (memtable) LevelDB may fill before it writes it out as a table: at most
 * 1/32 of the filesystem, so the log of a full memtable plus the table it is flushed to plus a
 * compaction of such tables stay a small part of a small filesystem's reserve.
 */
export function levelDbWriteBufferBytes(filesystemBytes: number): number {
  return Math.max(MIN_WRITE_BUFFER_BYTES, Math.min(MAX_WRITE_BUFFER_BYTES, Math.floor(filesystemBytes / WRITE_BUFFER_FS_DIVISOR)))
}

/** Sum of the sizes of the files in `dir` (LevelDB keeps no subdirectories); 0 when it does not exist. */
export async function directoryBytes(dir: string): Promise<number> {
  let names: string[]
  try {
    names = await readdir(dir)
  } catch {
    return 0
  }
  // A file deleted meanwhile (a compaction finished) counts 0: it no longer takes space.
  const sizes = await Promise.all(names.map((name) => stat(join(dir, name)).then((st) => st.size, () => 0)))
  return sizes.reduce((a, b) => a + b, 0)
}
