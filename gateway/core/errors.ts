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
 * An append that failed after part of it was settled: whenFull=block commits in parts (alerts
 * first, then telemetry in order), and events larger than maxBytes are refused before anything is
 * written. `committed` is what is settled (stored, evicted, refused, and in `committed.refused`
 * which events were refused); those stored will be delivered, so a caller must not count them as
 * dropped. `lost` says which events the failure lost; every offered event in neither list is
 * stored. Both are the error's own copies: the store adds the events it refused up front, and the
 * lost ones once it knows them, before the error leaves `append`. `code` is the cause's unless a
 * subclass says otherwise, so callers that check it see the real failure (e.g. GW_ERR_STORE_CLOSED).
 */
export class PartialAppendError extends Error {
  readonly committed: AppendResult
  /**
   * Ascending indices into the offered `batch.events` of the events neither stored nor refused.
   * Undefined only while the store is still filling it in, or from code that cannot know (then a
   * caller may only rely on the counts).
   */
  lost: number[] | undefined
  readonly code: string | undefined
  constructor(committed: AppendResult, cause: unknown, opts: { lost?: number[]; message?: string; code?: string } = {}) {
    super(opts.message ?? `append failed after ${committed.accepted} of its events were stored: ${cause instanceof Error ? cause.message : String(cause)}`, { cause })
    this.name = 'PartialAppendError'
    this.committed = committed
    this.lost = opts.lost
    const causeCode = (cause as { code?: unknown } | null)?.code
    this.code = opts.code ?? (causeCode === undefined ? undefined : String(causeCode))
  }
}

/** A whenFull=block append whose `signal` aborted while it waited for room. */
export class AppendAbortedError extends PartialAppendError {
  constructor(committed: AppendResult, cause: unknown) {
    super(committed, cause, {
      message: `store full (whenFull=block): append aborted while waiting for room (${committed.accepted} events stored before)`,
      code: 'GW_ERR_STORE_FULL',
    })
    this.name = 'AppendAbortedError'
  }
}

/** What a failed append had already settled (nothing, unless it is a PartialAppendError). */
export function settledBeforeFailure(err: unknown): AppendResult {
  return err instanceof PartialAppendError ? err.committed : { accepted: 0, rejected: 0, evicted: 0 }
}

/**
 * `err` carrying `settled` and `lost` when anything was settled before it; a PartialAppendError
 * already carries its counts, and gets `lost` only if it does not know it yet.
 */
export function withSettled(err: unknown, settled: AppendResult, lost: number[]): unknown {
  if (err instanceof PartialAppendError) {
    err.lost ??= lost
    return err
  }
  return settled.accepted + settled.rejected + settled.evicted > 0 ? new PartialAppendError({ ...settled }, err, { lost }) : err
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
