/**
 * Stored entries for uplink tests, built by hand (no store, no ingest): valid CloudEvents 1.0 in
 * structured JSON, source `/gateways/gw/src/dev-N`, per-device `sequence` zero-padded to 20 digits
 * (the sequence extension is a String; padding keeps lexicographic = numeric order).
 */
import type { Entry, Priority } from '../../gateway/core/types.js'

export interface EntryOptions {
  /** Device number, part of the source. @default 0 */
  device?: number
  /** Per-device sequence number. @default 1 */
  sequence?: number
  /** Payload (`data`). @default { seq, temperature } */
  data?: unknown
  /** Pads `data` with a string of this many characters, to make big events. */
  padChars?: number
  priority?: Priority
  /** Store offset. @default sequence */
  offset?: number
  /** Extra top-level members (extensions, or to override attributes). */
  extra?: Record<string, unknown>
}

export function sourceOf(device: number): string {
  return `/gateways/gw/src/dev-${device}`
}

export function padSequence(n: number): string {
  return String(n).padStart(20, '0')
}

export function buildEntry(opts: EntryOptions = {}): Entry {
  const device = opts.device ?? 0
  const seq = opts.sequence ?? 1
  const source = sourceOf(device)
  const id = `ev-${device}-${seq}`
  let data = opts.data ?? { seq, temperature: 20 + (seq % 10) / 10 }
  if (opts.padChars) data = { ...(data as object), pad: 'x'.repeat(opts.padChars) }
  const event = {
    specversion: '1.0',
    id,
    source,
    type: 'io.edgegateway.environment',
    time: new Date(Date.UTC(2024, 0, 1) + seq * 1000).toISOString(),
    datacontenttype: 'application/json',
    sequence: padSequence(seq),
    data,
    ...opts.extra,
  }
  const json = JSON.stringify(event)
  return {
    priority: opts.priority ?? 'telemetry',
    source,
    id: String(event.id),
    json,
    offset: opts.offset ?? seq,
    appendedMs: Date.now(),
    sizeBytes: Buffer.byteLength(json),
  }
}

export interface EntriesOptions extends Omit<EntryOptions, 'device' | 'sequence' | 'offset'> {
  /** Number of the first device, so separate calls give distinct sources and ids. @default 0 */
  firstDevice?: number
}

/** `count` entries round-robin over `devices` devices, sequences counting from 1 per device. */
export function buildEntries(count: number, devices = 1, opts: EntriesOptions = {}): Entry[] {
  const { firstDevice = 0, ...entryOpts } = opts
  const seqs = new Array<number>(devices).fill(0)
  return Array.from({ length: count }, (_, i) => {
    const device = i % devices
    const sequence = ++seqs[device]!
    return buildEntry({ ...entryOpts, device: firstDevice + device, sequence, offset: i + 1 })
  })
}
