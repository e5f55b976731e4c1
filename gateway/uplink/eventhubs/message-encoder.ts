/**
 * One partition key's stored entries (with `routing: partition`, one partition's, of several
 * devices) → the AMQP messages the uplink sends, in order.
 *
 * - `binary` / `structured`: one message per entry (amqp-binding.ts); an entry that cannot be
 *   expressed is rejected alone (`invalid_event`, dead-lettered by the forwarder).
 * - `batch`: consecutive entries packed into JSON batch documents of at most `batchMessageBytes`
 *   of body (an entry larger than that goes alone). Entries whose text is not a JSON object are
 *   rejected alone, so they cannot spoil the array they would have joined.
 *
 * Order is kept: messages follow the entries' order, and so do the members of each document.
 */
import type { Entry } from '../../core/types.js'
import { batchMemberBytes, BindingError, isJsonObjectText, toBatchEventData, toEventData, type BindingMode } from './amqp-binding.js'
import type { PreparedEvent, Rejection } from './batch-sender.js'

export interface EncoderConfig {
  mode: BindingMode
  /** Most body bytes of one batch-mode message. */
  batchMessageBytes: number
}

export function encodeMessages(entries: readonly Entry[], config: EncoderConfig, rejected: Rejection[]): PreparedEvent[] {
  if (config.mode !== 'batch') return encodeEach(entries, config.mode, rejected)
  const out: PreparedEvent[] = []
  let members: Entry[] = []
  let bytes = 1 // "[" ; each member adds its text and one "," or "]"
  const flush = (): void => {
    if (members.length > 0) out.push({ entries: members, event: toBatchEventData(members) })
    members = []
    bytes = 1
  }
  for (const entry of entries) {
    if (!isJsonObjectText(entry.json)) {
      rejected.push({ entry, reason: 'invalid_event', message: `event ${entry.id} is not a JSON object; cannot join a batch document` })
      continue
    }
    const size = batchMemberBytes(entry)
    if (members.length > 0 && bytes + size > config.batchMessageBytes) flush()
    members.push(entry)
    bytes += size
  }
  flush()
  return out
}

/**
 * Batch mode: a document the hub will not take (larger than its message limit) becomes two, in
 * order; undefined for a single entry, which the caller then rejects as too large.
 */
export function splitBatchMessage(message: PreparedEvent): PreparedEvent[] | undefined {
  const { entries } = message
  if (entries.length < 2) return undefined
  const half = Math.ceil(entries.length / 2)
  return [entries.slice(0, half), entries.slice(half)].map((part) => ({ entries: part, event: toBatchEventData(part) }))
}

function encodeEach(entries: readonly Entry[], mode: 'binary' | 'structured', rejected: Rejection[]): PreparedEvent[] {
  const out: PreparedEvent[] = []
  for (const entry of entries) {
    try {
      out.push({ entries: [entry], event: toEventData(entry, mode) })
    } catch (err) {
      if (!(err instanceof BindingError)) throw err
      rejected.push({ entry, reason: 'invalid_event', message: err.message })
    }
  }
  return out
}
