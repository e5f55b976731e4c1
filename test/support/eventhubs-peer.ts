/**
 * A local AMQP 1.0 peer that the real `@azure/event-hubs` producer talks to, via a connection
 * string with `UseDevelopmentEmulator=true` (plain TCP on loopback, no TLS).
 *
 * It does just enough of the service for a producer: SASL ANONYMOUS/PLAIN, `$cbs` put-token,
 * `$management` READ, and a receiving link for the hub (and `hub/Partitions/N`) that advertises
 * `max_message_size` on attach (without it `createBatch().maxSizeInBytes` is undefined and batches
 * are unbounded). Deliveries are settled by hand: accepted (which is what resolves `sendBatch`),
 * or rejected with `com.microsoft:server-busy` / `amqp:link:message-size-exceeded` on demand.
 *
 * Accepted deliveries are decoded when someone reads them (`received()`, `batches()`, `waitFor`),
 * not on arrival. Why: decoding every event costs the peer ~25 µs of CPU per event, as much as
 * the producer's own SDK work, and on a 2-core machine the benchmark's raw-SDK yardstick was then
 * bounded by the peer rather than by the SDK (Event Hubs does not decode on the gateway's CPU).
 * A delivery that cannot be decoded is accepted anyway (the service would not look inside
 * either); the next read throws, naming it, and so does `close()`, which decodes whatever no test
 * read: a test cannot miss it.
 *
 * Importable from compiled code (the demo uses it too): no test-framework imports here.
 */
import type { Server, Socket } from 'node:net'
import rhea from 'rhea'
import type { Connection, EventContext, Message, Receiver } from 'rhea'
import { BATCH_MESSAGE_FORMAT, decodeBatchEnvelope, fromRhea, type DecodedEvent } from './amqp-batch-decode.js'
import { addressOf, answerCbs, answerManagement, type HubDescription } from './eventhubs-peer-replies.js'

export interface EventHubsPeerOptions {
  /** @default 0 (a random free port) */
  port?: number
  /** Advertised on the hub link attach and enforced on every delivery. @default 1048576 */
  maxMessageSize?: number
  /** @default 4 */
  partitionCount?: number
  /** @default "hub" */
  hubName?: string
}

export interface ReceivedEvent extends DecodedEvent {
  /** Link target the event arrived on: the hub name, or `hub/Partitions/N`. */
  address: string
  /** Index into `batches()` of the delivery that carried it. */
  batch: number
  receivedAt: number
}

export interface ReceivedBatch {
  address: string
  /** Size of the whole delivery (the batch envelope), bytes. */
  bytes: number
  count: number
  format: number
  receivedAt: number
}

export interface EventHubsPeerStats {
  connections: number
  cbsRequests: number
  /** `$management` reads (getPartitionIds, properties), answered or refused. */
  managementRequests: number
  serverBusyRejections: number
  tooLargeRejections: number
  /** Hub deliveries left unsettled by `stallDeliveries(true)`. */
  stalledDeliveries: number
  /** Accepted hub deliveries not decoded yet (nothing read them since they arrived). */
  undecodedDeliveries: number
}

export interface EventHubsPeer {
  readonly port: number
  readonly hubName: string
  /** Emulator connection string; the key is a dummy, the peer does not check tokens. */
  connectionString(hubName?: string): string
  /** Every accepted event, in arrival order. */
  received(): readonly ReceivedEvent[]
  /** Every accepted delivery (batch envelope), in arrival order. */
  batches(): readonly ReceivedBatch[]
  /**
   * Resolves as soon as `predicate(received())` is true, re-checked on every accepted delivery.
   * Rejects after `timeoutMs` (a guard so a broken test fails with a message, not a hang).
   */
  waitFor(predicate: (events: readonly ReceivedEvent[]) => boolean, timeoutMs?: number): Promise<void>
  /** Like waitFor, for any condition; re-checked on every hub delivery, whatever its outcome. */
  waitUntil(condition: () => boolean, timeoutMs?: number): Promise<void>
  /** Rejects the next `n` hub deliveries, or every one until `until()` returns true. */
  rejectWithServerBusy(what: number | (() => boolean)): void
  /** Applies to links attached from now on, and to every delivery from now on. */
  setMaxMessageSize(bytes: number): void
  /** `false`: answer put-token with 401 (a rotated key), until set back to `true`. */
  setAuthorized(ok: boolean): void
  /** `true`: answer `$management` reads (getPartitionIds) with 401, as for a Send-only policy; sends still go through. */
  refuseManagement(on: boolean): void
  /** Answers the next `n` `$management` reads with 503 (transient). */
  failManagement(n: number): void
  /** `true`: leave hub deliveries unsettled (a hung service); they stay unsettled for good. */
  stallDeliveries(on: boolean): void
  /**
   * Like stallDeliveries, for the deliveries of one partition key only (one slow device's
   * partition while the others flow); `undefined` ends it.
   */
  stallDeliveriesOf(partitionKey: string | undefined): void
  stats(): EventHubsPeerStats
  /**
   * Drops everything received so far, undecoded (the bench, between measurements: a peer holding
   * a million events in its heap slows itself, and with it the runs after). Tests read instead.
   */
  forget(): void
  /** Destroys every connection and stops listening (an outage). Deliveries stay readable. */
  kill(): Promise<void>
  /** Listens again on the same port. */
  restart(): Promise<void>
  close(): Promise<void>
}

/** An accepted hub delivery as it came off the wire (a Buffer for the batch format). */
interface PendingDelivery {
  raw: unknown
  format: number
  address: string
  batch: number
  receivedAt: number
}

const MiB = 1024 * 1024
const BUSY_DESCRIPTION =
  'The request was terminated because the entity is being throttled. Error code : 50002. Please wait 4 seconds and try again.'

export async function startEventHubsPeer(opts: EventHubsPeerOptions = {}): Promise<EventHubsPeer> {
  const hub: HubDescription = { hubName: opts.hubName ?? 'hub', partitionCount: opts.partitionCount ?? 4, createdAt: new Date() }
  let maxMessageSize = opts.maxMessageSize ?? MiB
  let authorized = true
  let stalled = false
  let stalledKey: string | undefined
  let busyCount = 0
  let busyUntil: (() => boolean) | undefined
  const events: ReceivedEvent[] = []
  const batchList: ReceivedBatch[] = []
  /** Accepted, not decoded yet: appended to `events` by decodePending(), in arrival order. */
  const undecoded: PendingDelivery[] = []
  let decodeFailure: Error | undefined
  const stats: EventHubsPeerStats = {
    connections: 0, cbsRequests: 0, managementRequests: 0, serverBusyRejections: 0, tooLargeRejections: 0, stalledDeliveries: 0,
    undecodedDeliveries: 0,
  }
  /** Pending waitFor/waitUntil checks, each with its way to give up (on close). */
  const waiters = new Map<() => void, (err: Error) => void>()
  const sockets = new Set<Socket>()
  let server: Server | undefined
  let port = opts.port ?? 0

  // Manual settlement: an accepted delivery is what resolves the producer's sendBatch.
  const container = rhea.create_container({ id: 'eventhubs-test-peer', autoaccept: false })
  container.sasl_server_mechanisms.enable_anonymous()
  container.sasl_server_mechanisms.enable_plain(() => true)

  const isHubAddress = (a: string | undefined): boolean =>
    a === hub.hubName || (a?.startsWith(`${hub.hubName}/Partitions/`) ?? false)

  container.on('receiver_open', (ctx: EventContext) => {
    const receiver = ctx.receiver as Receiver
    const target = addressOf((receiver as unknown as { remote: { attach?: { target?: unknown } } }).remote.attach?.target)
    const local = (receiver as unknown as { local: { attach: Record<string, unknown> } }).local.attach
    // Runs before rhea writes our attach (next tick), so these fields go out in the reply.
    if (target !== undefined) receiver.set_target({ address: target })
    if (isHubAddress(target)) local['max_message_size'] = maxMessageSize
    else if (target !== '$cbs' && target !== '$management') {
      // The service's wording, which the SDK turns into MessagingEntityNotFoundError.
      receiver.close({ condition: 'amqp:not-found', description: `The messaging entity 'sb://127.0.0.1:${port}/${String(target)}' could not be found.` })
    }
  })
  container.on('sender_open', (ctx: EventContext) => {
    const sender = ctx.sender!
    const source = addressOf((sender as unknown as { remote: { attach?: { source?: unknown } } }).remote.attach?.source)
    if (source !== undefined) sender.set_source({ address: source })
  })
  container.on('connection_open', () => { stats.connections++ })
  // Without listeners rhea escalates link/connection errors to the container's 'error' event,
  // which would throw; an outage is expected here.
  for (const ev of ['error', 'disconnected', 'connection_error', 'receiver_error', 'sender_error', 'session_error']) {
    container.on(ev, () => {})
  }

  container.on('message', (ctx: EventContext) => {
    const receiver = ctx.receiver as Receiver
    const connection = ctx.connection as Connection
    const target = addressOf((receiver as unknown as { remote: { attach?: { target?: unknown } } }).remote.attach?.target)
    const delivery = ctx.delivery!
    if (target === '$cbs') {
      stats.cbsRequests++
      delivery.accept()
      answerCbs(connection, ctx.message as Message, authorized)
    } else if (target === '$management') {
      stats.managementRequests++
      delivery.accept()
      answerManagement(connection, ctx.message as Message, hub)
    } else if (isHubAddress(target)) {
      onHubDelivery(ctx, target!)
    } else {
      delivery.reject({ condition: 'amqp:not-found', description: `no entity at ${String(target)}` })
    }
  })

  function busyNow(): boolean {
    if (busyCount > 0) {
      busyCount--
      return true
    }
    if (busyUntil && !busyUntil()) return true
    busyUntil = undefined
    return false
  }

  function onHubDelivery(ctx: EventContext, address: string): void {
    settleHubDelivery(ctx, address)
    for (const check of [...waiters.keys()]) check()
  }

  function settleHubDelivery(ctx: EventContext, address: string): void {
    const delivery = ctx.delivery!
    const format = (ctx as unknown as { format?: number }).format ?? 0
    const raw = ctx.message as unknown
    const bytes = Buffer.isBuffer(raw) ? raw.length : rhea.message.encode(raw).length
    if (stalled || (stalledKey !== undefined && partitionKeyOf(raw, format) === stalledKey)) {
      stats.stalledDeliveries++
      return
    }
    if (busyNow()) {
      stats.serverBusyRejections++
      return delivery.reject({ condition: 'com.microsoft:server-busy', description: BUSY_DESCRIPTION })
    }
    if (bytes > maxMessageSize) {
      stats.tooLargeRejections++
      return delivery.reject({
        condition: 'amqp:link:message-size-exceeded',
        description: `The received message (delivery-id:${delivery.id}, size:${bytes} bytes) exceeds the limit (${maxMessageSize} bytes).`,
      })
    }
    const now = Date.now()
    const batch = batchList.push({ address, bytes, count: 0, format, receivedAt: now }) - 1
    undecoded.push({ raw, format, address, batch, receivedAt: now })
    delivery.accept()
  }

  /** The partition key a delivery carries (that of its first event); only read while a key is stalled. */
  function partitionKeyOf(raw: unknown, format: number): string | undefined {
    try {
      return (Buffer.isBuffer(raw) && format === BATCH_MESSAGE_FORMAT ? decodeBatchEnvelope(raw)[0] : fromRhea(raw as Message))?.partitionKey
    } catch {
      return undefined // an undecodable delivery fails the test when it is read
    }
  }

  /** Decodes what arrived since the last read; throws (now and on every later read) on a bad delivery. */
  function decodePending(): void {
    if (decodeFailure) throw decodeFailure
    for (let i = 0; i < undecoded.length; i++) {
      const { raw, format, address, batch, receivedAt } = undecoded[i]!
      let decoded: DecodedEvent[]
      try {
        decoded = Buffer.isBuffer(raw) && format === BATCH_MESSAGE_FORMAT ? decodeBatchEnvelope(raw) : [fromRhea(raw as Message)]
      } catch (err) {
        undecoded.length = 0
        decodeFailure = new Error(`eventhubs peer: delivery ${batch} to ${address} (format ${format}) could not be decoded: ${String(err)}`)
        throw decodeFailure
      }
      batchList[batch]!.count = decoded.length
      for (const e of decoded) events.push({ ...e, address, batch, receivedAt })
    }
    undecoded.length = 0
  }

  function receivedEvents(): readonly ReceivedEvent[] {
    decodePending()
    return events
  }

  async function listen(): Promise<void> {
    const s = container.listen({ port, host: '127.0.0.1' })
    s.on('connection', (socket: Socket) => {
      sockets.add(socket)
      socket.once('close', () => sockets.delete(socket))
    })
    await new Promise<void>((resolve, reject) => {
      s.once('listening', resolve)
      s.once('error', reject)
    })
    port = (s.address() as { port: number }).port
    server = s
  }

  async function kill(): Promise<void> {
    const s = server
    server = undefined
    for (const socket of sockets) socket.destroy()
    sockets.clear()
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()))
  }

  function waitUntil(condition: () => boolean, timeoutMs = 20_000): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (condition()) return resolve()
      const check = (): void => {
        let met: boolean
        try {
          met = condition()
        } catch (err) {
          return giveUp(err as Error) // e.g. an undecodable delivery: fail the waiting test
        }
        if (!met) return
        waiters.delete(check)
        clearTimeout(timer)
        resolve()
      }
      const giveUp = (err: Error): void => {
        waiters.delete(check)
        clearTimeout(timer)
        reject(err)
      }
      const timer = setTimeout(
        () => giveUp(new Error(`eventhubs peer: condition not met within ${timeoutMs} ms (${batchList.length} deliveries accepted)`)),
        timeoutMs,
      )
      waiters.set(check, giveUp)
    })
  }

  await listen()

  return {
    get port() { return port },
    hubName: hub.hubName,
    connectionString: (hubName = hub.hubName) =>
      `Endpoint=sb://127.0.0.1:${port}/;SharedAccessKeyName=k;SharedAccessKey=ZHVtbXk=;EntityPath=${hubName};UseDevelopmentEmulator=true`,
    received: receivedEvents,
    batches: () => {
      decodePending()
      return batchList
    },
    waitFor(predicate, timeoutMs = 20_000) {
      return waitUntil(() => predicate(receivedEvents()), timeoutMs)
    },
    waitUntil,
    rejectWithServerBusy(what) {
      if (typeof what === 'number') busyCount = what
      else busyUntil = what
    },
    setMaxMessageSize(bytes) { maxMessageSize = bytes },
    setAuthorized(ok) { authorized = ok },
    refuseManagement(on) { hub.managementRefused = on },
    failManagement(n) { hub.managementFailures = n },
    stallDeliveries(on) { stalled = on },
    stallDeliveriesOf(partitionKey) { stalledKey = partitionKey },
    stats: () => ({ ...stats, undecodedDeliveries: undecoded.length }),
    forget() {
      events.length = 0
      batchList.length = 0
      undecoded.length = 0
    },
    kill,
    restart: async () => {
      if (!server) await listen()
    },
    close: async () => {
      for (const giveUp of [...waiters.values()]) giveUp(new Error('eventhubs peer closed'))
      await kill()
      // Whatever no test read is decoded now, so a test that only checked the gateway's side still
      // fails (in its afterEach / finally) if the gateway sent something undecodable.
      decodePending()
    },
  }
}
