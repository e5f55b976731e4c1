/**
 * The fixed sections of the config file: `gateway`, `store`, `ingest`, `admin`, `log`.
 * Each is strict (an unknown key is an error, a typo never silently falls back to a default) and
 * parses human units once, so components receive plain bytes and milliseconds.
 */
import { z } from 'zod'
import type { WhenFull } from '../core/types.js'
import { byteSize, componentId, duration } from './units.js'
import { listenAddress, type ListenAddress } from './listen-address.js'
import { isLoopbackHost } from '../admin/listen-address.js'

/** Where the durable queue lives when `gateway.dataDir` is not set (the systemd unit's state directory). */
export const DEFAULT_DATA_DIR = '/var/lib/edge-gateway'

/** `gateway`: who this gateway is and where it keeps state. */
export const gatewaySectionSchema = z.strictObject({
  /** Gateway identity; part of every CloudEvent `source` and of MQTT topics. Required. */
  id: componentId,
  /** Directory for the durable queue and counters (relative = to the working directory). @default "/var/lib/edge-gateway" */
  dataDir: z.string().min(1).default(DEFAULT_DATA_DIR),
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
  /**
   * Free space kept on the data directory's filesystem (for LevelDB's deletes and compactions):
   * below it the store counts as full and `whenFull` applies; below 3/4 of it nothing new is
   * stored. Parsed to bytes. Unset = min(64 MiB, half the filesystem).
   */
  minFreeBytes: byteSize.optional(),
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

/** The parsed `admin` section. */
export interface AdminSection extends ListenAddress {
  enabled: boolean
  /** Set (default "admin") exactly when `password` is. */
  username?: string
  /** Basic-auth password; unset = no authentication (loopback only). */
  password?: string
}

/**
 * `admin`: the local HTTP endpoint (health, metrics, operator API, status page). Parsed:
 * `{ enabled, listen, host, port }`, where `listen` is the normalised `host:port` and `host`/`port`
 * are ready for `server.listen`; plus `username` and `password` when basic auth is configured.
 * A non-loopback `listen` requires a password: the endpoint can purge dead letters and shows
 * device readings, so it must not be open to the network.
 */
export const adminSectionSchema = z
  .strictObject({
    /** @default true */
    enabled: z.boolean().default(true),
    /** `host:port`; loopback by default. A non-loopback host requires `password`. @default "127.0.0.1:8080" */
    listen: listenAddress.prefault('127.0.0.1:8080'),
    /** Basic-auth user name; used only with `password`. @default "admin" */
    username: z.string().min(1).max(256).regex(/^[^:\x00-\x1f]+$/, 'must not contain ":" or control characters').optional(),
    /** Basic-auth password; when set, every admin request needs it. Required for a non-loopback listen. Unset = no auth. */
    password: z.string().min(1).max(1024).optional(),
  })
  .superRefine((c, ctx) => {
    if (c.username !== undefined && c.password === undefined) {
      ctx.addIssue({ code: 'custom', path: ['password'], message: 'is required when admin.username is set' })
    }
    if (c.enabled && c.password === undefined && !isLoopbackHost(c.listen.host)) {
      ctx.addIssue({
        code: 'custom',
        path: ['password'],
        message:
          `is required when admin.listen (${c.listen.listen}) is not a loopback address: the endpoint serves queue ` +
          'operations and device readings (set admin.password, or listen on 127.0.0.1 / [::1])',
      })
    }
  })
  .transform(({ enabled, listen, username, password }): AdminSection => ({
    enabled,
    ...listen,
    ...(password !== undefined ? { username: username ?? 'admin', password } : {}),
  }))

/** `log`: pino settings. */
export const logSectionSchema = z.strictObject({
  /** @default "info" */
  level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info'),
  /** Human-readable lines instead of JSON; unset leaves the choice to the runtime. */
  pretty: z.boolean().optional(),
})
