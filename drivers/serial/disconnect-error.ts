/** The error a SerialDriver throws when the device is gone or cannot be opened. */
import { GatewayError } from '../../gateway/core/errors.js'

/**
 * Why the port is not usable; also the log/metric label.
 * `not_found`: the path does not exist (hardware absent or unplugged).
 * `open_failed`: it exists but open() failed (permissions, locked by another process).
 * `closed`: serialport closed it (its own unplug detection: a failed read or write).
 * `io_error`: the port emitted an error.
 * `vanished`: the path disappeared or now names another device while we had it open.
 * `idle_timeout`: no data for idleTimeoutMs while the gateway was waiting for some.
 */
export type SerialDisconnectReason = 'not_found' | 'open_failed' | 'closed' | 'io_error' | 'vanished' | 'idle_timeout'

/**
 * Carries `disconnected: true` (serialport's own unplug convention, checked by `isDisconnect`), so
 * the supervisor reopens with backoff instead of treating it as a bug.
 */
export class SerialDisconnectedError extends GatewayError {
  readonly disconnected = true as const
  readonly reason: SerialDisconnectReason
  constructor(reason: SerialDisconnectReason, message: string, options?: { cause?: unknown }) {
    super('GW_ERR_HARDWARE_UNAVAILABLE', message, options)
    this.name = 'SerialDisconnectedError'
    this.reason = reason
  }
}
