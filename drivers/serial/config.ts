/**
 * Config of a `serial` source: one UART (USB adapter, GPIO UART, or a PTY in tests) carrying one
 * line-oriented format. Only `type`, `id`, `path`, `baudRate` and `format` are required.
 *
 * Device identity: every reading gets `deviceId` (default: the source `id`). In every line format a
 * field named `device` or `deviceId` overrides it for that line (a bus of several sensors behind one
 * UART), and a field named `ts` or `time` sets the reading time; both are metadata, not
 * measurements. See formats/fields.ts.
 */
import { z } from 'zod'
import { byteSize, componentId } from '../../gateway/config/units.js'
import { PRIORITIES } from '../../gateway/core/types.js'

/** Reading.deviceId alphabet (gateway/core/types.ts). */
export const DEVICE_ID_PATTERN = /^[A-Za-z0-9._:-]{1,64}$/
/** A measurement field name in jsonl/kv/csv; also keeps `__proto__`-style keys out of payloads. */
export const FIELD_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/

export const serialFormats = ['jsonl', 'kv', 'nmea', 'csv'] as const
export type SerialFormat = (typeof serialFormats)[number]

export const serialCsvSchema = z.strictObject({
  /** Field names, in the order the device prints them. `device`/`ts` columns are metadata. */
  columns: z.array(z.string().regex(FIELD_NAME_PATTERN, 'must be a field name: A-Z a-z 0-9 _ . - starting with a letter or _')).min(1).max(256)
    .refine((cols) => new Set(cols).size === cols.length, 'column names must be unique'),
  /** One character between fields; quoting is not supported (sensors do not quote). @default "," */
  delimiter: z.string().length(1).refine((d) => d !== '\n' && d !== '\r', 'must not be a line terminator').default(','),
})

export const serialSourceSchema = z
  .strictObject({
    type: z.literal('serial'),
    id: componentId,
    /** Device path, e.g. /dev/ttyUSB0 or /dev/serial/by-id/... (stable across replugs). */
    path: z.string().min(1),
    /** Required: serialport has no default, and a PTY ignores it, so tests cannot catch a wrong one. */
    baudRate: z.number().int().min(50).max(4_000_000),
    format: z.enum(serialFormats),
    /** Required when `format` is `csv`, rejected otherwise. */
    csv: serialCsvSchema.optional(),
    /** Longest accepted line (without "\r\n"); longer lines are discarded and counted. @default 4096 */
    maxLineBytes: byteSize.pipe(z.number().int().min(16).max(1024 * 1024)).default(4096),
    /** deviceId of readings whose line names no `device`. @default the source id */
    deviceId: z.string().regex(DEVICE_ID_PATTERN, 'must be 1-64 characters of A-Z a-z 0-9 . _ : -').optional(),
    /**
     * No data for this long (while the gateway is pulling) counts as "possibly unplugged": the port
     * is closed and reopened. Set it well above the device's reporting interval. Unset = never.
     */
    idleTimeoutMs: z.number().int().min(100).max(86_400_000).optional(),
    /** Reopen backoff cap, ms (full jitter, exponential from 250 ms). @default 30000 */
    reopenMaxMs: z.number().int().min(100).max(600_000).default(30_000),
    /** Reading kind for jsonl/kv/csv lines (NMEA uses gnss.*). @default "environment" */
    kind: z.string().regex(/^[a-z0-9_]+(\.[a-z0-9_]+)*$/, 'must be dotted lower-case, e.g. environment or power.meter').default('environment'),
    /** @default "telemetry" */
    priority: z.enum(PRIORITIES).default('telemetry'),
  })
  .superRefine((c, ctx) => {
    if (c.format === 'csv' && !c.csv) {
      ctx.addIssue({ code: 'custom', path: ['csv'], message: 'format csv needs csv.columns (the field names in order)' })
    }
    if (c.format !== 'csv' && c.csv) {
      ctx.addIssue({ code: 'custom', path: ['csv'], message: `csv settings are only used with format csv (format is ${c.format})` })
    }
  })

export type SerialSourceConfig = z.infer<typeof serialSourceSchema>
/** What a caller may write before defaults are applied. */
export type SerialSourceConfigInput = z.input<typeof serialSourceSchema>
