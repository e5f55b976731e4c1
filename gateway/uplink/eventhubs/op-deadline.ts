/**
 * A hard deadline around one SDK call. The SDK honours its abort signal in most places, but a
 * send must never hang (a half-open TCP connection can leave a delivery unsettled for minutes),
 * so the returned promise settles on the deadline even if the call itself never does.
 */
import { setMaxListeners } from 'node:events'

/** The deadline passed. Classified as a retriable `timeout`. */
export class SendTimeoutError extends Error {
  readonly code = 'SendTimeoutError'
  constructor(what: string, ms: number) {
    super(`${what} did not complete within ${ms} ms`)
    this.name = 'SendTimeoutError'
  }
}

/** `parent` aborted (the forwarder cancelled, or the uplink is stopping). Retriable. */
export class SendAbortedError extends Error {
  readonly code = 'AbortError'
  constructor(what: string, reason: unknown) {
    super(`${what} aborted${reason instanceof Error && reason.message ? `: ${reason.message}` : ''}`)
    this.name = 'AbortError'
  }
}

/**
 * One signal for one send(): aborts when any of `parents` aborts (with its reason). The SDK calls
 * of that send (up to KEY_CONCURRENCY at once, plus keys waiting for their turn) listen on it, so
 * the long-lived parents carry one listener per send instead of one per call (Node warns at 11
 * listeners on one signal). Call `dispose()` when the send settled.
 */
export function linkSignals(parents: readonly AbortSignal[]): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController()
  setMaxListeners(0, controller.signal) // bounded by the send's own keys, all removed on settle
  const already = parents.find((p) => p.aborted)
  if (already) {
    controller.abort(already.reason)
    return { signal: controller.signal, dispose: () => {} }
  }
  const onAbort = (event: Event): void => {
    dispose()
    controller.abort((event.target as AbortSignal).reason)
  }
  const dispose = (): void => {
    for (const p of parents) p.removeEventListener('abort', onAbort)
  }
  for (const p of parents) p.addEventListener('abort', onAbort, { once: true })
  return { signal: controller.signal, dispose }
}

/**
 * Runs `op` with a signal that aborts after `timeoutMs` or when any of `parents` aborts, and
 * settles no later than that. A late result of `op` is ignored (its rejection is swallowed).
 * Takes several parents instead of using AbortSignal.any: with a long-lived parent (the
 * forwarder's or the uplink's lifetime signal) AbortSignal.any leaks one dependant signal per
 * call on Node 20-22 (nodejs/node#55351, #54614); plain listeners are removed on settle.
 */
export function withDeadline<T>(
  what: string,
  timeoutMs: number,
  parents: readonly AbortSignal[],
  op: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const already = parents.find((p) => p.aborted)
  if (already) return Promise.reject(new SendAbortedError(what, already.reason))
  const controller = new AbortController()
  return new Promise<T>((resolve, reject) => {
    const finish = (): void => {
      clearTimeout(timer)
      for (const p of parents) p.removeEventListener('abort', onAbort)
    }
    const onAbort = (event: Event): void => {
      const reason = (event.target as AbortSignal).reason
      finish()
      controller.abort(reason)
      reject(new SendAbortedError(what, reason))
    }
    const timer = setTimeout(() => {
      finish()
      const err = new SendTimeoutError(what, timeoutMs)
      controller.abort(err)
      reject(err)
    }, timeoutMs)
    for (const p of parents) p.addEventListener('abort', onAbort, { once: true })
    let pending: Promise<T>
    try {
      pending = op(controller.signal)
    } catch (err) {
      finish()
      return reject(err)
    }
    pending.then(
      (v) => { finish(); resolve(v) },
      (e: unknown) => { finish(); reject(e) },
    )
  })
}
