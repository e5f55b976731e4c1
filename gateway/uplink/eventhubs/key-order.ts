/**
 * Order per partition key ACROSS concurrent `send()` calls (ARCHITECTURE §2.6: one in-flight batch
 * per partition key).
 *
 * Why: the forwarder keeps up to `maxInFlight` batches outstanding and each `send()` sends its keys
 * concurrently. Without coordination a device's events in a later forwarder batch reach the
 * service before those of an earlier batch still on the wire: the earlier one may need several
 * AMQP batches for that key (each waits for the previous to be accepted), or the SDK may retry it
 * after a jittered delay (ServerBusy, a dropped connection) while the later one goes straight
 * through. Both were observed against the test peer (max_message_size 8 KiB, maxInFlight 4).
 *
 * Rule: each `send()` registers all of its keys synchronously, in call order, before sending
 * anything. A key's part of a send starts only after the same key's part of the previous
 * still-pending send has settled. If that part failed, or was never attempted because its send
 * gave up early, this one fails with the same error without sending: the forwarder resends from
 * the failed batch anyway, and sending the later events first would land them ahead of the earlier
 * ones. A predecessor that had already settled when a send registered (e.g. the forwarder's resend
 * after a rewind, which starts only once every outstanding send settled) is not waited for.
 *
 * Memory: one entry per key with a send pending; an entry is removed when its last send settles.
 */

type Outcome = { ok: true } | { ok: false; err: unknown }

/** One key's place in line for one send(). Settle it exactly once. */
export interface KeyTurn {
  /** Resolves when every earlier send of this key settled OK; rejects with the earlier failure, or on abort. */
  ready(signal: AbortSignal): Promise<void>
  /** Records how this send's part of the key ended (`undefined`: accepted). Idempotent. */
  settle(err?: unknown): void
}

interface Tail {
  done: Promise<Outcome>
}

export class KeyOrder {
  private readonly tails = new Map<string, Tail>()

  /** Number of keys with a send pending (for tests). */
  get pendingKeys(): number {
    return this.tails.size
  }

  /** Takes a turn for every key of one send(), behind earlier pending sends of the same keys. */
  enter(keys: Iterable<string>): Map<string, KeyTurn> {
    const turns = new Map<string, KeyTurn>()
    for (const key of keys) turns.set(key, this.turn(key))
    return turns
  }

  private turn(key: string): KeyTurn {
    const previous = this.tails.get(key)?.done
    let resolve!: (o: Outcome) => void
    const tail: Tail = { done: new Promise<Outcome>((r) => (resolve = r)) }
    this.tails.set(key, tail)
    let settled = false
    return {
      ready: (signal) => (previous ? waitFor(previous, signal) : Promise.resolve()),
      settle: (err) => {
        if (settled) return
        settled = true
        resolve(err === undefined ? { ok: true } : { ok: false, err })
        if (this.tails.get(key) === tail) this.tails.delete(key)
      },
    }
  }
}

function waitFor(previous: Promise<Outcome>, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.reject(abortError(signal))
  return new Promise<void>((resolve, reject) => {
    const onAbort = (): void => reject(abortError(signal))
    signal.addEventListener('abort', onAbort, { once: true })
    void previous.then((o) => {
      signal.removeEventListener('abort', onAbort)
      if (o.ok) resolve()
      else reject(o.err)
    })
  })
}

function abortError(signal: AbortSignal): Error {
  const reason = signal.reason
  const err = new Error(`waiting for an earlier send of the same partition key aborted${reason instanceof Error && reason.message ? `: ${reason.message}` : ''}`)
  err.name = 'AbortError'
  return err
}
