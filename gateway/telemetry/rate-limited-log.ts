/**
 * Log lines for floods (bad frames, refused input): at most one line per `code` per interval, and
 * the next line that is written says how many were swallowed in between (`suppressed: N`).
 * The matching metric is counted by the caller for every occurrence; this only thins the journal.
 */
import type { Logger } from '../core/index.js'

export interface RateLimitedLogOptions {
  /** Minimum time between two lines with the same code. @default 10_000 */
  intervalMs?: number
  /** Clock, injectable for tests. @default Date.now */
  now?: () => number
  /**
   * Most distinct codes tracked; beyond it the least recently logged code is forgotten (its
   * pending suppressed count is lost, its next line is written at once). Codes should be stable,
   * low-cardinality labels, so this is only a guard against misuse.
   * @default 1000
   */
  maxCodes?: number
}

interface CodeState {
  lastMs: number
  suppressed: number
}

type Level = 'warn' | 'error' | 'info'

export class RateLimitedLog {
  private readonly intervalMs: number
  private readonly now: () => number
  private readonly maxCodes: number
  private readonly codes = new Map<string, CodeState>()

  constructor(
    private readonly log: Logger,
    opts: RateLimitedLogOptions = {},
  ) {
    this.intervalMs = opts.intervalMs ?? 10_000
    this.now = opts.now ?? Date.now
    this.maxCodes = opts.maxCodes ?? 1000
  }

  /**
   * Logs `{ code, ...obj }` at warn unless a line with this code was written less than
   * `intervalMs` ago, in which case it only counts. Returns true when the line was written.
   * Never throws for bad input; it is as safe as the underlying logger.
   */
  warn(code: string, obj: object, msg: string): boolean {
    return this.write('warn', code, obj, msg)
  }

  /** As `warn`, at error level. */
  error(code: string, obj: object, msg: string): boolean {
    return this.write('error', code, obj, msg)
  }

  /**
   * Writes one info line per code with a pending suppressed count (e.g. on shutdown), so the
   * journal's totals add up even when the flood stopped before the interval ran out.
   */
  flush(): void {
    for (const [code, state] of this.codes) {
      if (state.suppressed === 0) continue
      this.log.info({ code, suppressed: state.suppressed }, 'suppressed repeated log lines')
      state.suppressed = 0
    }
  }

  private write(level: Level, code: string, obj: object, msg: string): boolean {
    const now = this.now()
    const state = this.codes.get(code)
    if (state && now - state.lastMs < this.intervalMs) {
      state.suppressed++
      return false
    }
    const suppressed = state?.suppressed ?? 0
    // Re-insert so Map order is "least recently logged first" for eviction.
    this.codes.delete(code)
    this.codes.set(code, { lastMs: now, suppressed: 0 })
    this.evict()
    this.log[level](suppressed > 0 ? { ...obj, code, suppressed } : { ...obj, code }, msg)
    return true
  }

  private evict(): void {
    while (this.codes.size > this.maxCodes) {
      const oldest = this.codes.keys().next().value as string
      this.codes.delete(oldest)
    }
  }
}
