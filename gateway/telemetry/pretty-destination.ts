/**
 * A tiny human-readable pino destination for interactive runs (`demo`, a terminal), so we need no
 * `pino-pretty` dependency and no worker thread: one line per record,
 * `12:00:01.234 WARN  [serial-1] bad frame code=bad_checksum suppressed=3`.
 * It receives lines that were already redacted (pino's streamWrite hook runs first).
 */
import type { DestinationStream } from 'pino'

const LEVEL_NAMES: Record<number, string> = {
  10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL',
}
// Fields shown in the prefix or not worth a terminal's width.
const HIDDEN = new Set(['level', 'time', 'msg', 'component', 'pid', 'hostname'])

function formatValue(v: unknown): string {
  if (typeof v === 'string') return /[\s"=]/.test(v) ? JSON.stringify(v) : v
  return JSON.stringify(v)
}

/** Formats one pino JSON line; a line that is not JSON is passed through as is. */
export function formatPrettyLine(line: string): string {
  let rec: Record<string, unknown>
  try {
    rec = JSON.parse(line) as Record<string, unknown>
  } catch {
    return line.endsWith('\n') ? line : `${line}\n`
  }
  const time = typeof rec.time === 'number' ? new Date(rec.time).toISOString().slice(11, 23) : ''
  const level = (LEVEL_NAMES[rec.level as number] ?? String(rec.level)).padEnd(5)
  const component = rec.component === undefined ? '' : ` [${String(rec.component)}]`
  const msg = rec.msg === undefined ? '' : ` ${String(rec.msg)}`
  const err = rec.err as { stack?: string } | undefined
  const rest = Object.entries(rec)
    .filter(([k]) => !HIDDEN.has(k) && k !== 'err')
    .map(([k, v]) => ` ${k}=${formatValue(v)}`)
    .join('')
  const stack = err?.stack ? `\n    ${err.stack.replace(/\n/g, '\n    ')}` : ''
  return `${time} ${level}${component}${msg}${rest}${stack}\n`
}

/**
 * Wraps `out` (default stdout) so pino writes formatted lines to it. Write errors surface on
 * `out` itself (e.g. EPIPE on a closed terminal), as they would without this wrapper.
 */
export function prettyDestination(out: DestinationStream = process.stdout): DestinationStream {
  return { write: (line: string) => out.write(formatPrettyLine(line)) }
}
