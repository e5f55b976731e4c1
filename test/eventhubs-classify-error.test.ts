import { describe, expect, it } from 'vitest'
import { UplinkError } from '../gateway/core/errors.js'
import {
  classifyEventHubsError,
  isMessageTooLarge,
  leafErrors,
  parseRetryAfterMs,
} from '../gateway/uplink/eventhubs/classify-error.js'
import { SendAbortedError, SendTimeoutError } from '../gateway/uplink/eventhubs/op-deadline.js'

const opts = { authRetryMs: 30_000, maxRetryAfterMs: 60_000 }

/** Shaped like the SDK's MessagingError after `translate()`: name MessagingError, code = kind. */
function messaging(code: string, message: string, retryable = true): Error {
  return Object.assign(new Error(message), { name: 'MessagingError', code, retryable })
}
/** What `retry()` throws when attempts run out: an AggregateError with an EMPTY message. */
function exhausted(...errors: unknown[]): AggregateError {
  return Object.assign(new AggregateError(errors), { retryable: true })
}
const BUSY = 'The request was terminated because the entity is being throttled. Error code : 50002. Please wait 4 seconds and try again.'

describe('classifyEventHubsError', () => {
  it('walks nested AggregateErrors with empty messages down to the leaves', () => {
    // What a send on a link whose peer just died looks like: the delivery times out, then the
    // SDK's reconnect attempts are refused.
    const inner = exhausted(messaging('ConnectionForcedError', 'connect ECONNREFUSED 127.0.0.1:1'))
    const outer = exhausted(messaging('OperationTimeoutError', 'timed out'), inner)
    expect(outer.message).toBe('')
    expect(leafErrors(outer)).toHaveLength(2)
    const err = classifyEventHubsError(outer, opts)
    expect(err).toBeInstanceOf(UplinkError)
    expect(err.retriable).toBe(true)
    expect(err.reason).toBe('disconnected')
    expect(err.message).toBe('Event Hubs send failed (disconnected, 2 errors): ConnectionForcedError: connect ECONNREFUSED 127.0.0.1:1')
    expect(classifyEventHubsError(exhausted(messaging('OperationTimeoutError', 'timed out')), opts).reason).toBe('timeout')
    expect(err.code).toBe('GW_ERR_UPLINK_UNAVAILABLE')
  })

  it('ServerBusy is retriable with the wait the service asks for', () => {
    const err = classifyEventHubsError(exhausted(messaging('ServerBusyError', BUSY), messaging('ServerBusyError', BUSY)), opts)
    expect(err).toMatchObject({ reason: 'throttled', retriable: true, retryAfterMs: 4000 })
  })

  it('ServerBusy without a hint waits 4 s; a hint is capped', () => {
    expect(classifyEventHubsError(messaging('ServerBusyError', 'busy'), opts).retryAfterMs).toBe(4000)
    const capped = classifyEventHubsError(messaging('ServerBusyError', 'Please wait 600 seconds'), { ...opts, maxRetryAfterMs: 10_000 })
    expect(capped.retryAfterMs).toBe(10_000)
  })

  it('a raw AMQP error object (condition/description) is understood too', () => {
    const err = classifyEventHubsError({ condition: 'com.microsoft:server-busy', description: BUSY }, opts)
    expect(err).toMatchObject({ reason: 'throttled', retryAfterMs: 4000 })
  })

  it('auth failures are retriable, slowly, and win over the timeouts they cause', () => {
    const nested = exhausted(
      messaging('OperationTimeoutError', 'timeout'),
      exhausted(messaging('UnauthorizedError', 'InvalidSignature: The token has an invalid signature.', false)),
    )
    const err = classifyEventHubsError(nested, opts)
    expect(err).toMatchObject({ reason: 'unauthorized', retriable: true, retryAfterMs: 30_000 })
  })

  it('a status-401 message without a code still counts as unauthorized', () => {
    expect(classifyEventHubsError(new Error('put-token failed: status-code: 401 Unauthorized'), opts).reason).toBe('unauthorized')
  })

  it('a missing hub is retriable (config fix), never a dead letter', () => {
    const err = classifyEventHubsError(messaging('MessagingEntityNotFoundError', "The messaging entity 'x' could not be found.", false), opts)
    expect(err).toMatchObject({ reason: 'entity_not_found', retriable: true, retryAfterMs: 30_000 })
  })

  it('message too large is the only non-retriable outcome', () => {
    const tooLarge = messaging('MessageTooLargeError', 'size exceeded', false)
    expect(isMessageTooLarge(exhausted(messaging('ServerBusyError', BUSY), tooLarge))).toBe(true)
    expect(classifyEventHubsError(tooLarge, opts)).toMatchObject({ reason: 'message_too_large', retriable: false })
    expect(classifyEventHubsError(tooLarge, opts).code).toBe('GW_ERR_UPLINK_REJECTED')
  })

  it('connection loss, service unavailable, system errors and unknowns are retriable', () => {
    const sys = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })
    expect(classifyEventHubsError(sys, opts)).toMatchObject({ reason: 'disconnected', retriable: true })
    expect(classifyEventHubsError(messaging('ServiceUnavailableError', 'x'), opts).reason).toBe('unavailable')
    expect(classifyEventHubsError(messaging('ConnectionLostError', 'x'), opts).reason).toBe('disconnected')
    expect(classifyEventHubsError(new TypeError('weird'), opts)).toMatchObject({ reason: 'unknown', retriable: true })
    expect(classifyEventHubsError('a string', opts).retriable).toBe(true)
    expect(classifyEventHubsError(undefined, opts).retriable).toBe(true)
  })

  it('our own deadline and abort errors', () => {
    expect(classifyEventHubsError(new SendTimeoutError('sendBatch', 100), opts).reason).toBe('timeout')
    expect(classifyEventHubsError(new SendAbortedError('sendBatch', undefined), opts).reason).toBe('aborted')
  })

  it('follows `cause` of a wrapper with an empty message, and survives cycles', () => {
    const wrapper = new Error('', { cause: messaging('ServerBusyError', BUSY) })
    expect(classifyEventHubsError(wrapper, opts).reason).toBe('throttled')
    const a: { errors: unknown[] } = { errors: [] }
    a.errors.push(a, messaging('ConnectionLostError', 'gone'))
    expect(classifyEventHubsError(a, opts).reason).toBe('disconnected')
  })

  it('passes an UplinkError through unchanged', () => {
    const e = new UplinkError('stopped', 'x', { retriable: true })
    expect(classifyEventHubsError(e, opts)).toBe(e)
  })
})

describe('parseRetryAfterMs', () => {
  it('reads the service wording', () => {
    expect(parseRetryAfterMs(BUSY)).toBe(4000)
    expect(parseRetryAfterMs('please wait 1.5 s')).toBe(1500)
    expect(parseRetryAfterMs('wait 250 ms')).toBe(250)
    expect(parseRetryAfterMs('no hint')).toBeUndefined()
  })
})
