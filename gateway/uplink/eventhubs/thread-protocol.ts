/**
 * Messages between the gateway's event loop and the Event Hubs uplink thread (uplink-thread.ts),
 * and how errors cross that boundary.
 *
 * Errors are sent as plain data and rebuilt on the other side as the same class (UplinkError,
 * GatewayError) with the same reason, code, retriable flag and suggested wait, because the
 * forwarder decides on those fields, not on the message. Secrets never travel: the SDK's messages
 * do not echo keys, and the config goes to the thread once, at start, not through the logs.
 */
import { GatewayError, UplinkError, type GatewayErrorCode } from '../../core/errors.js'
import type { Entry, UplinkHealth } from '../../core/types.js'
import type { RetryOptions } from '@azure/event-hubs'
import type { EventHubsUplinkConfig } from './config.js'

export interface ThreadData {
  config: EventHubsUplinkConfig
  /** Replaces fields of the SDK retry policy (tests shorten delays); plain numbers, so it can cross. */
  sdkRetryOptions?: Partial<RetryOptions>
}

export type ToThread =
  | { type: 'start' }
  | { type: 'send'; sendId: number; batch: Entry[] }
  | { type: 'abort'; sendId: number; reason: string }
  | { type: 'stop' }

export type LogLevel = 'debug' | 'info' | 'warn' | 'error'

export type FromThread =
  | { type: 'started'; error?: WireError }
  | { type: 'sent'; sendId: number; rejected: Array<{ index: number; reason: string; message: string }> }
  | { type: 'failed'; sendId: number; error: WireError }
  | { type: 'health'; health: UplinkHealth }
  | { type: 'log'; level: LogLevel; obj: Record<string, unknown>; msg: string | undefined }
  | { type: 'stopped' }

export interface WireError {
  kind: 'uplink' | 'gateway' | 'other'
  name: string
  message: string
  code?: GatewayErrorCode
  reason?: string
  retriable?: boolean
  retryAfterMs?: number
}

export function toWireError(err: unknown): WireError {
  if (err instanceof UplinkError) {
    const wire: WireError = { kind: 'uplink', name: err.name, message: err.message, code: err.code, reason: err.reason, retriable: err.retriable }
    if (err.retryAfterMs !== undefined) wire.retryAfterMs = err.retryAfterMs
    return wire
  }
  if (err instanceof GatewayError) return { kind: 'gateway', name: err.name, message: err.message, code: err.code }
  if (err instanceof Error) return { kind: 'other', name: err.name, message: err.message }
  return { kind: 'other', name: 'Error', message: String(err) }
}

export function fromWireError(wire: WireError): Error {
  if (wire.kind === 'uplink') {
    const opts: { retriable: boolean; retryAfterMs?: number } = { retriable: wire.retriable ?? true }
    if (wire.retryAfterMs !== undefined) opts.retryAfterMs = wire.retryAfterMs
    return new UplinkError(wire.reason ?? 'unknown', wire.message, opts)
  }
  if (wire.kind === 'gateway') return new GatewayError(wire.code ?? 'GW_ERR_UPLINK_UNAVAILABLE', wire.message)
  const err = new Error(wire.message)
  err.name = wire.name
  return err
}

/** Log fields as plain data: Errors become { name, message, code } (a stack stays in the thread). */
export function toWireLogObject(obj: object): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(obj)) {
    if (v instanceof Error) {
      const code = (v as { code?: unknown }).code
      out[k] = { name: v.name, message: v.message, ...(code !== undefined ? { code } : {}) }
    } else {
      out[k] = v
    }
  }
  return out
}
