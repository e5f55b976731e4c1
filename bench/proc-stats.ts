/**
 * Figures of ANOTHER process (or this one, pid 'self') read from Linux /proc, for the soak and the
 * performance report: resident memory, open file descriptors, bytes written, CPU time, and the
 * disk usage of a directory. Linux only; every reader throws when the process is gone.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs'
import path from 'node:path'

export type Pid = number | 'self'

function statusKb(pid: Pid, field: string): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const m = new RegExp(`^${field}:\\s+(\\d+)\\s+kB$`, 'm').exec(status)
  if (!m) throw new Error(`/proc/${pid}/status has no ${field} line`)
  return Number(m[1])
}

/** VmRSS from /proc/PID/status, MiB. */
export function rssMb(pid: Pid): number {
  return statusKb(pid, 'VmRSS') / 1024
}

/**
 * Peak RSS of this process image, MiB: VmHWM from /proc/PID/status. Use it, not
 * `process.resourceUsage().maxRSS`, in a spawned child: ru_maxrss survives fork + exec, so a
 * child of a 300 MB parent reports >= 300 MB whatever it used itself (libuv forks, then execs).
 */
export function peakRssMb(pid: Pid): number {
  return statusKb(pid, 'VmHWM') / 1024
}

/** Entries of /proc/PID/fd: open file descriptors (files, sockets, pipes, epoll, eventfd). */
export function openFds(pid: Pid): number {
  return readdirSync(`/proc/${pid}/fd`).length
}

/** The byte counters of /proc/PID/io (man 5 proc). */
export interface ProcIo {
  /** Bytes passed to write(2) and friends, whether or not they reached a disk. */
  wchar: number
  /** Bytes this process caused to be sent to the block layer (page cache dirtied by it). */
  writeBytes: number
  /** Dirty bytes it truncated or deleted before writeback (never reached the disk). */
  cancelledWriteBytes: number
}

export function procIo(pid: Pid): ProcIo {
  const text = readFileSync(`/proc/${pid}/io`, 'utf8')
  const field = (name: string): number => {
    const m = new RegExp(`^${name}:\\s+(\\d+)$`, 'm').exec(text)
    if (!m) throw new Error(`/proc/${pid}/io has no ${name} line`)
    return Number(m[1])
  }
  return { wchar: field('wchar'), writeBytes: field('write_bytes'), cancelledWriteBytes: field('cancelled_write_bytes') }
}

/** Difference b - a of two /proc/PID/io readings. */
export function ioDelta(a: ProcIo, b: ProcIo): ProcIo {
  return { wchar: b.wchar - a.wchar, writeBytes: b.writeBytes - a.writeBytes, cancelledWriteBytes: b.cancelledWriteBytes - a.cancelledWriteBytes }
}

/**
 * Disk space used by `dir` and everything below it, bytes: allocated blocks, like `du -sB1`.
 * Files that vanish during the walk (LevelDB deletes compacted tables and old logs) are skipped.
 */
export function diskUsageBytes(dir: string): number {
  let total = 0
  let names: string[]
  try {
    total += statSync(dir).blocks * 512
    names = readdirSync(dir)
  } catch {
    return total
  }
  for (const name of names) {
    const file = path.join(dir, name)
    try {
      const st = statSync(file)
      total += st.isDirectory() ? diskUsageBytes(file) : st.blocks * 512
    } catch {
      // deleted while we walked
    }
  }
  return total
}
