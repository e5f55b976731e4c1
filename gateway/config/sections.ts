/**
 * The fixed sections of the config file: `gateway`, `store`, `ingest`, `admin`, `log`.
 * Each is strict (an unknown key is an error, a typo never silently falls back to a default) and
 * parses human units once, so components receive plain bytes and milliseconds.
 */
import { z } from 'zod'
import type { WhenFull } from '../core/types.js'
import { byteSize, componentId, duration } from './units.js'
import { listenAddress } from './listen-address.js'

/** `gateway`: who this gateway is and where it keeps state. */
export const gatewaySectionSchema = z.strictObject({
  /** Gateway identity; part of every CloudEvent `source` and of MQTT topics. Required. */
  id: componentId,
  /** Directory for the durable queue and counters (relative = to the working directory). @default "/var/lib/edge-gateway" */
  dataDir: z.string().min(1).default('/var/lib/edge-gateway'),
})

const WHEN_FULL = ['drop_oldest', 'reject_new', 'block'] as const satisfies readonly WhenFull[]

/** `store`: bounds of the on-disk queue. Parsed: `maxBytes` in bytes, `maxAge` in milliseconds. */
export const storeSectionSchema = z.strictObject({
  /** Most bytes of events kept on disk. @default "256MiB" */
  maxBytes: byteSize.prefault('256MiB').refine((n) => n > 0, 'must be more than 0 bytes'),
  /** Events older than this are dropped (counted as `expired`). Parsed to ms. @default "7d" */
  maxAge: duration.prefault('7d').refine((n) => n > 0, 'must be more than 0'),
  /** What a full store does with new events. @default "drop_oldest" */
  whenFull: z.enum(WHEN_FULL).default('drop_oldest'),
})

/** `ingest`: the bounded hand-off between sources and the store. */
export const ingestSectionSchema = z
  .strictObject({
    /** Readings buffered between sources and the store; a full buffer pauses sources. @default 10000 */
    maxPending: z.number().int().min(1).max(1_000_000).default(10_000),
    /** Most readings written in one group commit (one `db.batch`). @default 1000 */
    maxChunk: z.number().int().min(1).max(100_000).default(1000),
  })
  .superRefine((c, ctx) => {
    // A chunk larger than the buffer could never fill; the commit size would silently be maxPending.
    if (c.maxChunk > c.maxPending) {
      ctx.addIssue({ code: 'custom', path: ['maxChunk'], message: `must not exceed ingest.maxPending (${c.maxPending})` })
    }
  })

/**
 * `admin`: the local HTTP endpoint (health, metrics). Parsed: `{ enabled, listen, host, port }`,
 * where `listen` is the normalised `host:port` and `host`/`port` are ready for `server.listen`.
 */
export const adminSectionSchema = z
  .strictObject({
    /** @default true */
    enabled: z.boolean().default(true),
    /** `host:port`; loopback by default because metrics are not authenticated. @default "127.0.0.1:8080" */
    listen: listenAddress.prefault('127.0.0.1:8080'),
  })
  .transform(({ enabled, listen }) => ({ enabled, ...listen }))

/** `log`: pino settings. */
export const logSectionSchema = z.strictObject({
  /** @default "info" */
  level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info'),
  /** Human-readable lines instead of JSON; unset leaves the choice to the runtime. */
  pretty: z.boolean().optional(),
})
