/**
 * SerialDriver: one serial device as a Driver. Each `frames(signal)` call is one open period: it
 * opens the port, yields what is read (one Frame per read chunk, NOT per line: framing is the
 * source's job), and ends by throwing a `disconnected: true` error when the device goes away.
 * The supervisor (SerialSource) calls it again after a backoff.
 *
 * How an unplug is noticed (measured with socat PTYs and serialport 13, see FIELD-NOTES "Serial"):
 * 1. serialport closes the port itself when a pending read fails ('close' with `disconnected`).
 *    That only happens while a read is pending, i.e. not when the stream is paused and full.
 * 2. A probe every `probeIntervalMs` checks that the device node still exists and is the same one
 *    (USB unplug removes /dev/ttyUSB0; killing socat removes its links). This also covers the
 *    paused case. A zero-length write does NOT work as a probe: on a PTY whose other side died it
 *    succeeds (measured), and a non-empty write would send bytes to a real device.
 * 3. Optional `idleTimeoutMs`: no data for that long while the consumer waits → reopen.
 */
import type { Driver, Frame } from '../../gateway/core/types.js'
import { SerialDisconnectedError } from './disconnect-error.js'
import { nativePortAccess, type SerialPortAccess, type SerialPortLike } from './port-access.js'
import { PortSession } from './port-session.js'

export interface SerialDriverOptions {
  /** Component id (the source id). */
  id: string
  path: string
  baudRate: number
  /** No data for this long while the consumer waits counts as an unplug. @default undefined (off) */
  idleTimeoutMs?: number
  /** How often the device node is checked while open, ms. @default 1000 */
  probeIntervalMs?: number
  /** Bytes read but not yet pulled before the stream is paused. @default 16384 */
  maxQueuedBytes?: number
  /** serialport's stream buffer, bytes (it keeps reading this much after a pause). @default 4096 */
  readBufferBytes?: number
  /** Called each time the port has been opened (before any data). */
  onOpen?: () => void
  /**
   * Called as soon as an open port is found gone, before `frames()` throws: that throw only
   * reaches a consumer that pulls, and one blocked on a full sink does not.
   */
  onDisconnect?: (err: Error) => void
  /** OS seam; tests pass binding-mock. @default nativePortAccess */
  access?: SerialPortAccess
}

const noop = (): void => {}

export class SerialDriver implements Driver {
  readonly id: string
  private readonly opts: Required<Omit<SerialDriverOptions, 'idleTimeoutMs' | 'onOpen' | 'onDisconnect'>> &
    Pick<SerialDriverOptions, 'idleTimeoutMs' | 'onOpen' | 'onDisconnect'>
  private session: PortSession | null = null
  private running = false
  private totalBytes = 0

  /** @throws TypeError naming the field for a non-positive or non-integer size or interval. */
  constructor(options: SerialDriverOptions) {
    this.id = options.id
    // `??`, not a spread of defaults: callers pass optional config through as explicit undefined.
    this.opts = {
      ...options,
      probeIntervalMs: options.probeIntervalMs ?? 1000,
      maxQueuedBytes: options.maxQueuedBytes ?? 16 * 1024,
      readBufferBytes: options.readBufferBytes ?? 4096,
      access: options.access ?? nativePortAccess,
    }
    for (const key of ['baudRate', 'probeIntervalMs', 'maxQueuedBytes', 'readBufferBytes', 'idleTimeoutMs'] as const) {
      const v = this.opts[key]
      if (v !== undefined && (!Number.isInteger(v) || v <= 0)) throw new TypeError(`"${key}" must be a positive integer, got ${String(v)}`)
    }
    if (typeof options.path !== 'string' || options.path === '') throw new TypeError('"path" must be a non-empty string')
  }

  /** Bytes read from the device over the driver's lifetime (all open periods). */
  get bytesRead(): number {
    return this.totalBytes
  }

  /** True while the stream is paused because the consumer is not pulling. */
  isPaused(): boolean {
    return this.session?.paused ?? false
  }

  /**
   * Opens the port and yields read chunks until `signal` aborts (then returns normally and closes
   * the port). Throws SerialDisconnectedError (`disconnected: true`) when the path is missing, the
   * open fails, or the device goes away; the port is closed before the error propagates.
   * Not re-entrant: a second concurrent call throws Error.
   */
  async *frames(signal: AbortSignal): AsyncGenerator<Frame, void, undefined> {
    if (this.running) throw new Error(`SerialDriver ${this.id}: frames() is already running`)
    this.running = true
    try {
      const identity = await this.identify()
      const port = await this.open()
      const session = new PortSession(
        port, this.opts.path, this.opts.maxQueuedBytes, (n) => (this.totalBytes += n), (err) => this.opts.onDisconnect?.(err),
      )
      this.session = session
      const timer = setInterval(() => void this.probe(session, identity), this.probeTickMs())
      try {
        if (!signal.aborted) this.opts.onOpen?.()
        for (;;) {
          const frame = await session.next(signal)
          if (frame === null) return
          yield frame
        }
      } finally {
        clearInterval(timer)
        this.session = null
        await session.close()
      }
    } finally {
      this.running = false
    }
  }

  private async identify(): Promise<string> {
    let identity: string | null
    try {
      identity = await this.opts.access.identify(this.opts.path)
    } catch (err) {
      throw new SerialDisconnectedError('open_failed', `serial port ${this.opts.path}: ${(err as Error).message}`, { cause: err })
    }
    if (identity === null) throw new SerialDisconnectedError('not_found', `serial port ${this.opts.path} not found`)
    return identity
  }

  private async open(): Promise<SerialPortLike> {
    const { path, baudRate, readBufferBytes } = this.opts
    const port = this.opts.access.create({ path, baudRate, highWaterMark: readBufferBytes })
    // serialport emits 'error' with no listener after a failed close or a late write error;
    // an unhandled 'error' event would kill the whole gateway.
    port.on('error', noop)
    const err = await new Promise<Error | null>((resolve) => port.open(resolve))
    if (err) throw describeOpenError(path, err)
    return port
  }

  private probeTickMs(): number {
    const idle = this.opts.idleTimeoutMs
    // Check idleness often enough that it fires within ~25% of idleTimeoutMs.
    return idle === undefined ? this.opts.probeIntervalMs : Math.max(25, Math.min(this.opts.probeIntervalMs, Math.floor(idle / 4)))
  }

  private async probe(session: PortSession, identity: string): Promise<void> {
    const { path, idleTimeoutMs } = this.opts
    if (idleTimeoutMs !== undefined && session.idleMs(Date.now()) >= idleTimeoutMs) {
      session.fail(new SerialDisconnectedError('idle_timeout', `serial port ${path}: no data for ${idleTimeoutMs} ms, reopening`))
      return
    }
    try {
      const now = await this.opts.access.identify(path)
      if (now === null) session.fail(new SerialDisconnectedError('vanished', `serial port ${path} disappeared (unplugged?)`))
      else if (now !== identity) session.fail(new SerialDisconnectedError('vanished', `serial port ${path} was replaced (replugged)`))
    } catch (err) {
      session.fail(new SerialDisconnectedError('io_error', `serial port ${path}: ${(err as Error).message}`, { cause: err }))
    }
  }
}

/** Binding errors carry no `code`, only text; turn the common ones into an actionable detail. */
function describeOpenError(path: string, err: Error): SerialDisconnectedError {
  const msg = err.message
  if (/No such file|ENOENT/i.test(msg)) return new SerialDisconnectedError('not_found', `serial port ${path} not found`, { cause: err })
  if (/Permission denied|EACCES/i.test(msg)) {
    return new SerialDisconnectedError('open_failed', `serial port ${path}: permission denied (is the gateway user in the dialout group?)`, { cause: err })
  }
  if (/lock/i.test(msg)) return new SerialDisconnectedError('open_failed', `serial port ${path} is in use by another process`, { cause: err })
  return new SerialDisconnectedError('open_failed', `serial port ${path}: cannot open (${msg})`, { cause: err })
}
