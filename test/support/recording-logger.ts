/** A Logger that keeps every line, for tests that check what was logged. No vitest imports. */
import type { Logger } from '../../gateway/core/observability.js'

export interface LogLine { level: string; obj: unknown; msg: string | undefined }

/** Keeps every line (children share the list). */
export class RecordingLogger implements Logger {
  constructor(readonly lines: LogLine[] = []) {}
  debug(obj: object | string, msg?: string): void { this.lines.push({ level: 'debug', obj, msg }) }
  info(obj: object | string, msg?: string): void { this.lines.push({ level: 'info', obj, msg }) }
  warn(obj: object | string, msg?: string): void { this.lines.push({ level: 'warn', obj, msg }) }
  error(obj: object | string, msg?: string): void { this.lines.push({ level: 'error', obj, msg }) }
  child(): Logger { return new RecordingLogger(this.lines) }
}
