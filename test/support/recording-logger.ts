/** A Logger that keeps every line, for tests that check what was logged. No vitest imports. */
import type { Logger } from '../../gateway/core/observability.js'

export interface LogLine { level: string; obj: unknown; msg: string | undefined }

interface Waiter { match: string; count: number; resolve: (line: LogLine) => void }

/** Keeps every line (children share the list and the waiters). */
export class RecordingLogger implements Logger {
  constructor(
    readonly lines: LogLine[] = [],
    private readonly waiters: Waiter[] = [],
  ) {}
  debug(obj: object | string, msg?: string): void { this.record({ level: 'debug', obj, msg }) }
  info(obj: object | string, msg?: string): void { this.record({ level: 'info', obj, msg }) }
  warn(obj: object | string, msg?: string): void { this.record({ level: 'warn', obj, msg }) }
  error(obj: object | string, msg?: string): void { this.record({ level: 'error', obj, msg }) }
  child(): Logger { return new RecordingLogger(this.lines, this.waiters) }

  /** Lines whose message contains `match`. */
  matching(match: string): LogLine[] {
    return this.lines.filter((l) => l.msg?.includes(match))
  }

  /**
   * Resolves with the `count`-th line (counted from the first line ever logged) whose message
   * contains `match`: at once if it was logged already. For background work whose only outward
   * sign is its log line; the caller bounds the wait (the test's timeout).
   */
  waitFor(match: string, count = 1): Promise<LogLine> {
    const seen = this.matching(match)
    if (seen.length >= count) return Promise.resolve(seen[count - 1]!)
    return new Promise((resolve) => this.waiters.push({ match, count, resolve }))
  }

  private record(line: LogLine): void {
    this.lines.push(line)
    for (const w of [...this.waiters]) {
      if (!line.msg?.includes(w.match) || this.matching(w.match).length < w.count) continue
      this.waiters.splice(this.waiters.indexOf(w), 1)
      w.resolve(line)
    }
  }
}
