/**
 * The narrow seam between SerialDriver and the operating system: create a port object, and tell
 * whether the device node is (still) there. The default uses serialport's native binding and the
 * file system; tests pass `SerialPortMock` (binding-mock) so the real driver code runs on a fake
 * at the lowest layer.
 */
import { lstat, stat } from 'node:fs/promises'
import { SerialPort } from 'serialport'

/** The part of serialport's SerialPortStream the driver uses. */
export interface SerialPortLike {
  readonly isOpen: boolean
  open(callback: (err: Error | null) => void): void
  close(callback?: (err: Error | null) => void): void
  pause(): unknown
  resume(): unknown
  isPaused(): boolean
  on(event: string, listener: (...args: any[]) => void): unknown
  removeListener(event: string, listener: (...args: any[]) => void): unknown
}

export interface CreatePortOptions {
  path: string
  baudRate: number
  /** Readable buffer of the stream, bytes: what serialport keeps reading into while paused. */
  highWaterMark: number
}

export interface SerialPortAccess {
  /** A port object for `path`, NOT yet opened (autoOpen false). Throws TypeError for bad options. */
  create(options: CreatePortOptions): SerialPortLike
  /**
   * An identity of the device node at `path` that changes when the device is replugged, or null
   * when the path does not exist. Rejects for other file-system errors (e.g. EACCES on a parent).
   */
  identify(path: string): Promise<string | null>
}

function isMissing(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code
  return code === 'ENOENT' || code === 'ENOTDIR'
}

/** serialport's native binding + fs. */
export const nativePortAccess: SerialPortAccess = {
  create: (options) => new SerialPort({ ...options, autoOpen: false }),
  async identify(path) {
    try {
      // lstat: a /dev/serial/by-id link or socat's link is recreated on replug (new inode);
      // stat: the device number behind it. Together they change even when a pts number is reused.
      const [link, target] = await Promise.all([lstat(path), stat(path)])
      return `${link.dev}:${link.ino}:${target.rdev}`
    } catch (err) {
      if (isMissing(err)) return null
      throw err
    }
  },
}
