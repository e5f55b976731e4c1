/**
 * What drivers and uplinks may use to be observable, without depending on the telemetry module:
 * a pino-compatible logger and a counter sink. The runtime passes real ones in; tests may pass
 * `silentLogger` and a `RecordingCounters`.
 */
export interface Logger {
  debug(obj: object | string, msg?: string): void
  info(obj: object | string, msg?: string): void
  warn(obj: object | string, msg?: string): void
  error(obj: object | string, msg?: string): void
  child(bindings: Record<string, unknown>): Logger
}

/** Counts input that was rejected at the edge, by component and stable reason code. */
export interface InputCounters {
  /** `component` is the source id; `reason` a snake_case label such as `bad_checksum`. */
  rejected(component: string, reason: string, n?: number): void
}

const noop = (): void => {}
export const silentLogger: Logger = {
  debug: noop,
  info: noop,
  warn: noop,
  error: noop,
  child: () => silentLogger,
}

/** An InputCounters that remembers totals; handy in tests. */
export class RecordingCounters implements InputCounters {
  readonly totals = new Map<string, number>()
  rejected(component: string, reason: string, n = 1): void {
    const key = `${component}:${reason}`
    this.totals.set(key, (this.totals.get(key) ?? 0) + n)
  }
  get(component: string, reason: string): number {
    return this.totals.get(`${component}:${reason}`) ?? 0
  }
}
