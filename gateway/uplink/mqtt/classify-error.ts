/**
 * Maps broker answers and connection failures to UplinkErrors with stable `reason` labels.
 *
 * PUBACK reason codes (MQTT 5 §3.4.2.1): < 0x80 is success, including 0x10 "No matching
 * subscribers" (the broker accepted the message; nobody listens yet). Codes >= 0x80 are split:
 * - refusals of the content itself (resending the same bytes to the same topic cannot succeed)
 *   are permanent for that one message: the entry is returned in `rejected` and dead-lettered;
 * - everything else (busy, quota, unspecified) is retriable: losing data is worse than a retry,
 *   and the forwarder's backoff bounds the cost.
 */
import { UplinkError } from '../../core/errors.js'

/** What a PUBACK reason code means for the entries of that message. */
export interface PubackVerdict {
  retriable: boolean
  /** snake_case metric label. */
  reason: string
  message: string
}

const PERMANENT: Record<number, string> = {
  0x87: 'not_authorized', // ACL refuses this topic
  0x90: 'topic_name_invalid',
  0x95: 'packet_too_large',
  0x99: 'payload_format_invalid',
}

const RETRIABLE: Record<number, string> = {
  0x80: 'unspecified_error',
  0x83: 'implementation_specific_error',
  0x89: 'server_busy',
  0x91: 'packet_identifier_in_use',
  0x97: 'quota_exceeded',
}

/** Classifies a PUBACK reason code >= 0x80 (MQTT 5 §3.4.2.1). */
export function classifyPubackCode(code: number): PubackVerdict {
  const hex = `0x${code.toString(16).padStart(2, '0')}`
  const permanent = PERMANENT[code]
  if (permanent) return { retriable: false, reason: permanent, message: `broker refused the message: ${permanent} (${hex})` }
  const reason = RETRIABLE[code] ?? 'puback_error'
  return { retriable: true, reason, message: `broker could not take the message now: ${reason} (${hex})` }
}

/** Retriable: there is no usable connection (never connected, lost, or lost mid-send). */
export function disconnectedError(detail: string, cause?: unknown): UplinkError {
  return new UplinkError('disconnected', `MQTT broker not connected: ${detail}`, { retriable: true, cause })
}

/** Retriable: the uplink is stopping; the entries stay in the store for the next start. */
export function stoppedError(): UplinkError {
  return new UplinkError('stopped', 'MQTT uplink stopped before the broker confirmed the batch', { retriable: true })
}

/** Retriable: no PUBACK within `ackTimeoutMs`; the connection is closed and re-established. */
export function ackTimeoutError(ackTimeoutMs: number): UplinkError {
  return new UplinkError('ack_timeout', `no PUBACK within ${ackTimeoutMs} ms`, { retriable: true })
}

/** Retriable: the caller's AbortSignal fired before every PUBACK arrived. */
export function abortedError(cause?: unknown): UplinkError {
  return new UplinkError('aborted', 'send aborted before the broker confirmed the batch', { retriable: true, cause })
}

/**
 * One line for `health().detail` and logs: what went wrong with the connection, without
 * credentials. Examples: "connection refused (ECONNREFUSED)", "CONNACK refused: Not authorized (5)".
 */
export function describeConnectionError(err: unknown): string {
  if (!(err instanceof Error)) return String(err)
  const code = (err as { code?: unknown }).code
  if (code === 'ECONNREFUSED') return 'connection refused (ECONNREFUSED)'
  if (typeof code === 'string') return `${err.message.split('\n')[0]} (${code})`
  if (typeof code === 'number') return `${err.message} (${code})`
  return err.message
}
