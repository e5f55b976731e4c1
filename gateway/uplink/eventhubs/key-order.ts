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
 * Rules:
 * - Each `send()` registers all of its keys synchronously, in call order, before sending anything.
 *   A key's part of a send starts only after the same key's part of the previous still-pending
 *   send has settled OK; if that part failed, this one fails with the same error without sending.
 * - A failure holds until no send is pending at all ("quiet"): every part that becomes ready in
 *   the meantime, of any key, fails with it instead of sending. The forwarder resends from the
 *   failed batch once everything outstanding settled, so anything sent in between is at best a
 *   duplicate, and at worst overtakes: a send registered AFTER a key's part failed (while the
 *   failed send still waited for its other keys) found no pending predecessor for that key and
 *   went straight through, landing a device's later events ahead of the failed ones. That was seen
 *   once in the chaos clock-jump case. The forwarder's resend after a rewind starts only once every
 *   outstanding send settled, so it is never held back by a failure it is already retrying.
 *
 * - A send counts as pending from `begin()`, before it knows its keys (with `routing: partition`
 *   it first waits for the partition ids): a send that fails there (`fail`) holds its failure the
 *   same way, so the sends queued behind it cannot go out ahead of its events.
 *
 * "Key" here is whatever one AMQP batch is routed by: a partition key, or with `routing: partition`
 * a partition id.
 *
 * Memory: one entry per key with a send pending; an entry is removed when its last send settles.
 * The held failure is dropped when the last pending send is released.
 */

type Outcome = { ok: true } | { ok: false; err: unknown }

/** One key's place in line for one send(). Settle it exactly once. */
export interface KeyTurn {
  /**
   * Resolves when every earlier send of this key settled OK and no send failed since the uplink
   * was last quiet; rejects with that failure, or on abort.
   */
  ready(signal: AbortSignal): Promise<void>
  /** Records how this send's part of the key ended (`undefined`: accepted). Idempotent. */
  settle(err?: unknown): void
}

/** One send()'s place, from `begin()`; call `release` exactly once, when the send settled. */
export interface SendPlace {
  /**
   * Takes a turn for every key of the send, behind earlier pending sends of the same keys. Call at
   * most once; the order of `enter` calls is the order of the sends on the wire.
   */
  enter(keys: Iterable<string>): Map<string, KeyTurn>
  /** The send failed before it entered its keys: its failure is held like a failed turn's. */
  fail(err: unknown): void
  /** The send settled (every turn settled): once no send is pending, a held failure is dropped. */
  release(): void
}

interface Tail {
  done: Promise<Outcome>
}

export class KeyOrder {
  private readonly tails = new Map<string, Tail>()
  /** Sends entered and not released yet. */
  private pendingSends = 0
  /** The first failure since the last quiet moment; fails every part that becomes ready. */
  private held: { err: unknown } | undefined

  /** Number of keys with a send pending (for tests). */
  get pendingKeys(): number {
    return this.tails.size
  }

  /** The failure held since the uplink was last quiet, if any. */
  get heldFailure(): { err: unknown } | undefined {
    return this.held
  }

  /** A send starts: it is pending from now until `release()`. */
  begin(): SendPlace {
    this.pendingSends++
    let released = false
    return {
      enter: (keys) => {
        const turns = new Map<string, KeyTurn>()
        for (const key of keys) turns.set(key, this.turn(key))
        return turns
      },
      fail: (err) => {
        this.held ??= { err }
      },
      release: () => {
        if (released) return
        released = true
        if (--this.pendingSends === 0) this.held = undefined
      },
    }
  }

  /** `begin()` and `enter(keys)` at once (a send that knows its keys). */
  enter(keys: Iterable<string>): { turns: Map<string, KeyTurn>; release: () => void } {
    const place = this.begin()
    return { turns: place.enter(keys), release: place.release }
  }

  private turn(key: string): KeyTurn {
    const previous = this.tails.get(key)?.done
    let resolve!: (o: Outcome) => void
    const tail: Tail = { done: new Promise<Outcome>((r) => (resolve = r)) }
    this.tails.set(key, tail)
    let settled = false
    return {
      ready: async (signal) => {
        if (previous) await waitFor(previous, signal)
        if (this.held) throw this.held.err
      },
      settle: (err) => {
        if (settled) return
        settled = true
        if (err !== undefined) this.held ??= { err }
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
