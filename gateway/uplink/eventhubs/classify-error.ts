/**
 * Turns whatever the Event Hubs SDK threw into an UplinkError the forwarder can act on.
 *
 * The SDK retries internally and, when retries run out, throws an `AggregateError` whose message
 * is EMPTY and whose `errors` hold one error per attempt, possibly nested (a send attempt that
 * failed while re-opening the link carries the link's own AggregateError). So we never look at
 * the top-level message: we walk every leaf and let the most telling one decide.
 *
 * Policy (the queue is durable, so only content the service refuses is ever given up on):
 * - unauthorized (bad or rotated key, missing claim): retriable, slow (`authRetryMs`); a key can
 *   be fixed without losing what is queued.
 * - entity not found (wrong hub name): retriable, slow, for the same reason.
 * - message too large: NOT retriable; the batch sender splits batches and rejects single events,
 *   so it only escapes here if something unexpected happens.
 * - throttled (ServerBusy): retriable after the wait the service suggests ("Please wait 4
 *   seconds"), 4 s when it does not say.
 * - timeouts, connection loss, service unavailable, anything unknown: retriable, the forwarder's
 *   own backoff decides the wait.
 */
import { UplinkError } from '../../core/errors.js'

export type EventHubsFailure =
  | 'unauthorized'
  | 'entity_not_found'
  | 'message_too_large'
  | 'throttled'
  | 'timeout'
  | 'disconnected'
  | 'unavailable'
  | 'aborted'
  | 'unknown'

/**
 * Most telling first: auth and config problems hide behind the timeouts they cause, and a refused
 * connection explains the timeout of the send that was on the wire when the peer went away.
 */
const PRIORITY: EventHubsFailure[] = [
  'unauthorized', 'entity_not_found', 'message_too_large', 'throttled', 'unavailable', 'disconnected', 'timeout', 'aborted', 'unknown',
]

/** Wait the service asks for after ServerBusy when its message does not say (Event Hubs docs: ~4 s). */
export const DEFAULT_BUSY_WAIT_MS = 4_000

export interface ClassifyOptions {
  /** Suggested wait after an auth/config failure, ms. */
  authRetryMs: number
  /** Upper bound for any wait taken from a service message, ms. */
  maxRetryAfterMs: number
}

interface Leaf {
  name: string
  code: string
  condition: string
  message: string
}

const BY_CODE: Record<string, EventHubsFailure> = {
  UnauthorizedError: 'unauthorized',
  MessagingEntityNotFoundError: 'entity_not_found',
  MessageTooLargeError: 'message_too_large',
  ServerBusyError: 'throttled',
  QuotaExceededError: 'throttled',
  ServiceUnavailableError: 'unavailable',
  InternalServerError: 'unavailable',
  SenderBusyError: 'unavailable',
  OperationTimeoutError: 'timeout',
  SendTimeoutError: 'timeout',
  ETIMEDOUT: 'timeout',
  ConnectionLostError: 'disconnected',
  ConnectionForcedError: 'disconnected',
  DetachForcedError: 'disconnected',
  ServiceCommunicationError: 'disconnected',
  SenderNotReadyError: 'disconnected',
  ECONNREFUSED: 'disconnected',
  ECONNRESET: 'disconnected',
  EPIPE: 'disconnected',
  ENOTFOUND: 'disconnected',
  EAI_AGAIN: 'disconnected',
  EHOSTUNREACH: 'disconnected',
  ENETUNREACH: 'disconnected',
  AbortError: 'aborted',
}

const BY_CONDITION: Record<string, EventHubsFailure> = {
  'amqp:unauthorized-access': 'unauthorized',
  'com.microsoft:auth-failed': 'unauthorized',
  'com.microsoft:unauthorized': 'unauthorized',
  'amqp:not-found': 'entity_not_found',
  'amqp:link:message-size-exceeded': 'message_too_large',
  'com.microsoft:server-busy': 'throttled',
  'com.microsoft:timeout': 'timeout',
  'amqp:connection:forced': 'disconnected',
  'amqp:link:detach-forced': 'disconnected',
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : ''
}

/** Every leaf error, depth-first, through `errors` arrays (AggregateError) and `cause` chains. */
export function leafErrors(err: unknown, depth = 0, seen = new Set<unknown>()): unknown[] {
  if (depth > 8 || seen.has(err)) return []
  seen.add(err)
  if (typeof err === 'object' && err !== null) {
    const inner = (err as { errors?: unknown }).errors
    if (Array.isArray(inner) && inner.length > 0) return inner.flatMap((e) => leafErrors(e, depth + 1, seen))
    const cause = (err as { cause?: unknown }).cause
    // Our own wrappers (UplinkError, BindingError) keep the SDK error as `cause`.
    if (cause !== undefined && str((err as { message?: unknown }).message) === '') return leafErrors(cause, depth + 1, seen)
  }
  return [err]
}

function describe(err: unknown): Leaf {
  if (typeof err !== 'object' || err === null) return { name: '', code: '', condition: '', message: String(err) }
  const e = err as Record<string, unknown>
  return { name: str(e['name']), code: str(e['code']), condition: str(e['condition']), message: str(e['message']) || str(e['description']) }
}

function kindOf(leaf: Leaf): EventHubsFailure {
  const known = BY_CODE[leaf.code] ?? BY_CODE[leaf.name] ?? BY_CONDITION[leaf.condition] ?? BY_CONDITION[leaf.code]
  if (known) return known
  if (/unauthori[sz]ed|\b401\b|auth(entication)? failed/i.test(leaf.message)) return 'unauthorized'
  if (/timed? ?out/i.test(leaf.message)) return 'timeout'
  return 'unknown'
}

/** "Please wait 4 seconds and try again." → 4000. */
export function parseRetryAfterMs(message: string): number | undefined {
  const m = /wait\s+(\d+(?:\.\d+)?)\s*(ms|milliseconds?|s|sec(?:ond)?s?)\b/i.exec(message)
  if (!m) return undefined
  const n = Number(m[1])
  return /^m/i.test(m[2] ?? '') ? Math.round(n) : Math.round(n * 1000)
}

/** True when any leaf says the service refused the size (the batch sender splits on this). */
export function isMessageTooLarge(err: unknown): boolean {
  return leafErrors(err).some((e) => kindOf(describe(e)) === 'message_too_large')
}

/** The most telling failure among the leaves of `err`, with its leaf. */
export function dominantFailure(err: unknown): { kind: EventHubsFailure; leaf: Leaf; leaves: Leaf[] } {
  const leaves = leafErrors(err).map(describe)
  let best = { kind: 'unknown' as EventHubsFailure, leaf: leaves[leaves.length - 1] ?? describe(err) }
  for (const leaf of leaves) {
    const kind = kindOf(leaf)
    if (PRIORITY.indexOf(kind) < PRIORITY.indexOf(best.kind)) best = { kind, leaf }
  }
  return { ...best, leaves }
}

/** Maps an SDK failure to an UplinkError (see the policy above). Never throws. */
export function classifyEventHubsError(err: unknown, opts: ClassifyOptions): UplinkError {
  if (err instanceof UplinkError) return err
  const { kind, leaf, leaves } = dominantFailure(err)
  const what = [leaf.code || leaf.name, leaf.message].filter(Boolean).join(': ') || 'unknown error'
  // Leaves include the SDK's nested link/connection retries, so this counts errors, not sends.
  const errors = leaves.length > 1 ? `, ${leaves.length} errors` : ''
  const message = `Event Hubs send failed (${kind}${errors}): ${what}`
  switch (kind) {
    case 'message_too_large':
      return new UplinkError(kind, message, { retriable: false, cause: err })
    case 'unauthorized':
    case 'entity_not_found':
      return new UplinkError(kind, message, { retriable: true, retryAfterMs: opts.authRetryMs, cause: err })
    case 'throttled': {
      const hinted = leaves.map((l) => parseRetryAfterMs(l.message)).find((n) => n !== undefined)
      const retryAfterMs = Math.min(hinted ?? DEFAULT_BUSY_WAIT_MS, opts.maxRetryAfterMs)
      return new UplinkError(kind, message, { retriable: true, retryAfterMs, cause: err })
    }
    default:
      return new UplinkError(kind, message, { retriable: true, cause: err })
  }
}
