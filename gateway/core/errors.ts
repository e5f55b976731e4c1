/**
 * Errors with a stable `code`. Every log line and metric for a failure uses the same code, so an
 * operator can grep the journal for the metric label they saw on a dashboard.
 */
import type { AppendResult } from './types.js'

export type GatewayErrorCode =
  | 'GW_ERR_CONFIG'
  | 'GW_ERR_DECODE'
  | 'GW_ERR_STORE_FULL'
  | 'GW_ERR_STORE_CLOSED'
  | 'GW_ERR_STORE_CORRUPT'
  | 'GW_ERR_UPLINK_REJECTED'
  | 'GW_ERR_UPLINK_UNAVAILABLE'
  | 'GW_ERR_HARDWARE_UNAVAILABLE'
  | 'GW_ERR_INPUT_REJECTED'

export class GatewayError extends Error {
  readonly code: GatewayErrorCode
  constructor(code: GatewayErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'GatewayError'
    this.code = code
  }
}

/** A reading or frame that could not be decoded. Counted by `reason` and never stored. */
export class DecodeError extends GatewayError {
  /** Short snake_case label used as the metric's `reason`, e.g. `bad_checksum`. */
  readonly reason: string
  constructor(reason: string, message: string, options?: { cause?: unknown }) {
    super('GW_ERR_DECODE', message, options)
    this.name = 'DecodeError'
    this.reason = reason
  }
}

/**
 * A whenFull=block append whose `signal` aborted while it waited for room. A blocked append is
 * committed in parts (alerts first, then telemetry in order), so some parts may already be durable:
 * `committed` is what they stored and evicted (`rejected`: events refused at once, e.g. larger than
 * maxBytes). Those events will be delivered; only the rest of the append was not stored.
 */
export class AppendAbortedError extends GatewayError {
  readonly committed: AppendResult
  constructor(committed: AppendResult, options?: { cause?: unknown }) {
    super('GW_ERR_STORE_FULL', `store full (whenFull=block): append aborted while waiting for room (${committed.accepted} events stored before)`, options)
    this.name = 'AppendAbortedError'
    this.committed = committed
  }
}

/**
 * An append that failed for another reason (store closing, a write error) after part of it was
 * committed or refused: whenFull=block commits in parts, and events larger than maxBytes are
 * refused before anything is written. `committed` is what is settled (stored, evicted, refused),
 * as for AppendAbortedError; `code` is the cause's, so callers that check it see the real failure.
 */
export class PartialAppendError extends Error {
  readonly committed: AppendResult
  readonly code: string | undefined
  constructor(committed: AppendResult, cause: unknown) {
    super(`append failed after ${committed.accepted} of its events were stored: ${cause instanceof Error ? cause.message : String(cause)}`, { cause })
    this.name = 'PartialAppendError'
    this.committed = committed
    this.code = (cause as { code?: unknown } | null)?.code === undefined ? undefined : String((cause as { code: unknown }).code)
  }
}

/** What a failed append had already settled (nothing, unless it is one of the two errors above). */
export function settledBeforeFailure(err: unknown): AppendResult {
  return err instanceof AppendAbortedError || err instanceof PartialAppendError ? err.committed : { accepted: 0, rejected: 0, evicted: 0 }
}

/** `err` with `settled` attached when anything was settled before it (see PartialAppendError). */
export function withSettled(err: unknown, settled: AppendResult): unknown {
  if (err instanceof AppendAbortedError || err instanceof PartialAppendError) return err
  return settled.accepted + settled.rejected + settled.evicted > 0 ? new PartialAppendError({ ...settled }, err) : err
}

/**
 * An uplink failure. `retriable: false` means the peer refused the content itself (too large,
 * not authorised for that topic): resending the same bytes cannot succeed, so the forwarder
 * dead-letters instead of retrying forever.
 */
export class UplinkError extends GatewayError {
  readonly retriable: boolean
  /** Suggested wait before the next try (e.g. Event Hubs ServerBusy), when the peer gave one. */
  readonly retryAfterMs: number | undefined
  /** Short snake_case label for metrics, e.g. `disconnected`, `packet_too_large`. */
  readonly reason: string
  constructor(
    reason: string,
    message: string,
    opts: { retriable: boolean; retryAfterMs?: number; cause?: unknown },
  ) {
    super(opts.retriable ? 'GW_ERR_UPLINK_UNAVAILABLE' : 'GW_ERR_UPLINK_REJECTED', message, {
      cause: opts.cause,
    })
    this.name = 'UplinkError'
    this.reason = reason
    this.retriable = opts.retriable
    this.retryAfterMs = opts.retryAfterMs
  }
}

/** True when `err` carries `disconnected: true` (serialport's unplug signal) . */
export function isDisconnect(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { disconnected?: unknown }).disconnected === true
}
