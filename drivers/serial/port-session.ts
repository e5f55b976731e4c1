/**
 * One open period of a serial port: turns serialport's push-style 'data' events into a pull-style
 * `next()`, with a bounded queue in between.
 *
 * Backpressure: when more than `maxQueuedBytes` wait for the consumer, the stream is paused. A
 * paused stream stops emitting 'data', serialport stops reading once its own `highWaterMark`
 * buffer is full, and from there the OS tty buffer and the device (RTS/CTS, or a full UART FIFO)
 * do the rest. Memory held here is at most maxQueuedBytes + one read + highWaterMark.
 * The stream resumes once the consumer has taken the queue below half (hysteresis, so a consumer
 * that keeps up just barely does not toggle pause/resume on every chunk).
 */
import type { Frame } from '../../gateway/core/types.js'
import { SerialDisconnectedError } from './disconnect-error.js'
import type { SerialPortLike } from './port-access.js'

export class PortSession {
  private readonly queue: Frame[] = []
  private queuedBytes = 0
  private failure: Error | null = null
  private closing: Promise<void> | null = null
  private wake: (() => void) | null = null
  /** When the consumer started waiting in next(), or null while it is busy elsewhere. */
  private waitingSinceMs: number | null = null
  private lastDataMs: number
  private readonly onData = (chunk: Buffer): void => this.received(chunk)
  private readonly onClose = (err?: Error | null): void =>
    this.fail(new SerialDisconnectedError('closed', `serial port ${this.path} closed${err ? `: ${err.message}` : ''}`, { cause: err ?? undefined }))
  private readonly onError = (err: Error): void =>
    this.fail(new SerialDisconnectedError('io_error', `serial port ${this.path} error: ${err.message}`, { cause: err }))

  constructor(
    private readonly port: SerialPortLike,
    private readonly path: string,
    private readonly maxQueuedBytes: number,
    private readonly countBytes: (n: number) => void,
    private readonly onFail: (err: Error) => void,
  ) {
    this.lastDataMs = Date.now()
    port.on('data', this.onData)
    port.on('close', this.onClose)
    port.on('error', this.onError)
  }

  get paused(): boolean {
    return this.port.isPaused()
  }

  /** ms the consumer has been waiting without any data arriving; 0 while it is not waiting. */
  idleMs(now: number): number {
    if (this.waitingSinceMs === null || this.queue.length > 0) return 0
    return now - Math.max(this.waitingSinceMs, this.lastDataMs)
  }

  /**
   * The next chunk, or null once `signal` aborted. Chunks queued before a failure are delivered
   * first; then the failure (always with `disconnected: true`) is thrown.
   */
  async next(signal: AbortSignal): Promise<Frame | null> {
    for (;;) {
      if (signal.aborted) return null
      const frame = this.queue.shift()
      if (frame) {
        this.queuedBytes -= frame.bytes.length
        if (this.queuedBytes <= this.maxQueuedBytes / 2 && this.port.isPaused()) this.port.resume()
        return frame
      }
      if (this.failure) throw this.failure
      await this.waitForWake(signal)
    }
  }

  /**
   * Ends the session with `err` (first failure wins): reports it at once and releases the device,
   * even while the consumer is busy elsewhere (e.g. blocked in a full sink); the consumer sees the
   * error after the data already queued.
   */
  fail(err: Error): void {
    // After close() (stop, or a probe that resolved late) there is no device left to report on.
    if (this.failure || this.closing) return
    this.failure = err
    this.onFail(err)
    void this.close()
    this.wake?.()
  }

  /** Detaches and closes the port; idempotent, never rejects (the port may already be gone). */
  close(): Promise<void> {
    // One shared promise: a reopen must wait for the real close, or the port lock is still held.
    this.closing ??= this.closePort()
    return this.closing
  }

  private async closePort(): Promise<void> {
    this.port.removeListener('data', this.onData)
    this.port.removeListener('close', this.onClose)
    this.port.removeListener('error', this.onError)
    if (!this.port.isOpen) return
    await new Promise<void>((resolve) => this.port.close(() => resolve()))
  }

  private received(chunk: Buffer): void {
    this.lastDataMs = Date.now()
    this.countBytes(chunk.length)
    this.queue.push({ bytes: chunk, timeMs: this.lastDataMs })
    this.queuedBytes += chunk.length
    if (this.queuedBytes >= this.maxQueuedBytes && !this.port.isPaused()) this.port.pause()
    this.wake?.()
  }

  private waitForWake(signal: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = (): void => {
        signal.removeEventListener('abort', done)
        this.wake = null
        this.waitingSinceMs = null
        resolve()
      }
      this.wake = done
      this.waitingSinceMs = Date.now()
      signal.addEventListener('abort', done, { once: true })
    })
  }
}
