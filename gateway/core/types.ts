/**
 * The core types every part of the gateway shares. Drivers import only this folder.
 *
 * Data path:  Source --Reading[]--> Ingest --NewEvent[]--> Store --Entry[]--> Forwarder --> Uplink
 */

/**
 * `alert`: doorbells, alarms, contacts. Drained before telemetry, never dropped to make room for
 * telemetry. `telemetry`: periodic measurements; under pressure the oldest go first.
 */
export type Priority = 'alert' | 'telemetry'
export const PRIORITIES: readonly Priority[] = ['alert', 'telemetry']

/** One measurement or event as a driver/decoder produced it, before it has an identity. */
export interface Reading {
  /** Stable device identity within its source (MAC, serial number, topic segment). [A-Za-z0-9._:-] */
  deviceId: string
  /** Reading kind, a dotted lower-case suffix of the CloudEvent type, e.g. `environment`, `doorbell.press`. */
  kind: string
  priority: Priority
  /** Wall-clock time the reading was taken, ms since epoch. */
  timeMs: number
  /** JSON-serialisable payload; becomes the CloudEvent `data`. */
  data: unknown
}

/** A raw frame from a driver (a serial line, an advert, a GPIO edge), before decoding. */
export interface Frame {
  /** Bytes as received. */
  bytes: Buffer
  /** Wall-clock receive time, ms since epoch. */
  timeMs: number
  /** Driver-specific metadata (BLE: address, rssi, name; MQTT: topic). */
  meta?: Record<string, unknown>
}

/** Pure and synchronous; throws DecodeError for bad input. */
export type Decoder = (frame: Frame) => Reading[]

/**
 * Narrow hardware boundary. Yields frames until `signal` aborts. On unplug it throws an error with
 * `disconnected: true`; the supervisor reopens it with backoff. Never buffers without a bound: when
 * the consumer stops pulling, the driver stops reading (serial) or drops-and-counts (BLE adverts).
 */
export interface Driver {
  readonly id: string
  frames(signal: AbortSignal): AsyncIterable<Frame>
}

/** What `push` hands back once readings are in the bounded ingest buffer. */
export interface IngestReceipt {
  /**
   * Resolves after the readings were committed to disk (or counted as dropped). Never rejects:
   * a failed commit resolves with `lost` and `error` set for the pushes that lost readings to it
   * (a commit cut short may have stored part of itself: a push wholly inside that part resolves
   * without them), so a source that does not await it cannot cause an unhandled rejection.
   */
  durable: Promise<AppendOutcome>
}

/** What became of one push's readings once their commit returned. */
export interface AppendOutcome {
  /** Readings the store holds (durable; they will be delivered). */
  accepted: number
  /**
   * Readings not stored, for whatever reason: refused at ingest as invalid, dropped or refused by
   * the store's whenFull policy (both already counted by reason where they happened), or `lost`.
   */
  dropped: number
  /**
   * Of `dropped`, readings lost to a store ERROR (the commit failed): the only ones nobody counted
   * yet, which a source reports as not durable. Invalid and policy-dropped readings are not in it.
   */
  lost: number
  /**
   * Of `dropped`, readings ingest refused for their content (`invalid_reading`, already counted):
   * the same reading would be refused again, so a source must not have it resent.
   */
  invalid: number
  /** The store's error, set only when `lost` > 0. */
  error?: Error
}

/** The entry point sources write to. */
export interface ReadingSink {
  /**
   * Waits while the bounded ingest buffer is full (this is backpressure: a source that awaits
   * `push` is paused), then resolves with a receipt. Rejects only if the gateway is stopping.
   */
  push(sourceId: string, readings: Reading[]): Promise<IngestReceipt>
}

export type SourceState = 'starting' | 'running' | 'disconnected' | 'unavailable' | 'stopped' | 'done'

export interface SourceHealth {
  state: SourceState
  /** Human-readable reason for unavailable/disconnected, e.g. "no Bluetooth adapter (EAFNOSUPPORT)". */
  detail?: string
}

/** A configured input: a driver + decoder pair, the simulator, or the MQTT ingress broker. */
export interface Source {
  readonly id: string
  readonly type: string
  /** Runs until `signal` aborts or the source is exhausted (simulator `count`). Must not throw for bad input. */
  run(sink: ReadingSink, signal: AbortSignal): Promise<void>
  health(): SourceHealth
}

/** An event ready to be stored: a structured-mode CloudEvent, already serialised. */
export interface NewEvent {
  priority: Priority
  /** CloudEvent `source`; also the ordering/partition key (one device = one source). */
  source: string
  /** CloudEvent `id`. */
  id: string
  /** The CloudEvent as structured-mode JSON (application/cloudevents+json), UTF-8. */
  json: string
}

/** A stored event as read back for forwarding. */
export interface Entry extends NewEvent {
  /** Position in the store's log for its priority class; strictly increasing per class. */
  offset: number
  /** Wall-clock time it was appended, ms since epoch. */
  appendedMs: number
  /** Size it occupies in the store, bytes. */
  sizeBytes: number
}

export type WhenFull = 'drop_oldest' | 'reject_new' | 'block'

/**
 * Reasons a stored or offered event was dropped. Metric label values. `corrupt_entry`: a stored
 * event the store found damaged (checksum mismatch) or missing (lost by LevelDB) and skipped.
 */
export type DropReason = 'store_full_oldest' | 'store_full_rejected' | 'expired' | 'dead_letter' | 'corrupt_entry'

export interface AppendBatch {
  events: NewEvent[]
  /** Per-CloudEvent-source sequence counters after this batch; persisted atomically with it. */
  counters: Map<string, number>
}

export interface AppendResult {
  accepted: number
  /** Offered events that were refused (reject_new, full disk, larger than maxBytes). */
  rejected: number
  /** Previously stored events removed to make room (drop_oldest), and the batch's own oldest it skipped. */
  evicted: number
  /**
   * Which offered events were not stored although the append settled them: ascending indices into
   * `batch.events` of those counted in `rejected`, and of the batch's own oldest telemetry that
   * drop_oldest skipped (counted in `evicted`). They can sit anywhere in the batch (an oversize
   * event in the middle, an alert stored after refused telemetry). Absent when there is none, so
   * an append that stores everything allocates nothing for it.
   */
  refused?: number[]
}

export interface QueueStats {
  /** Entries this uplink has not yet acked, and their bytes. */
  depth: number
  bytes: number
  /** Age of the oldest un-acked entry, ms (0 when empty). */
  oldestAgeMs: number
}

/**
 * Acked entries still on disk because deleting them (one LevelDB clear of a long acked range)
 * failed; retried at the next ack and by the store's timer. Garbage, not queued: not in
 * `entries`/`bytes`, never sent, evicted or expired. `entries` is an upper bound (a clear that
 * failed midway deleted a part). Non-zero for long means the disk keeps failing deletes.
 */
export interface LeftoverClearStats {
  ranges: number
  entries: number
}

export interface StoreStats {
  entries: number
  bytes: number
  maxBytes: number
  oldestAgeMs: number
  perUplink: Record<string, QueueStats>
  drops: Record<DropReason, number>
  deadLetters: number
  leftoverClears: LeftoverClearStats
  /**
   * Appends waiting for room right now (whenFull=block; always 0 otherwise): their sources are
   * held back until acks, expiry or freed disk space make room.
   */
  blockedAppends: number
}

export interface DeadLetter {
  uplink: string
  entry: Entry
  reason: string
  message: string
  deadLetteredMs: number
}

/**
 * One durable log of events with one cursor per uplink. See gateway/store/level-store.ts for the
 * design block (key layout, what ack means, what a crash loses).
 */
export interface Store {
  open(): Promise<void>
  close(): Promise<void>
  /**
   * Durable when resolved (one synced db.batch). With whenFull=block, waits for space; if `signal`
   * aborts first, rejects with AppendAbortedError, whose `committed` is what is already durable.
   * A failure after anything was settled rejects with a PartialAppendError saying which events
   * were refused (`committed.refused`) and which the failure lost (`lost`); every other event is
   * stored. Any other rejection means nothing was settled: every event is lost.
   */
  append(batch: AppendBatch, signal?: AbortSignal): Promise<AppendResult>
  /** Sequence counters as persisted by the last append. */
  counters(): Promise<Map<string, number>>
  /**
   * Up to `maxEvents` entries (and at most `maxBytes`, but always at least one) after this uplink's
   * read position: alert class first, then telemetry, each in offset order. Advances the read
   * position (not the ack cursor). Resolves with [] when nothing is queued; never waits.
   */
  read(uplink: string, maxEvents: number, maxBytes: number): Promise<Entry[]>
  /**
   * How many entries the uplink's next reads would hand out: those after its read position.
   * Synchronous, from memory; an upper bound (damaged entries, skipped when read, still count).
   */
  unread(uplink: string): number
  /** Moves the read position back to the ack cursor (after a failed send, to resend in order). */
  rewind(uplink: string): void
  /**
   * Marks entries confirmed by the peer. The persisted cursor advances over the contiguous acked
   * prefix; out-of-order acks are held in memory (bounded by the forwarder's in-flight window).
   * Space is freed once every uplink acked an entry.
   */
  ack(uplink: string, entries: Entry[]): Promise<void>
  /** Acks the entries for this uplink and keeps a copy in the uplink's dead-letter area. */
  deadLetter(uplink: string, entries: Entry[], reason: string, message: string): Promise<void>
  /** Resolves when something is appended after the call, or when `signal` aborts. */
  waitForAppend(signal: AbortSignal): Promise<void>
  /**
   * Resolves once at least `count` appends wait for room (`stats().blockedAppends`), when `signal`
   * aborts, or at close. An append counts from the moment it waits, not while it retries.
   */
  waitForBlockedAppends(count: number, signal: AbortSignal): Promise<void>
  stats(): StoreStats
}

export interface UplinkBatchLimits {
  /** Most events per send() call. */
  maxEvents: number
  /** Most stored bytes per send() call. */
  maxBytes: number
  /**
   * How long to wait for a batch to fill once the first event is available, with nothing in
   * flight. With a batch in flight, a partial batch instead waits for that batch to settle (or to
   * become full); 0 turns both waits off: whatever is waiting is sent at once.
   */
  lingerMs: number
  /** How many send() calls may be outstanding at once. */
  maxInFlight: number
}

export interface SendResult {
  /** Entries the peer refused permanently (e.g. too large); the forwarder dead-letters them. Every other entry was confirmed. */
  rejected: Array<{ entry: Entry; reason: string; message: string }>
}

export interface UplinkHealth {
  connected: boolean
  detail?: string
}

export interface Uplink {
  readonly id: string
  readonly type: string
  readonly limits: UplinkBatchLimits
  /** Starts connecting in the background; never throws for an unreachable peer. */
  start(): Promise<void>
  /** Closes the connection; outstanding sends reject with a retriable UplinkError. */
  stop(): Promise<void>
  /**
   * Resolves ONLY when the peer confirmed every entry not listed in `rejected`. Rejects with an
   * UplinkError: retriable (disconnected, busy, timeout) → the forwarder retries the batch;
   * non-retriable → the whole batch is dead-lettered.
   */
  send(batch: Entry[], signal: AbortSignal): Promise<SendResult>
  health(): UplinkHealth
}
