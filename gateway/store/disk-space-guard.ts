/**
 * Free-space guard: "the filesystem would fall below a reserve" counts as a full store, so
 * `whenFull` applies BEFORE LevelDB meets ENOSPC. That matters because LevelDB turns a failed
 * flush or compaction into a sticky error: every later write, acks included, fails until the DB
 * is reopened, so a queue that hit ENOSPC could never drain by itself (see write-recovery.ts).
 *
 * Invariants
 * - No syscall per append: free space is sampled with statfs at most every `intervalMs` (the
 *   store's directory is listed with it; while there is room a large store only every 30 s, see
 *   store-size-sampler.ts); between
 *   samples the bytes the store wrote are subtracted from the sample. That overestimates what
 *   LevelDB used (its log holds values uncompressed, its tables are compressed), so the estimate
 *   errs only towards "fuller". When the estimate reaches the reserve, a fresh sample is taken
 *   (at most every `minIntervalMs`) before anything is refused.
 * - Three levels, from the estimated free bytes:
 *     room      free >= minFreeBytes: appends may grow the store by `free - minFreeBytes`
 *     full      free in [3/4 minFreeBytes, minFreeBytes): appends must make room first (whenFull),
 *               and no append writes more than the free space above 3/4 of the reserve
 *     critical  free < 3/4 minFreeBytes: nothing new is stored, not even by evicting (an eviction
 *               is a write too: tombstones, until compaction reclaims the space)
 *   The reserve is what acks (deletes), compaction, counters and store-time saves still need. A
 *   LevelDB compaction writes its output before it deletes its inputs, so it needs free space of
 *   the order of the data it compacts: hence most of the reserve is never written by appends.
 * - The reserve grows with the store (`levelDbNeed`): critical starts where free space would no
 *   longer hold everything in the store's directory once more (a compaction rewrites all tables:
 *   each batch's meta keys make every table overlap all others) plus one write buffer; capped at
 *   what one LevelDB compaction may take in. A fixed reserve (half a 4 MiB filesystem) let the
 *   store grow until such a rewrite met ENOSPC (the chaos ENOSPC case at 8,000 readings/s).
 *   Written bytes count twice between samples: they use free space and raise the need.
 * - On a small filesystem the store opens LevelDB with a write buffer of 1/32 of it
 *   (`levelDbWriteBufferBytes`, at most 8 MiB), so the log of a full memtable and its flush stay
 *   small next to the filesystem. (A small write buffer alone made things worse: tables get
 *   compacted more often, and each L0 compaction rewrites the whole store.)
 * - While not `room`, or while an append did not fit the headroom (`noteShortfall`), a timer
 *   samples every `intervalMs` and calls `onRoom` when the level went up or the headroom grew, so
 *   blocked appends retry (nothing else would wake them: the store may hold nothing to delete). It also has LevelDB reclaim space (`reclaim`: flush the memtable, so
 *   the uncompressed log is deleted, and compact what was deleted, which frees disk only once
 *   compacted): at most every RECLAIM_MIN_TICKS ticks after deletions (a compaction needs space
 *   itself), and every RECLAIM_RETRY_TICKS ticks otherwise, so a store with nothing left to delete
 *   cannot stay short of space because LevelDB has no reason to compact (a blocked append would
 *   wait forever).
 * - The reclaim compacts only when a fresh sample has room for three copies of the store's live
 *   data plus a write buffer (`compactionFits`), else it only flushes. Its compactRange compacts
 *   level by level down to the deepest level holding the range (a store's first table sits at
 *   level 2): all live data twice back to back, and an iterator open when the first pass ends (an
 *   eviction scan, a read) keeps that pass's inputs on disk. The usual need covers one rewrite: at
 *   8,000 readings/s on 4 MiB the second pass met ENOSPC with three 1.5 MiB copies on disk. Live
 *   data, not the directory's size: a store whose entries were all deleted is the one to compact.
 * - A statfs that fails (unsupported filesystem) disables the guard with one warning: an unknown
 *   amount of free space is never a reason to refuse data.
 * - The store's emergency reserve file (reserve-file.ts) lies beside the store's directory, so it
 *   is not counted as the store's bytes (LevelDB never rewrites it); it is not free space either:
 *   the guard's levels are about the space left beside it. When LevelDB runs out of disk anyway,
 *   write-recovery.ts deletes it; the store makes it again once it has room for it above the reserve.
 */
import { statfs as statfsAsync } from 'node:fs/promises'
import type { Logger } from '../core/observability.js'
import { MAX_COMPACTION_BYTES, directoryBytes, levelDbWriteBufferBytes } from './leveldb-footprint.js'
import { StoreSizeSampler } from './store-size-sampler.js'

export type DiskLevel = 'room' | 'full' | 'critical'

/** What the guard needs from statfs(2): free blocks for unprivileged users, block size, total blocks. */
export interface FsSpace {
  bavail: number
  bsize: number
  blocks: number
}

export type StatFs = (dir: string) => Promise<FsSpace>

export interface DiskSpaceOptions {
  dir: string
  /**
   * Reserve kept free on the filesystem. undefined = the default: min(64 MiB, half the
   * filesystem). LevelDB may need as much free space as the data it compacts (its tables are
   * rewritten before the old ones are deleted), so on a small filesystem half is what is safe.
   */
  minFreeBytes: number | undefined
  log: Logger
  /** @default fs.promises.statfs */
  statfs?: StatFs
  /** Bytes of the store's files (LevelDB's tables and logs); 0 when the directory does not exist yet. @default sum of the sizes of the files in `dir` */
  storeBytes?: (dir: string) => Promise<number>
  /** Sample period while there is room, and the retry period while full. @default 1000 */
  intervalMs?: number
  /** Shortest time between two samples. @default 100 */
  minIntervalMs?: number
  /** Monotonic ms clock. @default performance.now */
  now?: () => number
  /** Rate limit of the level-change log lines. @default 10000 */
  logIntervalMs?: number
}


/** The default reserve: room for LevelDB's compactions (at most ~50 MiB each) on a real device... */
export const DEFAULT_MAX_RESERVE_BYTES = 64 * 1024 * 1024
/** ...and on a small filesystem half of it: a compaction may rewrite all the data before deleting the old tables. */
const DEFAULT_RESERVE_FRACTION = 0.5

export interface DiskRoom {
  level: DiskLevel
  /** Bytes the store may still grow by before free space reaches the reserve (0 when full). */
  headroomBytes: number
  /**
   * Bytes one append may write at most, evictions or not: free space down to 3/4 of the reserve.
   * Without this cap a big append that evicts as much as it adds could still write past it (the
   * evicted bytes come back only after a compaction).
   */
  writableBytes: number
}

export class DiskSpaceGuard {
  private readonly statfs: StatFs
  private readonly intervalMs: number
  private readonly minIntervalMs: number
  private readonly now: () => number
  private readonly logIntervalMs: number
  private reserveBytes = 0
  private reserveFixed = false
  private filesystemBytes = Infinity
  private sampledStoreBytes = 0
  private readonly storeSize: StoreSizeSampler
  private disabled = false
  private sampledFree = Infinity
  private sampledAtMs = -Infinity
  private writtenSinceSample = 0
  private sampling: Promise<void> | undefined
  private reportedLevel: DiskLevel = 'room'
  private lastLogMs = -Infinity
  private timer: NodeJS.Timeout | undefined
  private ticking = false
  private stopped = false
  private deletedSinceReclaim = false
  /** Bytes an append wanted and the headroom did not have (0: none waiting). */
  private wantedBytes = 0
  private lastHeadroom = 0
  private ticksSinceReclaim = 0
  /**
   * Called by the timer to have LevelDB give back disk space; set by the store. It flushes the
   * memtable, then asks `compactionFits` with the bytes of the data it still holds (what compacting
   * writes at most) and compacts what was deleted only when told yes.
   */
  reclaim: (compactionFits: (liveBytes: number) => Promise<boolean>) => Promise<void> = async () => undefined
  /** Called when the level went up (room freed): wakes blocked appends. */
  onRoom: () => void = () => undefined

  constructor(private readonly opts: DiskSpaceOptions) {
    this.statfs = opts.statfs ?? ((dir) => statfsAsync(dir))
    this.intervalMs = opts.intervalMs ?? 1000
    this.minIntervalMs = opts.minIntervalMs ?? 100
    this.now = opts.now ?? (() => performance.now())
    this.logIntervalMs = opts.logIntervalMs ?? 10_000
    this.storeSize = new StoreSizeSampler(opts.dir, opts.storeBytes ?? directoryBytes, this.now)
  }

  /**
   * First sample; fixes the default reserve from the filesystem's size. `probeDir` (default the
   * store's directory) is where statfs looks: before LevelDB has created the directory, an
   * existing ancestor on the same filesystem.
   */
  async start(probeDir = this.opts.dir): Promise<void> {
    await this.sample(probeDir)
  }

  /**
   * The LevelDB write buffer (memtable) size the store opens with: `levelDbWriteBufferBytes` of
   * the filesystem's size, or LevelDB's usual size when statfs does not work. Valid after start().
   */
  writeBufferBytes(): number {
    return levelDbWriteBufferBytes(this.disabled ? Infinity : this.filesystemBytes)
  }

  /** The filesystem's size in bytes, or undefined while unknown (before start(), or statfs does not work). */
  get filesystemSize(): number | undefined {
    return this.disabled || !Number.isFinite(this.filesystemBytes) ? undefined : this.filesystemBytes
  }

  /**
   * The store wrote a file that is not LevelDB's (its emergency reserve, reserve-file.ts): it takes
   * free space until the next sample, but is not data a compaction rewrites (no `levelDbNeed`).
   */
  noteOtherFileWritten(bytes: number): void {
    this.sampledFree -= bytes
  }

  /** For good (store close): no timer runs after this. */
  stop(): void {
    this.stopped = true
    this.stopTimer()
  }

  private stopTimer(): void {
    clearInterval(this.timer)
    this.timer = undefined
  }

  /** Free bytes as estimated now (sample minus what was written since). */
  estimatedFreeBytes(): number {
    return this.sampledFree - this.writtenSinceSample
  }

  /** The level for an append, sampling first when the last sample is stale. */
  async room(): Promise<DiskRoom> {
    if (this.disabled) return { level: 'room', headroomBytes: Infinity, writableBytes: Infinity }
    const age = this.now() - this.sampledAtMs
    if (age >= this.intervalMs || (this.levelOf(this.estimatedFreeBytes()) !== 'room' && age >= this.minIntervalMs)) await this.sample()
    const free = this.estimatedFreeBytes()
    const level = this.levelOf(free)
    this.report(level, free)
    return { level, headroomBytes: level === 'room' ? this.headroom(free) : 0, writableBytes: this.writable(free) }
  }

  /**
   * The level from a fresh sample, not the estimate: for rare decisions that must not rest on a
   * stale one (making the emergency reserve right after LevelDB ran out of disk).
   */
  async roomNow(): Promise<DiskRoom> {
    if (!this.disabled) await this.sample(this.opts.dir, true)
    return this.room()
  }

  /** The store wrote about this many bytes (counted against the estimate until the next sample). */
  noteWritten(bytes: number): void {
    this.writtenSinceSample += bytes
  }

  /** An append did not fit the headroom (it needed `bytes`): watch for room until it would. */
  noteShortfall(bytes: number): void {
    if (this.disabled) return
    this.wantedBytes = Math.max(this.wantedBytes, bytes)
    this.startTimer()
  }

  /** Whether the timer runs (short of space, or an append waits for headroom). */
  get watching(): boolean {
    return this.timer !== undefined
  }

  /** The store deleted entries: when short of space, the timer has them compacted. */
  noteDeleted(): void {
    this.deletedSinceReclaim = true
  }

  /**
   * Free space LevelDB may still take by itself for what the store holds now: a compaction
   * writes its output before deleting its inputs, and every batch writes the store's meta keys
   * (fronts, counters, cursors) next to its entries, so each new table overlaps all older ones and
   * an L0 compaction rewrites all of them; a memtable flush writes the log's data again as a table.
   * So everything in the store's directory may be written once more before the old copy is
   * deleted (on a large store at most what one compaction may take in, MAX_COMPACTION_BYTES),
   * plus up to one write buffer (a flush during a compaction, table overheads). Bytes
   * written since the sample count twice: once against free space, once here. 0 with the guard
   * off (minFreeBytes 0).
   */
  private levelDbNeed(): number {
    if (this.reserveBytes === 0) return 0
    return Math.min(this.sampledStoreBytes + this.writtenSinceSample, MAX_COMPACTION_BYTES) + this.writeBufferBytes()
  }

  /** The reserve in effect: the configured one, or more when LevelDB's own need (above) is larger, so critical starts where it would no longer fit. */
  private reserve(): number {
    return Math.max(this.reserveBytes, this.levelDbNeed() / CRITICAL_FRACTION)
  }

  private levelOf(free: number): DiskLevel {
    if (free >= this.reserve()) return 'room'
    return free >= this.criticalBelow() ? 'full' : 'critical'
  }

  private criticalBelow(): number {
    return this.reserve() * CRITICAL_FRACTION
  }

  /** Most bytes the store may grow by and still be at `room`: each byte written lowers free space and raises LevelDB's need. */
  private headroom(free: number): number {
    const need = this.levelDbNeed()
    const base = free - this.reserveBytes
    return Math.max(0, need === 0 ? base : Math.min(base, (free - need / CRITICAL_FRACTION) / (1 + 1 / CRITICAL_FRACTION)))
  }

  /** Most bytes one append may write and stay above critical (see headroom). */
  private writable(free: number): number {
    const need = this.levelDbNeed()
    const base = free - this.reserveBytes * CRITICAL_FRACTION
    return Math.max(0, need === 0 ? base : Math.min(base, (free - need) / 2))
  }

  /**
   * Whether the reclaim may compact a store holding `liveBytes` of data, from a fresh sample (the
   * reclaim's flush just deleted a log). Its compactRange may write all live data twice while the
   * first copy's inputs stay on disk (see the design block), and appends meanwhile are only held
   * to the usual need, one rewrite more: three copies of the live data (at most the store's bytes,
   * capped like levelDbNeed) plus a write buffer must fit in the free space.
   */
  private async compactionFits(liveBytes: number): Promise<boolean> {
    await this.sample(this.opts.dir, true)
    if (this.disabled) return true
    const rewrite = Math.min(liveBytes, this.sampledStoreBytes + this.writtenSinceSample, MAX_COMPACTION_BYTES)
    return this.estimatedFreeBytes() >= 3 * rewrite + this.writeBufferBytes()
  }

  private sample(dir = this.opts.dir, fresh = false): Promise<void> {
    // The last listing may stand in only while there is room (store-size-sampler.ts).
    this.sampling ??= Promise.all([this.statfs(dir), this.storeSize.bytes(!fresh && this.reportedLevel === 'room')])
      .then(([s, storeBytes]) => {
        this.sampledStoreBytes = storeBytes
        if (!this.reserveFixed) {
          this.reserveFixed = true
          const total = s.blocks * s.bsize
          this.filesystemBytes = total
          this.reserveBytes = this.opts.minFreeBytes ?? Math.min(DEFAULT_MAX_RESERVE_BYTES, Math.floor(total * DEFAULT_RESERVE_FRACTION))
          this.opts.log.info({ minFreeBytes: this.reserveBytes, filesystemBytes: total, freeBytes: s.bavail * s.bsize }, 'store free-space reserve')
        }
        this.sampledFree = s.bavail * s.bsize
        this.sampledAtMs = this.now()
        this.writtenSinceSample = 0
      })
      .catch((err: unknown) => {
        if (!this.disabled) this.opts.log.warn({ err, dir: this.opts.dir }, 'store cannot read free disk space (statfs); free-space guard disabled')
        this.disabled = true
      })
      .finally(() => (this.sampling = undefined))
    return this.sampling
  }

  /** Logs level changes (rate-limited) and runs the timer while short of space. */
  private report(level: DiskLevel, free: number): void {
    if (level !== 'room') this.startTimer()
    if (level === this.reportedLevel) return
    const previous = this.reportedLevel
    this.reportedLevel = level
    const nowMs = this.now()
    const worse = LEVEL_RANK[level] > LEVEL_RANK[previous]
    if (worse || level === 'room') {
      if (nowMs - this.lastLogMs >= this.logIntervalMs || level === 'critical') {
        this.lastLogMs = nowMs
        const fields = { code: level === 'room' ? undefined : 'GW_ERR_STORE_FULL', level, previous, freeBytes: Math.max(0, Math.round(free)), minFreeBytes: Math.round(this.reserve()), dir: this.opts.dir }
        const msg = level === 'room'
          ? 'store: free disk space is back above the reserve; appending normally'
          : level === 'full'
            ? 'store: free disk space below the reserve (store.minFreeBytes); the store counts as full and whenFull applies'
            : 'store: free disk space below 3/4 of the reserve; new readings are refused (or wait, whenFull=block) until space is freed'
        if (level === 'room') this.opts.log.info(fields, msg)
        else this.opts.log.warn(fields, msg)
      }
    }
    if (LEVEL_RANK[level] < LEVEL_RANK[previous]) this.onRoom()
  }

  private startTimer(): void {
    if (this.timer || this.stopped) return
    this.timer = setInterval(() => void this.tick(), this.intervalMs)
    this.timer.unref()
  }

  /** While short of space: compact what was deleted, resample, wake appends when it improved. */
  private async tick(): Promise<void> {
    if (this.ticking) return
    this.ticking = true
    try {
      this.ticksSinceReclaim++
      if ((this.deletedSinceReclaim && this.ticksSinceReclaim >= RECLAIM_MIN_TICKS) || this.ticksSinceReclaim >= RECLAIM_RETRY_TICKS) {
        this.deletedSinceReclaim = false
        this.ticksSinceReclaim = 0
        await this.reclaim((liveBytes) => this.compactionFits(liveBytes)).catch((err: unknown) => this.opts.log.warn({ err }, 'store could not compact to free disk space'))
      }
      await this.sample(this.opts.dir, true) // the store's size too: a compaction may just have shrunk it
      if (this.disabled) {
        // statfs stopped working: the guard refuses nothing from now on, so nothing is left to watch.
        this.wantedBytes = 0
        this.stopTimer()
        this.onRoom()
        return
      }
      const free = this.estimatedFreeBytes()
      const level = this.levelOf(free)
      const headroom = level === 'room' ? this.headroom(free) : 0
      this.report(level, free)
      // Wake a waiting append when the headroom grew, and also whenever it now covers what the
      // append wanted: the headroom may have shrunk since an earlier, larger sample (acks write
      // too), and waking only on growth lost that wake-up (an append then waited forever).
      if (this.wantedBytes > 0 && (headroom > this.lastHeadroom || headroom >= this.wantedBytes)) this.onRoom()
      this.lastHeadroom = headroom
      if (headroom >= this.wantedBytes) this.wantedBytes = 0
      if (level === 'room' && this.wantedBytes === 0) this.stopTimer()
    } finally {
      this.ticking = false
    }
  }
}

/** Ticks between two reclaims after deletions, and without any (a reclaim rewrites tables: not every second). */
const RECLAIM_MIN_TICKS = 3
const RECLAIM_RETRY_TICKS = 10

/** Below this fraction of the reserve nothing new is stored; the rest is LevelDB's own. */
const CRITICAL_FRACTION = 0.75

const LEVEL_RANK: Record<DiskLevel, number> = { room: 0, full: 1, critical: 2 }
