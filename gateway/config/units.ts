/**
 * Human-friendly sizes and durations in config files ("256MiB", "7d"), parsed once at load time
 * into plain numbers (bytes, milliseconds) so no component ever parses units itself.
 */
import { z } from 'zod'

const SIZE_UNITS: Record<string, number> = {
  b: 1, kb: 1e3, mb: 1e6, gb: 1e9, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3,
}
const DURATION_UNITS: Record<string, number> = {
  ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000,
}

function parseWithUnits(text: string, units: Record<string, number>): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(text)
  if (!m) return undefined
  const unit = (m[2] ?? '').toLowerCase()
  const factor = unit === '' ? 1 : units[unit]
  if (factor === undefined) return undefined
  return Math.round(Number(m[1]) * factor)
}

/** A byte size: a non-negative integer, or a string such as "64KiB", "256MB", "1GiB". */
export const byteSize = z.union([z.number().int().nonnegative(), z.string()]).transform((v, ctx) => {
  if (typeof v === 'number') return v
  const n = parseWithUnits(v, SIZE_UNITS)
  if (n === undefined) {
    ctx.addIssue({ code: 'custom', message: `"${v}" is not a size (examples: 65536, "64KiB", "256MB")` })
    return z.NEVER
  }
  return n
})

/** A duration: milliseconds as a number, or a string such as "500ms", "30s", "12h", "7d". */
export const duration = z.union([z.number().int().nonnegative(), z.string()]).transform((v, ctx) => {
  if (typeof v === 'number') return v
  const n = parseWithUnits(v, DURATION_UNITS)
  if (n === undefined) {
    ctx.addIssue({ code: 'custom', message: `"${v}" is not a duration (examples: 500, "30s", "12h", "7d")` })
    return z.NEVER
  }
  return n
})

/** Ids that appear in CloudEvent sources, topics, metric labels and store keys. */
export const componentId = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'must be 1-64 characters of A-Z a-z 0-9 . _ - and start with a letter or digit')
