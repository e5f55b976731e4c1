/**
 * Forwarder: moves one uplink's share of the store to its peer. One forwarder per uplink, each
 * with its own store cursor, so a slow or absent uplink never holds another back.
 *
 * Invariants:
 * - An entry is acked (and so eventually deleted) only after `uplink.send` resolved for it, i.e.
 *   the peer confirmed it (MQTT PUBACK < 0x80, Event Hubs sendBatch). Entries the peer refused
 *   permanently are moved to the dead-letter area, never silently dropped.
 * - At most `limits.maxInFlight` batches are outstanding. Acks happen strictly in read order
 *   (head of line), so the persisted cursor never passes an unconfirmed entry.
 * - Batching: with nothing in flight, a partial batch waits up to `lingerMs` for company. With a
 *   batch in flight, the next one is launched as soon as a full batch (maxEvents) waits, else once
 *   the head settled, with whatever arrived meanwhile (fillWhileBusy). `lingerMs: 0` launches
 *   whatever waits at once.
 * - No batch is launched once an outstanding one failed, even one read while it failed: it would
 *   reach the peer ahead of the failed entries. Such a batch is kept, not dropped: a failure that
 *   ends in the dead-letter area is followed by no rewind, and the store would not read it again.
 * - On a retriable failure the forwarder lets every outstanding batch settle, acks the confirmed
 *   prefix, rewinds the store's read position to the ack cursor and resends from there, in order,
 *   after a full-jitter backoff. Entries after the failed batch that had been confirmed are sent
 *   again: duplicates are bounded by the in-flight window (maxInFlight × maxEvents), and order per
 *   device is kept on the wire.
 * - Memory: at most maxInFlight batches of at most maxEvents entries are held, plus one read while
 *   a send failed and kept unsent (`unsent`) until the failure is dealt with.
 *
 * On a crash, confirmed-but-not-yet-acked entries are sent again after restart (same CloudEvent
 * id and sequence), never lost.
 */
import { setMaxListeners } from 'node:events'
import type { Entry, SendResult, Store, Uplink } from '../core/types.js'
import { UplinkError } from '../core/errors.js'
import { Backoff } from '../core/backoff.js'
import { sleep } from '../core/abort.js'
import type { Logger } from '../core/observability.js'
import type { PipelineMetrics } from './pipeline-metrics.js'

export interface ForwarderOptions {
  uplink: Uplink
  store: Store
  metrics: PipelineMetrics
  log: Logger
  /** Retry backoff: first cap and largest cap, ms. @default 250 / 30000 */
  retryInitialMs?: number
  retryMaxMs?: number
}

export type ForwarderState = 'idle' | 'sending' | 'backoff' | 'stopped'

interface InFlight {
  batch: Entry[]
  done: Promise<{ ok: true; result: SendResult } | { ok: false; err: unknown }>
  /** Set as soon as the send failed, before the batch reaches the head of the line. */
  failed: boolean
}

export class Forwarder {
  private readonly backoff: Backoff
  private readonly inFlight: InFlight[] = []
  private readonly abort = new AbortController()
  private loop: Promise<void> | undefined
  private stopping = false
  state: ForwarderState = 'idle'
  /** Time of the loop's last sign of life, for the watchdog. */
  lastHeartbeatMs = performance.now()
  /** Last send failure, for /healthz and status. */
  lastError: string | undefined

  constructor(private readonly opts: ForwarderOptions) {
    this.backoff = new Backoff({ initialMs: opts.retryInitialMs ?? 250, maxMs: opts.retryMaxMs ?? 30_000 })
    // Every outstanding send listens on this signal (one listener each, removed when it settles):
    // with maxInFlight above 10 Node would warn of a leak that is not one.
    setMaxListeners(0, this.abort.signal)
  }

  get uplinkId(): string {
    return this.opts.uplink.id
  }

  start(): void {
    this.loop ??= this.runResilient()
  }

  /**
   * A store failure (disk full, I/O error) must not end forwarding for the life of the process:
   * the loop logs it (at most every 30 s), lets what is on the wire settle, rewinds and tries again
   * after a backoff. Sends keep going even when acks cannot be written (at-least-once: those
   * entries are sent again later, never lost).
   */
  private async runResilient(): Promise<void> {
    const backoff = new Backoff({ initialMs: 1000, maxMs: 30_000 })
    let lastLogMs = -Infinity
    let suppressed = 0
    while (!this.stopping) {
      try {
        await this.run()
        return
      } catch (err) {
        this.lastError = err instanceof Error ? err.message : String(err)
        if (performance.now() - lastLogMs >= 30_000) {
          this.opts.log.error({ err, code: (err as { code?: string }).code, suppressed }, 'forwarder failed on the store; retrying')
          lastLogMs = performance.now()
          suppressed = 0
        } else {
          suppressed++
        }
        this.state = 'backoff'
        await this.discardOutstanding()
        this.unsent = undefined
        try {
          this.opts.store.rewind(this.uplinkId)
        } catch {
          // store closed: the stop that closed it ends the loop
        }
        await this.sleepAlive(backoff.next(), this.abort.signal)
      }
    }
  }

  /**
   * Stops reading new batches, gives outstanding sends `graceMs` to be confirmed (and acks them),
   * then aborts the rest; those entries stay in the store and are sent after the next start.
   */
  async stop(graceMs = 5000): Promise<void> {
    this.stopping = true
    const timer = setTimeout(() => this.abort.abort(), graceMs)
    await this.loop
    clearTimeout(timer)
    this.abort.abort()
    this.state = 'stopped'
  }

  private async run(): Promise<void> {
    const signal = this.abort.signal
    while (!this.stopping) {
      this.lastHeartbeatMs = performance.now()
      // A failed send anywhere in the window stops new launches: a batch sent after it could
      // overtake it (e.g. refused while connecting, then the link comes up). Settle in order and
      // resend from the failure instead.
      if (this.inFlight.length >= this.opts.uplink.limits.maxInFlight || this.inFlight.some((f) => f.failed)) {
        if (!(await this.settleHead())) await this.recover(signal)
        continue
      }
      let batch = this.unsent
      this.unsent = undefined
      if (!batch && this.inFlight.length > 0 && this.opts.uplink.limits.lingerMs > 0) {
        const filled = await this.fillWhileBusy(signal)
        if (filled === 'failed' || filled === 'stopping') continue // dealt with at the top
        if (filled === 'head-settled') {
          if (!(await this.settleHead())) {
            await this.recover(signal)
            continue
          }
          // No linger now: the events had their wait for company while the head was out.
          batch = await this.read()
        }
      }
      batch ??= await this.nextBatch(signal)
      if (this.inFlight.length > 0) {
        // A send may have failed while the store read (or at once, not connected): launching now
        // would put later events on the wire ahead of the failed ones (the uplink's per-key order
        // only covers sends still pending). The yield lets a rejection that settled in the same
        // turn as the read mark its batch first. The batch waits in `unsent`: it is re-read after
        // the rewind, or sent first if the failure was dead-lettered (no rewind follows that).
        await new Promise((resolve) => setImmediate(resolve))
        if (this.inFlight.some((f) => f.failed)) {
          if (batch.length > 0) this.unsent = batch
          continue
        }
      }
      if (batch.length === 0) {
        if (this.inFlight.length > 0) {
          if (!(await this.settleHead())) await this.recover(signal)
        } else {
          this.state = 'idle'
          await this.waitForWork(signal)
        }
        continue
      }
      this.launch(batch, signal)
    }
    // Graceful stop: let what is on the wire be confirmed so it is not resent needlessly.
    while (this.inFlight.length > 0) {
      if (!(await this.settleHead())) break
    }
    await this.discardOutstanding()
  }

  private launch(batch: Entry[], signal: AbortSignal): void {
    this.state = 'sending'
    const started = performance.now()
    const entry: InFlight = { batch, done: undefined as never, failed: false }
    entry.done = this.opts.uplink.send(batch, signal).then(
      (result) => {
        this.opts.metrics.sendBatch(this.uplinkId, (performance.now() - started) / 1000, batch.length)
        return { ok: true as const, result }
      },
      (err: unknown) => {
        entry.failed = true
        this.onFailure?.()
        return { ok: false as const, err }
      },
    )
    this.inFlight.push(entry)
  }

  /** Settles the oldest outstanding batch. Returns false when it failed retriably. */
  private async settleHead(): Promise<boolean> {
    const head = this.inFlight[0]!
    const outcome = await head.done
    this.inFlight.shift()
    if (outcome.ok) {
      await this.confirmed(head.batch, outcome.result)
      return true
    }
    return this.failed(head.batch, outcome.err)
  }

  private async confirmed(batch: Entry[], result: SendResult): Promise<void> {
    const { store, metrics, log } = this.opts
    const refused = new Set(result.rejected.map((r) => r.entry))
    for (const r of result.rejected) {
      metrics.dropped('dead_letter', 1, { uplink: this.uplinkId })
      log.warn({ code: 'GW_ERR_UPLINK_REJECTED', reason: r.reason, id: r.entry.id, bytes: r.entry.sizeBytes }, `peer refused event: ${r.message}`)
      await store.deadLetter(this.uplinkId, [r.entry], r.reason, r.message)
    }
    const acked = refused.size === 0 ? batch : batch.filter((e) => !refused.has(e))
    await store.ack(this.uplinkId, acked)
    metrics.forwarded(this.uplinkId, acked.length)
    this.backoff.reset()
    this.lastError = undefined
  }

  /** Handles a failed head batch. Returns true when it was dealt with (dead-lettered). */
  private async failed(batch: Entry[], err: unknown): Promise<boolean> {
    const uerr = asUplinkError(err)
    if (!uerr.retriable) {
      this.opts.metrics.dropped('dead_letter', batch.length, { uplink: this.uplinkId })
      this.opts.log.error({ code: uerr.code, reason: uerr.reason, events: batch.length, err: uerr }, 'peer refused batch; dead-lettered')
      await this.opts.store.deadLetter(this.uplinkId, batch, uerr.reason, uerr.message)
      return true
    }
    this.lastError = uerr.message
    this.opts.metrics.sendRetry(this.uplinkId, uerr.reason)
    this.retryAfterMs = uerr.retryAfterMs
    this.lastReason = uerr.reason
    return false
  }

  private retryAfterMs: number | undefined
  private lastReason: string | undefined
  /**
   * A batch read while an outstanding send failed and not launched (see run()). Sent first once
   * no failure is outstanding; dropped by a rewind, which makes the store read it again.
   */
  private unsent: Entry[] | undefined

  /**
   * After a retriable failure: let everything outstanding settle without acking it (acking past
   * the failure would skip the failed entries), rewind to the ack cursor and wait before resending.
   * When the link is merely down, the wait ends as soon as the uplink reports it reconnected (the
   * uplink's own reconnect already backs off with jitter), so a drain starts right after an outage.
   */
  private async recover(signal: AbortSignal): Promise<void> {
    await this.discardOutstanding()
    this.unsent = undefined
    this.opts.store.rewind(this.uplinkId)
    const waitMs = Math.max(this.backoff.next(), this.retryAfterMs ?? 0)
    const untilReconnect = this.lastReason === 'disconnected' && this.retryAfterMs === undefined
    this.retryAfterMs = undefined
    this.state = 'backoff'
    this.opts.metrics.backoff(this.uplinkId, waitMs)
    this.opts.log.debug({ code: 'GW_ERR_UPLINK_UNAVAILABLE', waitMs, attempt: this.backoff.attempts, detail: this.lastError }, 'send failed; retrying')
    const waitStarted = performance.now()
    if (untilReconnect) await this.waitUntilConnected(waitMs, signal)
    else await this.sleepAlive(waitMs, signal)
    this.opts.metrics.backoff(this.uplinkId, 0)
    this.opts.metrics.backoffWaited(this.uplinkId, performance.now() - waitStarted)
  }

  private async waitUntilConnected(maxMs: number, signal: AbortSignal): Promise<void> {
    const deadline = performance.now() + Math.max(maxMs, 1000)
    while (!signal.aborted && performance.now() < deadline && !this.opts.uplink.health().connected) {
      this.lastHeartbeatMs = performance.now()
      await sleep(100, signal)
    }
  }

  /**
   * A deliberate wait keeps the heartbeat fresh (a backoff is not a hang). Waiting on a send does
   * not: the uplink bounds every send by its own timeout, so a send that never settles is a hang
   * the watchdog should see.
   */
  private async sleepAlive(ms: number, signal: AbortSignal): Promise<void> {
    const until = performance.now() + ms
    while (!signal.aborted && performance.now() < until) {
      this.lastHeartbeatMs = performance.now()
      await sleep(Math.min(1000, until - performance.now()), signal)
    }
  }

  /** Waits for every outstanding send to settle and forgets them; their entries will be re-read. */
  private async discardOutstanding(): Promise<void> {
    const rest = this.inFlight.splice(0)
    await Promise.all(rest.map((f) => f.done))
  }

  /**
   * While a batch is out, waits until a full batch (maxEvents) is waiting in the store, the head
   * batch settled, a send failed, or the forwarder stops, whichever comes first.
   *
   * Why: launching whatever is waiting at once splits a steady stream into many small batches
   * (each the events that arrived during part of a round trip), and every batch costs the uplink
   * per message, not per event: an Event Hubs batch is one AMQP message per partition key, ~75 µs
   * of CPU however few events it carries. Waiting for the head keeps the link busy (the head is
   * on it) and adds at most one round trip of latency; a backlog (a full batch waiting) still
   * fills the whole in-flight window at once.
   */
  private async fillWhileBusy(signal: AbortSignal): Promise<'full' | 'head-settled' | 'failed' | 'stopping'> {
    const { store, uplink } = this.opts
    const head = this.inFlight[0]!
    let headSettled = false
    const settled = head.done.then(() => (headSettled = true))
    const failed = new Promise<void>((resolve) => (this.onFailure = resolve))
    const wake = new AbortController()
    const onAbort = (): void => wake.abort()
    signal.addEventListener('abort', onAbort, { once: true })
    try {
      let waitForAppends = true
      for (;;) {
        if (this.stopping || signal.aborted) return 'stopping'
        if (this.inFlight.some((f) => f.failed)) return 'failed'
        if (headSettled) return 'head-settled'
        const unread = store.unread(this.uplinkId)
        if (unread >= uplink.limits.maxEvents) return 'full'
        if (!waitForAppends) {
          await Promise.race([settled, failed])
          continue
        }
        await Promise.race([settled, failed, store.waitForAppend(wake.signal)])
        // A closing store answers waitForAppend at once: waiting on it again would spin without
        // ever yielding to the I/O that settles the head. With nothing new to read, wait for the
        // head (or a failure) alone.
        if (!headSettled && store.unread(this.uplinkId) === unread) waitForAppends = false
      }
    } finally {
      this.onFailure = undefined
      signal.removeEventListener('abort', onAbort)
      wake.abort() // ends the pending waitForAppend
    }
  }

  /** Told when any outstanding send fails (fillWhileBusy waits for it). */
  private onFailure: (() => void) | undefined

  private read(): Promise<Entry[]> {
    const { maxEvents, maxBytes } = this.opts.uplink.limits
    return this.opts.store.read(this.uplinkId, maxEvents, maxBytes)
  }

  private async nextBatch(signal: AbortSignal): Promise<Entry[]> {
    const { maxEvents, maxBytes, lingerMs } = this.opts.uplink.limits
    const first = await this.read()
    if (first.length === 0 || first.length >= maxEvents || lingerMs === 0) return first
    // A partial batch: wait a little for company, unless enough is already in flight to keep the
    // link busy (lingering then only adds latency).
    if (this.inFlight.length > 0) return first
    await sleep(lingerMs, signal)
    const bytes = first.reduce((n, e) => n + e.sizeBytes, 0)
    if (bytes >= maxBytes) return first
    const more = await this.opts.store.read(this.uplinkId, maxEvents - first.length, maxBytes - bytes)
    return first.concat(more)
  }

  private async waitForWork(signal: AbortSignal): Promise<void> {
    // Wake up at least once a second so the heartbeat proves the loop is alive.
    const tick = new AbortController()
    const timer = setTimeout(() => tick.abort(), 1000)
    const onAbort = (): void => tick.abort()
    signal.addEventListener('abort', onAbort, { once: true })
    await this.opts.store.waitForAppend(tick.signal)
    clearTimeout(timer)
    signal.removeEventListener('abort', onAbort)
  }
}

function asUplinkError(err: unknown): UplinkError {
  if (err instanceof UplinkError) return err
  // Anything unclassified is treated as transient: retrying is always safe, dropping is not.
  const message = err instanceof Error ? err.message : String(err)
  return new UplinkError('unknown', message || 'send failed', { retriable: true, cause: err })
}
