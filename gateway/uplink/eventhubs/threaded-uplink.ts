/**
 * The Event Hubs uplink on a thread of its own: the same EventHubsUplink, run by uplink-thread.ts
 * in a worker thread, behind this proxy that implements `Uplink` on the gateway's event loop.
 *
 * Why: sending (AMQP encoding, the SDK's per-batch work, rhea's framing and socket writes, and
 * their garbage) is a large part of the gateway's CPU per event; it was about half before the
 * uplink encoded events itself (amqp-wire.ts). On the gateway's loop that work competes with
 * ingest, the store and the admin endpoint; on its own thread it runs on another core (a Pi has
 * four), and its garbage is collected in its own heap.
 *
 * Invariants (the same contract as EventHubsUplink; the forwarder cannot tell them apart):
 * - send() resolves only after the thread reported that the service accepted every entry not in
 *   `rejected`; the entries in `rejected` are the caller's own objects.
 * - Every failure is an UplinkError or GatewayError rebuilt with its reason, retriable flag and
 *   suggested wait (thread-protocol.ts). If the thread dies, every pending send fails retriable
 *   (`uplink_thread_exited`) and the next send starts a new thread: nothing is lost, because nothing
 *   is held there (the entries are still in the store, unacked).
 * - An abort of the caller's signal is passed on; the send then fails as the uplink decides.
 * - health() is the uplink's own health as last reported by the thread (pushed on every change),
 *   turned "not connected" while sends wait here with nothing confirmed (send-watch.ts).
 */
import { Worker } from 'node:worker_threads'
import { compiledScript } from '../../core/compiled-script.js'
import { GatewayError, UplinkError } from '../../core/errors.js'
import { silentLogger, type Logger } from '../../core/observability.js'
import type { Entry, SendResult, Uplink, UplinkBatchLimits, UplinkHealth } from '../../core/types.js'
import { batchLimitsOf, type EventHubsUplinkConfig } from './config.js'
import { SendWatch } from './send-watch.js'
import { fromWireError, type FromThread, type ThreadData, type ToThread } from './thread-protocol.js'

interface PendingSend {
  batch: Entry[]
  resolve: (result: SendResult) => void
  reject: (err: Error) => void
  detach: () => void
}

export interface ThreadedEventHubsUplinkOptions {
  /** @default silentLogger */
  logger?: Logger
  /** Replaces fields of the SDK retry policy in the thread (tests shorten delays). */
  sdkRetryOptions?: ThreadData['sdkRetryOptions']
  /** As EventHubsUplinkOptions.stallMs; watched here, where the sends are outstanding. @default 5000 */
  stallMs?: number
}

export class ThreadedEventHubsUplink implements Uplink {
  readonly type = 'eventhubs'
  readonly id: string
  readonly limits: UplinkBatchLimits
  private readonly log: Logger
  private worker: Worker | undefined
  private running = false
  private nextSendId = 1
  private readonly pending = new Map<number, PendingSend>()
  private readonly watch: SendWatch
  private state: UplinkHealth = { connected: false, detail: 'not started' }
  private started: { resolve: () => void; reject: (err: Error) => void } | undefined
  private stopped: (() => void) | undefined
  /** The thread being started, so that concurrent sends after a thread exit start one, not several. */
  private spawning: Promise<void> | undefined

  constructor(
    private readonly config: EventHubsUplinkConfig,
    private readonly options: ThreadedEventHubsUplinkOptions = {},
  ) {
    this.id = config.id
    this.limits = batchLimitsOf(config)
    this.log = (options.logger ?? silentLogger).child({ component: 'uplink', uplink: config.id, type: 'eventhubs', thread: 'uplink' })
    this.watch = new SendWatch(options.stallMs)
  }

  /** Starts the thread and the uplink in it. Throws GatewayError(GW_ERR_CONFIG) like EventHubsUplink. */
  async start(): Promise<void> {
    if (this.running) return
    this.running = true
    try {
      await this.ensureThread()
    } catch (err) {
      this.running = false
      await this.worker?.terminate()
      throw err
    }
  }

  async stop(): Promise<void> {
    if (!this.running) return
    this.running = false
    const worker = this.worker
    if (!worker) return
    // The uplink closes its connection and fails its outstanding sends (retriable) first.
    const done = new Promise<void>((resolve) => (this.stopped = resolve))
    this.post({ type: 'stop' })
    const deadline = setTimeout(() => this.stopped?.(), this.config.sendTimeoutMs)
    await done
    clearTimeout(deadline)
    this.stopped = undefined
    await worker.terminate()
    this.state = { connected: false, detail: 'stopped' }
  }

  async send(batch: Entry[], signal: AbortSignal): Promise<SendResult> {
    if (!this.running) throw new UplinkError('stopped', `uplink ${this.id} is not running`, { retriable: true })
    if (!this.worker || this.spawning) await this.ensureThread()
    const sendId = this.nextSendId++
    return new Promise<SendResult>((resolve, reject) => {
      const onAbort = (): void => {
        const reason = signal.reason instanceof Error ? signal.reason.message : 'aborted'
        this.post({ type: 'abort', sendId, reason })
      }
      signal.addEventListener('abort', onAbort, { once: true })
      const watchToken = this.watch.begin()
      this.pending.set(sendId, {
        batch,
        resolve: (result) => {
          this.watch.end(watchToken, true)
          resolve(result)
        },
        reject: (err) => {
          this.watch.end(watchToken, false)
          reject(err)
        },
        detach: () => signal.removeEventListener('abort', onAbort),
      })
      this.post({ type: 'send', sendId, batch })
      if (signal.aborted) onAbort()
    })
  }

  health(): UplinkHealth {
    return this.watch.apply({ ...this.state })
  }

  private ensureThread(): Promise<void> {
    this.spawning ??= this.spawn().finally(() => (this.spawning = undefined))
    return this.spawning
  }

  private async spawn(): Promise<void> {
    const data: ThreadData = { config: this.config }
    if (this.options.sdkRetryOptions) data.sdkRetryOptions = this.options.sdkRetryOptions
    const worker = new Worker(compiledScript(import.meta.url, 'uplink-thread.js'), { workerData: data, name: `uplink:${this.id}` })
    this.worker = worker
    worker.on('message', (message: FromThread) => this.onMessage(message))
    worker.on('error', (err) => this.log.error({ code: 'GW_ERR_UPLINK_UNAVAILABLE', err }, 'uplink thread failed'))
    worker.on('exit', (code) => this.onExit(worker, code))
    const started = new Promise<void>((resolve, reject) => (this.started = { resolve, reject }))
    this.post({ type: 'start' })
    try {
      await started
    } finally {
      this.started = undefined
    }
  }

  private post(message: ToThread): void {
    this.worker?.postMessage(message)
  }

  private onMessage(message: FromThread): void {
    switch (message.type) {
      case 'started':
        if (message.error) this.started?.reject(fromWireError(message.error))
        else this.started?.resolve()
        return
      case 'sent':
      case 'failed': {
        const send = this.pending.get(message.sendId)
        if (!send) return
        this.pending.delete(message.sendId)
        send.detach()
        if (message.type === 'failed') send.reject(fromWireError(message.error))
        else send.resolve({ rejected: message.rejected.map((r) => ({ entry: send.batch[r.index]!, reason: r.reason, message: r.message })) })
        return
      }
      case 'health':
        this.state = message.health
        return
      case 'log':
        this.log[message.level](message.obj, message.msg)
        return
      case 'stopped':
        this.stopped?.()
        return
    }
  }

  /** The thread ended: expected after stop(); otherwise its sends fail retriable and the next send restarts it. */
  private onExit(worker: Worker, code: number): void {
    if (this.worker !== worker) return
    this.worker = undefined
    this.stopped?.()
    const failure = new UplinkError('uplink_thread_exited', `uplink ${this.id}: its thread exited (code ${code})`, { retriable: true })
    this.started?.reject(this.running ? failure : new GatewayError('GW_ERR_UPLINK_UNAVAILABLE', failure.message))
    for (const [sendId, send] of this.pending) {
      this.pending.delete(sendId)
      send.detach()
      send.reject(failure)
    }
    if (this.running) {
      this.log.error({ code: 'GW_ERR_UPLINK_UNAVAILABLE', exitCode: code }, 'uplink thread exited; the next send starts a new one, nothing queued is lost')
      this.state = { connected: false, detail: `uplink thread exited (code ${code}); restarting on the next send` }
    }
  }
}
