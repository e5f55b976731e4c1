/**
 * One send(): writes every message of a batch on one connection, pipelined (all in flight
 * together, in order), and settles once the fate of each is known.
 *
 * Settles exactly once:
 * - resolves with the entries of messages the broker refused permanently (PUBACK 0x87, 0x90,
 *   0x95, 0x99) once every other message got a PUBACK < 0x80;
 * - rejects (retriable) on the first of: a retriable PUBACK code (0x89 busy, 0x97 quota, ...),
 *   the connection closing, no PUBACK of this send for `ackTimeoutMs`, or `signal` aborting.
 *   Messages still waiting for the window are then not written; messages already written simply
 *   complete in the background (a PUBACK we no longer wait for is harmless: the store resends
 *   the whole batch, and the cloud dedupes on CloudEvent source + id).
 *
 * PUBACK timeout: MQTT 5 §4.4 allows a client to resend an unacknowledged PUBLISH only on a new
 * connection, so a broker that swallows PUBACKs is handled by closing this connection; the
 * uplink reconnects with backoff.
 */
import { UplinkError } from '../../core/errors.js'
import type { OutMessage, RejectedEntry } from './cloudevents-binding.js'
import { abortedError, ackTimeoutError, classifyPubackCode, disconnectedError, type PubackVerdict } from './classify-error.js'
import type { MqttConnection } from './connection.js'

/** Observers for counters; called for every PUBACK, also after the send settled. */
export interface SendHooks {
  published(message: OutMessage): void
  refused(message: OutMessage, verdict: PubackVerdict): void
  ackTimedOut(): void
  /**
   * A multi-event `batch`-mode message got 0x95: the broker's real limit is below what it
   * announced (or it announced none). The uplink lowers its packet limit so the retry splits.
   */
  batchTooLarge(message: OutMessage): void
}

export interface SendOptions {
  ackTimeoutMs: number
  hooks: SendHooks
}

function reasonCodeOf(err: Error): number | undefined {
  const code = (err as { code?: unknown }).code
  return typeof code === 'number' ? code : undefined
}

/** See the module comment. Never throws synchronously. */
export function publishAll(
  conn: MqttConnection,
  messages: OutMessage[],
  signal: AbortSignal,
  opts: SendOptions,
): Promise<RejectedEntry[]> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(abortedError(signal.reason))
    const refused: RejectedEntry[] = []
    let remaining = messages.length
    let settled = false
    const timer = setTimeout(onAckTimeout, opts.ackTimeoutMs)
    const onAbort = (): void => finish(abortedError(signal.reason))
    signal.addEventListener('abort', onAbort, { once: true })
    const unsubscribe = conn.onClose((err) => finish(err))

    function finish(err?: UplinkError): void {
      if (settled) return
      settled = true
      clearTimeout(timer)
      signal.removeEventListener('abort', onAbort)
      unsubscribe()
      if (err) reject(err)
      else resolve(refused)
    }

    function onAckTimeout(): void {
      if (settled) return
      opts.hooks.ackTimedOut()
      finish(ackTimeoutError(opts.ackTimeoutMs))
      conn.close(disconnectedError(`closed after no PUBACK for ${opts.ackTimeoutMs} ms`))
    }

    function settledOne(): void {
      timer.refresh() // the timeout measures silence, not the duration of the whole batch
      if (--remaining === 0) finish()
    }

    function onDone(message: OutMessage, err: Error | undefined): void {
      if (!err) {
        opts.hooks.published(message)
        if (!settled) settledOne()
        return
      }
      const code = reasonCodeOf(err)
      if (code === undefined) return finish(disconnectedError(err.message, err))
      const verdict = classifyPubackCode(code)
      opts.hooks.refused(message, verdict)
      if (settled) return
      if (verdict.reason === 'packet_too_large' && message.entries.length > 1) {
        opts.hooks.batchTooLarge(message)
        return finish(new UplinkError(verdict.reason, `${verdict.message}; batch messages will be split`, { retriable: true, cause: err }))
      }
      if (verdict.retriable) return finish(new UplinkError(verdict.reason, verdict.message, { retriable: true, cause: err }))
      for (const entry of message.entries) refused.push({ entry, reason: verdict.reason, message: verdict.message })
      settledOne()
    }

    if (remaining === 0) return finish()
    for (const message of messages) {
      if (settled) break
      conn.publish({ message, cancelled: () => settled, done: (err) => onDone(message, err) })
    }
  })
}
