/**
 * Uplink to Azure Event Hubs over AMQP, with the official SDK's `EventHubProducerClient`.
 *
 * What "ack" means: `send()` resolves once the service ACCEPTED every AMQP batch it sent (that is
 * when `sendBatch` resolves); only then may the forwarder ack (delete) the entries. Events the
 * service refuses for their content (too large; not expressible as AMQP) are returned in
 * `rejected` for dead-lettering, and never hold up the others.
 *
 * What is lost on a crash: nothing that was queued. The producer holds no buffer of its own, so an
 * unsent or unconfirmed event is still in the store and is resent after a restart (same CloudEvent
 * id and AMQP message_id: a duplicate the consumer can drop, never a loss).
 *
 * Failures reject with a classified UplinkError (see classify-error.ts): everything but a refused
 * size is retriable, auth failures included (a rotated key is fixed without losing the queue).
 * No SDK call can hang a send: each runs under `sendTimeoutMs` (op-deadline.ts).
 *
 * Encoding: once this client's link is up, the uplink compares its own AMQP encoding
 * (amqp-wire.ts, encoded-batch.ts) with the installed SDK's; if they agree, events are written
 * by it, else (and until the check ran) by the SDK's tryAdd. The messages are the same either way.
 */
import { setMaxListeners } from 'node:events'
import type { EventHubClientOptions, RetryOptions } from '@azure/event-hubs'
import { UplinkError, GatewayError } from '../../core/errors.js'
import { silentLogger, type Logger } from '../../core/observability.js'
import type { Entry, SendResult, Uplink, UplinkBatchLimits, UplinkHealth } from '../../core/types.js'
import { encodeMessages, splitBatchMessage } from './message-encoder.js'
import { groupByKey, sendGroups, type GuardedCall, type PreparedEvent, type Rejection } from './batch-sender.js'
import { classifyEventHubsError, type ClassifyOptions } from './classify-error.js'
import { batchLimitsOf, type EventHubsUplinkConfig } from './config.js'
import { KeyOrder, type KeyTurn, type SendPlace } from './key-order.js'
import { SendWatch } from './send-watch.js'
import { linkSignals, withDeadline } from './op-deadline.js'
import { compilePartitionKey, type PartitionKeyFn } from './partition-key.js'
import { PartitionRouter } from './partition-routing.js'
import { createProducerClient, defaultSdkRetryOptions, type ProducerClient } from './producer-client.js'
import { checkEncodedBatches } from './encoded-batch.js'

/**
 * Partition keys sent concurrently within one send(); each key stays sequential. Every key costs
 * one round trip per AMQP batch, so with many devices (one key each) a low cap makes a send take
 * ceil(keys / cap) round trips: 100 devices at 8 took ~13 round trips per forwarder batch. Memory
 * does not grow with it: the bytes of one send are bounded by the forwarder batch (`maxBytes`).
 * 32 keeps the AMQP deliveries outstanding on the link (at most 32 × maxInFlight) well within
 * the link credit the service grants.
 */
const KEY_CONCURRENCY = 32

export interface EventHubsUplinkOptions {
  /** @default silentLogger */
  logger?: Logger
  /** Replaces fields of the SDK retry policy (tests shorten delays). @default defaultSdkRetryOptions(sendTimeoutMs) */
  sdkRetryOptions?: Partial<RetryOptions>
  /** Builds the producer. A seam for tests. @default createProducerClient */
  createProducer?: (config: EventHubsUplinkConfig, options: EventHubClientOptions) => ProducerClient
  /** Called whenever the recorded health changes (the uplink thread forwards it to the gateway's loop). */
  onHealthChange?: (health: UplinkHealth) => void
  /** Outstanding sends with nothing confirmed for this long make health "not connected" (send-watch.ts). @default 5000 */
  stallMs?: number
}

export class EventHubsUplink implements Uplink {
  readonly type = 'eventhubs'
  readonly id: string
  readonly limits: UplinkBatchLimits
  private readonly log: Logger
  private readonly keyOf: PartitionKeyFn
  private readonly classifyOptions: ClassifyOptions
  private client: ProducerClient | undefined
  private stopController = new AbortController()
  /** Outcome bookkeeping: only the newest operation may set health. */
  private opSeq = 0
  private recordedSeq = 0
  private state: UplinkHealth = { connected: false, detail: 'not started' }
  /** Per-key order across the forwarder's concurrent sends (key-order.ts). */
  private readonly keyOrder = new KeyOrder()
  private readonly watch: SendWatch
  /** `routing: partition` only: partition ids and the key → partition map (partition-routing.ts). */
  private router: PartitionRouter | undefined
  /**
   * Sends wait for the router in call order (a chain), so that they still enter the key order in
   * the order the forwarder called them even when one of them had to fetch the partition ids.
   */
  private routeChain: Promise<void> = Promise.resolve()
  /**
   * Whether sends encode events themselves (encoded-batch.ts): undefined until this client's
   * batches were compared with the SDK's, then fixed until the next start.
   */
  private ownEncoding: boolean | undefined
  private encodingCheck: Promise<void> | undefined

  constructor(
    private readonly config: EventHubsUplinkConfig,
    private readonly options: EventHubsUplinkOptions = {},
  ) {
    this.id = config.id
    this.limits = batchLimitsOf(config)
    this.log = (options.logger ?? silentLogger).child({ component: 'uplink', uplink: config.id, type: 'eventhubs' })
    this.keyOf = compilePartitionKey(config.partitionKey)
    this.classifyOptions = { authRetryMs: config.retryMaxMs, maxRetryAfterMs: config.retryMaxMs }
    this.watch = new SendWatch(options.stallMs)
  }

  /**
   * Creates the producer and opens the send link in the background (so health shows an auth or
   * network problem before the first event). Never throws for an unreachable or refusing peer;
   * throws GatewayError(GW_ERR_CONFIG) only if the SDK cannot parse the connection settings.
   */
  async start(): Promise<void> {
    if (this.client) return
    const sdkOptions: EventHubClientOptions = {
      retryOptions: { ...defaultSdkRetryOptions(this.config.sendTimeoutMs), ...this.options.sdkRetryOptions },
      userAgent: 'edge-gateway',
    }
    try {
      this.client = (this.options.createProducer ?? createProducerClient)(this.config, sdkOptions)
    } catch (err) {
      // The SDK's message does not echo the secret; ours names only the uplink.
      throw new GatewayError('GW_ERR_CONFIG', `uplink ${this.id}: invalid Event Hubs connection settings`, { cause: err })
    }
    this.stopController = new AbortController()
    setMaxListeners(0, this.stopController.signal) // one listener per outstanding send (linkSignals)
    const client = this.client
    this.router = this.config.routing === 'partition' ? this.partitionRouter(client) : undefined
    this.routeChain = Promise.resolve()
    this.ownEncoding = undefined
    this.encodingCheck = undefined
    this.setState({ connected: false, detail: 'connecting' })
    void this.warmUp(client)
  }

  /** Closes the connection. Outstanding sends reject with a retriable UplinkError (`stopped`). */
  async stop(): Promise<void> {
    const client = this.client
    if (!client) return
    this.client = undefined
    this.stopController.abort(new Error('uplink stopping'))
    this.setState({ connected: false, detail: 'stopped' })
    try {
      await withDeadline('close', this.config.sendTimeoutMs, [], () => client.close())
    } catch (err) {
      this.log.warn({ err }, 'closing the Event Hubs client failed')
    }
  }

  /**
   * Resolves once the service accepted every entry not in `rejected`. Rejects with an UplinkError:
   * retriable for everything transient or fixable (disconnected, timeout, throttled with
   * `retryAfterMs`, unauthorized with a slow `retryAfterMs`, stopped); never for a whole batch
   * because of one bad event (that one is in `rejected`).
   */
  async send(batch: Entry[], signal: AbortSignal): Promise<SendResult> {
    const client = this.client
    if (!client) throw new UplinkError('stopped', `uplink ${this.id} is not running`, { retriable: true })
    // Taken before anything is awaited: a stop and start meanwhile must not relabel this send.
    const stopSignal = this.stopController.signal
    const router = this.router
    const seq = ++this.opSeq
    // Pending from here: a send that fails before it knows its keys holds its failure too.
    const place = this.keyOrder.begin()
    const scope = linkSignals([signal, stopSignal])
    const watchToken = this.watch.begin()
    let turns = new Map<string, KeyTurn>()
    let confirmed = false
    try {
      if (router) await this.routerReady(router, place)
      const routeOf = router ? (e: Entry): string => router.routeOf(this.keyOf(e)) : this.keyOf
      const rejected: Rejection[] = []
      const groups = new Map<string, PreparedEvent[]>()
      for (const [route, entries] of groupByKey(batch, routeOf)) {
        const messages = encodeMessages(entries, this.config, rejected)
        if (messages.length > 0) groups.set(route, messages)
      }
      if (groups.size > 0) {
        // Synchronously after the router's chain (which keeps call order): the place in line per
        // key (per partition with routing: partition) is the order the forwarder called send().
        turns = place.enter(groups.keys())
        const target = router ? (route: string) => router.targetOf(route) : undefined
        const call = this.guardedCall([scope.signal])
        // Decided at warm-up; if the link was down then, checked in the background meanwhile.
        if (this.ownEncoding === undefined) void this.checkEncoding(client)
        const ownEncoding = this.ownEncoding === true
        const options = { producer: client, call, concurrency: KEY_CONCURRENCY, turns, signal: scope.signal, split: splitBatchMessage, target, ownEncoding }
        rejected.push(...(await sendGroups(groups, options)))
        confirmed = true
        this.record(seq, undefined)
      }
      if (rejected.length > 0) {
        const reasons = [...new Set(rejected.map((r) => r.reason))]
        this.log.warn({ code: 'GW_ERR_UPLINK_REJECTED', rejected: rejected.length, reasons }, 'events refused for their content')
      }
      return { rejected }
    } catch (err) {
      place.fail(err)
      const failure = stopSignal.aborted
        ? new UplinkError('stopped', `uplink ${this.id} stopped during a send`, { retriable: true, cause: err })
        : classifyEventHubsError(err, this.classifyOptions)
      this.record(seq, failure)
      throw failure
    } finally {
      this.watch.end(watchToken, confirmed)
      scope.dispose()
      // sendGroups settles every turn; this only guards the key order against an unexpected throw
      // (an unsettled turn would hold that device back until the next stop). settle is idempotent.
      for (const turn of turns.values()) turn.settle(new Error('send ended before this partition key settled'))
      place.release()
    }
  }

  /**
   * How this client's events are encoded: `gateway` (encoded-batch.ts), `sdk` (its tryAdd), or
   * `unchecked` until the two were compared on this link.
   */
  get encoding(): 'gateway' | 'sdk' | 'unchecked' {
    return this.ownEncoding === undefined ? 'unchecked' : this.ownEncoding ? 'gateway' : 'sdk'
  }

  /**
   * `connected` reflects the last completed operation (warm-up or send), and turns false while
   * sends wait with nothing confirmed for `stallMs` (send-watch.ts).
   */
  health(): UplinkHealth {
    return this.watch.apply({ ...this.state })
  }

  /**
   * Waits, in call order, until the router can route. A send queued behind a failure (held by the
   * key order until no send is pending) fails with it without asking the hub again: the forwarder
   * resends from the failed batch, and a later send must not go out ahead of it.
   */
  private async routerReady(router: PartitionRouter, place?: SendPlace): Promise<void> {
    const mine = this.routeChain.then(async () => {
      const held = this.keyOrder.heldFailure
      if (held) throw held.err
      try {
        await router.ready()
      } catch (err) {
        // Held before this link settles: the next send's link runs as soon as it does, before
        // this send's own catch would get to it.
        place?.fail(err)
        throw err
      }
    })
    this.routeChain = mine.catch(() => undefined)
    await mine
  }

  /** `routing: partition`: reads the ids under the deadline; falls back to keys if the hub will not tell them. */
  private partitionRouter(client: ProducerClient): PartitionRouter {
    return new PartitionRouter(
      () => this.guardedCall([this.stopController.signal])('getPartitionIds', (signal) => client.getPartitionIds({ abortSignal: signal })),
      {
        refusedIds: (err) => classifyEventHubsError(err, this.classifyOptions).reason === 'unauthorized',
        onFallback: (err) => this.log.warn(
          { err: String((err as Error)?.message ?? err) },
          'routing: partition needs to read the hub\'s partitions, which this policy may not (Listen claim); ' +
            'sending by partition key instead: each device stays on the same partition, in AMQP batches per device',
        ),
      },
    )
  }

  private guardedCall(parents: readonly AbortSignal[]): GuardedCall {
    return (what, op) => withDeadline(what, this.config.sendTimeoutMs, parents, op)
  }

  /**
   * Compares our own batch encoding with the SDK's on this client's link, once (encoded-batch.ts).
   * Never throws: if the link is not up, nothing is decided and the next send asks again; until
   * then sends use the SDK's encoding.
   */
  private checkEncoding(client: ProducerClient): Promise<void> {
    // A send still running on a client that was stopped meanwhile must not start (and then
    // leave behind) a check of the closed client.
    if (this.client !== client) return Promise.resolve()
    if (this.encodingCheck) return this.encodingCheck
    let check: Promise<void> | undefined
    check = (async (): Promise<void> => {
      try {
        const call = this.guardedCall([this.stopController.signal])
        const differs = await checkEncodedBatches((target) => call('createBatch', (signal) => client.createBatch({ ...target, abortSignal: signal })))
        if (this.client !== client) return // stopped meanwhile; the next start checks again
        this.ownEncoding = differs === undefined
        if (differs === undefined) {
          this.log.info({ encoding: 'gateway' }, 'encoding events directly: the same AMQP bytes as the SDK\'s batches, checked on this link')
        } else {
          this.log.warn({ differs }, 'this Event Hubs SDK batches events differently from what the gateway expects; ' +
            'using the SDK\'s own encoding (same messages, more CPU per event)')
        }
      } catch {
        // createBatch failed: the link is not up. Undecided; the next send asks again.
        if (this.encodingCheck === check) this.encodingCheck = undefined
      }
    })()
    this.encodingCheck = check
    return check
  }

  /** Opens the link (CBS auth + attach) by creating and discarding an empty batch. Never throws. */
  private async warmUp(client: ProducerClient): Promise<void> {
    const seq = ++this.opSeq
    try {
      await this.guardedCall([this.stopController.signal])('connect', (signal) =>
        client.createBatch({ partitionKey: 'edge-gateway-warm-up', abortSignal: signal }))
      if (this.router) await this.routerReady(this.router)
      await this.checkEncoding(client)
      this.record(seq, undefined)
    } catch (err) {
      if (!this.stopController.signal.aborted) this.record(seq, classifyEventHubsError(err, this.classifyOptions))
    }
  }

  private record(seq: number, failure: UplinkError | undefined): void {
    // A cancelled send says nothing about the peer; a late result must not overwrite a newer one.
    if (failure?.reason === 'aborted' || failure?.reason === 'stopped' || seq < this.recordedSeq) return
    this.recordedSeq = seq
    if (!failure) {
      if (!this.state.connected) {
        this.log.info('Event Hubs reachable, sends confirmed')
        this.setState({ connected: true })
      }
      return
    }
    const detail =
      failure.reason === 'unauthorized'
        ? `unauthorized: credentials refused (wrong or rotated key, or no Send claim); retrying every ${Math.round(this.config.retryMaxMs / 1000)} s, nothing is dropped. ${failure.message}`
        : `${failure.reason}: ${failure.message}`
    if (detail !== this.state.detail) {
      this.log.warn({ code: failure.code, reason: failure.reason, retryAfterMs: failure.retryAfterMs }, detail)
    }
    this.setState({ connected: false, detail })
  }

  private setState(state: UplinkHealth): void {
    const changed = state.connected !== this.state.connected || state.detail !== this.state.detail
    this.state = state
    if (changed) this.options.onHealthChange?.({ ...state })
  }
}
