/**
 * What LevelDB itself takes on disk beyond the data it holds, for the free-space guard
 * (disk-space-guard.ts): its write buffer, the most one compaction rewrites, and the bytes in its
 * directory now. Pure sizing; no state.
 */
import { readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'

/**
 * LevelDB's write buffer on a filesystem with room (256 MiB and up). 8 MiB, not 2: since store key
 * layout 2 every table's key range starts at the meta keys, before every entry, so a level-0
 * compaction rewrites all of level 1; a larger buffer makes those compactions a quarter as often.
 * Appending 1,000,000 events with nothing acked (a gateway offline): 841 bytes written per event
 * and 15.0 µs of CPU with 8 MiB, 1,209 and 21.5 with 2 MiB (layout 1 with 2 MiB: 846 and 16.1).
 * Costs up to ~6 MiB more RSS (the memtable fills before it is written out).
 */
const MAX_WRITE_BUFFER_BYTES = 8 * 1024 * 1024
/** LevelDB's limit on one compaction's inputs: 25 times its 2 MiB table size (expanded_compaction_byte_size_limit). */
export const MAX_COMPACTION_BYTES = 25 * 2 * 1024 * 1024
const MIN_WRITE_BUFFER_BYTES = 64 * 1024
const WRITE_BUFFER_FS_DIVISOR = 32

/**
 * The write buffer (memtable) LevelDB may fill before it writes it out as a table: at most
 * 1/32 of the filesystem (64 KiB to 8 MiB), so the log of a full memtable plus the table it is flushed to plus a
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
