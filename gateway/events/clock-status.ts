/**
 * ClockStatus: is the wall clock trustworthy right now? Cheap enough to ask for every event.
 *
 * A Raspberry Pi has no RTC: it boots at 1970 or at the time fake-hwclock saved at the last
 * shutdown, and the clock steps once NTP syncs. `timedatectl show -p NTPSynchronized` answers
 * exactly, but spawns a process; this checks files instead and caches the answer for `cacheMs`:
 *
 *   1. /run/systemd/timesync/synchronized exists  -> synced (timesyncd touches it on every sync;
 *      it means "synced at least once since boot", which is what matters: the step happened).
 *   2. the wall clock is before `notBeforeMs` (this code did not exist yet) -> unsynced.
 *   3. /run/systemd/timesync exists without that file -> unsynced: timesyncd runs on this boot
 *      and has not synced yet. This is the usual Pi case (fake-hwclock restored a plausible but
 *      stale time); rule 2 alone would miss it. `trustTimesyncd: false` turns it off.
 *   4. anything else (no timesyncd: chrony, ntpd, an RTC, a container) -> unknown, treated as synced.
 *
 * It also provides what an unsynced reading is recorded with: the boot id
 * (/proc/sys/kernel/random/boot_id, else random per process) and the monotonic clock. On Linux
 * `process.hrtime` is CLOCK_MONOTONIC, counted from boot and shared by every process of that boot,
 * so (bootId, monotonicMs) stays meaningful across gateway restarts until the next reboot.
 */
import { randomUUID } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'

/** Wall clock times before this are certainly wrong: this code was written in 2026. */
export const DEFAULT_NOT_BEFORE_MS = Date.UTC(2026, 0, 1)

export const TIMESYNC_DIR = '/run/systemd/timesync'
export const TIMESYNC_FLAG = `${TIMESYNC_DIR}/synchronized`
export const BOOT_ID_FILE = '/proc/sys/kernel/random/boot_id'

/** The system calls ClockStatus makes; inject a fake in tests. */
export interface ClockProbe {
  /** Wall clock, ms since epoch. */
  wallMs(): number
  /** Monotonic clock, ms (since boot on Linux). */
  monotonicMs(): number
  exists(path: string): boolean
  /** A small file's text, or undefined when it cannot be read. */
  readText(path: string): string | undefined
}

export const systemProbe: ClockProbe = {
  wallMs: () => Date.now(),
  monotonicMs: () => Number(process.hrtime.bigint()) / 1e6,
  exists: (path) => existsSync(path),
  readText: (path) => {
    try {
      return readFileSync(path, 'utf8')
    } catch {
      return undefined
    }
  },
}

/** One consistent look at the clocks. */
export interface ClockReading {
  synced: boolean
  wallMs: number
  monotonicMs: number
  bootId: string
}

export interface ClockStatusOptions {
  /** @default systemProbe */
  probe?: ClockProbe
  /** @default DEFAULT_NOT_BEFORE_MS */
  notBeforeMs?: number
  /** How long an answer is reused, ms of monotonic time. @default 5000 */
  cacheMs?: number
  /** Rule 3 above. @default true */
  trustTimesyncd?: boolean
}

export class ClockStatus {
  readonly bootId: string
  private readonly probe: ClockProbe
  private readonly notBeforeMs: number
  private readonly cacheMs: number
  private readonly trustTimesyncd: boolean
  private checkedAt = -Infinity
  private synced = true

  constructor(opts: ClockStatusOptions = {}) {
    this.probe = opts.probe ?? systemProbe
    this.notBeforeMs = opts.notBeforeMs ?? DEFAULT_NOT_BEFORE_MS
    this.cacheMs = opts.cacheMs ?? 5_000
    this.trustTimesyncd = opts.trustTimesyncd ?? true
    const bootId = this.probe.readText(BOOT_ID_FILE)?.trim()
    this.bootId = bootId && /^[0-9a-f-]{8,64}$/i.test(bootId) ? bootId.toLowerCase() : randomUUID()
  }

  /** True unless the wall clock is known not to be synchronized (see the rules above). Cached. */
  isSynced(): boolean {
    const mono = this.probe.monotonicMs()
    if (mono - this.checkedAt < this.cacheMs && mono >= this.checkedAt) return this.synced
    this.checkedAt = mono
    this.synced = this.check()
    return this.synced
  }

  now(): ClockReading {
    return { synced: this.isSynced(), wallMs: this.probe.wallMs(), monotonicMs: this.probe.monotonicMs(), bootId: this.bootId }
  }

  private check(): boolean {
    if (this.probe.exists(TIMESYNC_FLAG)) return true
    if (this.probe.wallMs() < this.notBeforeMs) return false
    if (this.trustTimesyncd && this.probe.exists(TIMESYNC_DIR)) return false
    return true
  }
}

let shared: ClockStatus | undefined

/** The process-wide ClockStatus: the builder and the forwarder must share one (same boot id). */
export function systemClockStatus(): ClockStatus {
  return (shared ??= new ClockStatus())
}
