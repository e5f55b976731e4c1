/**
 * The gateway's one pino root. Components take `log.child({ component })` from it.
 *
 * Secrets are masked in three layers, each catching what the previous cannot:
 * 1. pino `redact` paths for known secret keys at the top level and one level down;
 * 2. `hooks.streamWrite`: secret-named keys at any depth of the serialised line;
 * 3. the same hook: credential patterns inside any string (messages, error messages, stacks),
 *    see redact.ts.
 */
import pino from 'pino'
import { redactLogLine } from './redact.js'
import { prettyDestination } from './pretty-destination.js'

/** The logger type `createLogger` returns; structurally compatible with core's `Logger`. */
export type GatewayLogger = pino.Logger

export interface CreateLoggerOptions {
  /** Minimum level written. An unknown level name throws (pino's own check). */
  level: pino.LevelWithSilent
  /**
   * One human-readable line per record instead of JSON (interactive use). Keep it off under
   * systemd: the journal and log shippers want JSON.
   * @default false
   */
  pretty?: boolean
  /**
   * Where lines go: a stream (a memory stream in tests) or a file descriptor (2 = stderr).
   * File descriptors are written synchronously so the last lines before a crash are not lost.
   * @default 1 (stdout)
   */
  destination?: pino.DestinationStream | number
}

/** Keys pino's `redact` replaces with `[Redacted]`, at the top level and one level down. */
export const REDACT_PATHS: readonly string[] = [
  'password', '*.password',
  'connectionString', '*.connectionString',
  'sharedAccessKey', '*.sharedAccessKey',
  'key', '*.key',
  'token', '*.token',
  'authorization', '*.authorization',
]

/**
 * Creates the root logger. Throws (synchronously) only on invalid options, e.g. an unknown level.
 * Write failures of the destination are the destination's business (sonic-boom emits `error`).
 */
export function createLogger(opts: CreateLoggerOptions): GatewayLogger {
  const dest = opts.destination ?? 1
  const base = typeof dest === 'number' ? pino.destination({ dest, sync: true }) : dest
  const destination = opts.pretty ? prettyDestination(base) : base
  return pino(
    {
      level: opts.level,
      redact: { paths: [...REDACT_PATHS] },
      hooks: { streamWrite: redactLogLine },
    },
    destination,
  )
}
