/**
 * Which adverts a `ble` source looks at (the allow-list) and how often it forwards a device's
 * telemetry (the per-device minimum interval). Both run on every advert the radio hears, so they
 * are O(entries) / O(1) and allocate nothing per call.
 */
import { BoundedLru } from '../decoders/bounded-lru.js'
import type { BleAllowEntry } from './config.js'

/** Longest name a pattern is tried on: a legacy advert carries at most 29 name bytes, extended 253. */
const MAX_NAME_CHARS = 256

/**
 * Compiles a name pattern: `/regex/flags`, or a glob where `*` is any run and `?` one character,
 * anchored and case-insensitive. Throws SyntaxError for a bad regular expression
 * ({@link namePatternError} says why without throwing).
 */
export function compileNamePattern(pattern: string): RegExp {
  const re = /^\/(.*)\/([a-z]*)$/s.exec(pattern)
  if (re) return new RegExp(re[1], re[2])
  const body = [...pattern]
    .map((ch) => (ch === '*' ? '.*' : ch === '?' ? '.' : ch.replace(/[\\^$.|+()[\]{}]/g, '\\$&')))
    .join('')
  return new RegExp(`^${body}$`, 'is')
}

/** Why `pattern` is not a usable name pattern, or undefined when it is. */
export function namePatternError(pattern: string): string | undefined {
  try {
    const re = compileNamePattern(pattern)
    // `g`/`y` make test() stateful (lastIndex): the same name would match only every other time.
    if (re.global || re.sticky) return 'flags g and y are not allowed in a name pattern'
    return undefined
  } catch (err) {
    return `not a valid regular expression: ${(err as Error).message}`
  }
}

interface CompiledEntry {
  mac?: string
  name?: RegExp
}

/**
 * The allow-list of a source. Empty = every device. An entry with `mac` and `name` needs both.
 * Config is validated before this runs, so the constructor only throws for a bug.
 */
export class AllowList {
  private readonly entries: CompiledEntry[]
  /** MAC-only entries, the common case, looked up in O(1). */
  private readonly macs = new Set<string>()

  constructor(entries: readonly BleAllowEntry[]) {
    this.entries = []
    for (const e of entries) {
      const mac = e.mac?.toLowerCase()
      if (mac !== undefined && e.name === undefined) this.macs.add(mac)
      else this.entries.push({ mac, name: e.name === undefined ? undefined : compileNamePattern(e.name) })
    }
  }

  /** True when every advert passes (nothing configured). */
  get acceptsAll(): boolean {
    return this.macs.size === 0 && this.entries.length === 0
  }

  /** `address` lower-case colon form (as noble gives it); `name` the advertised local name, if any. */
  allows(address: string, name: string | undefined): boolean {
    if (this.acceptsAll || this.macs.has(address)) return true
    const shortName = name === undefined ? undefined : name.slice(0, MAX_NAME_CHARS)
    for (const e of this.entries) {
      if (e.mac !== undefined && e.mac !== address) continue
      if (e.name !== undefined && (shortName === undefined || !e.name.test(shortName))) continue
      return true
    }
    return false
  }
}

/** Options for {@link MinIntervalGate}. */
export interface MinIntervalGateOptions {
  /** Least time between two admitted adverts of one device, ms; 0 admits all. */
  minIntervalMs: number
  /** Devices remembered. A forgotten device's next advert is admitted (one extra reading, never a lost one). @default 4096 */
  maxDevices?: number
}

/**
 * Per-device rate limit: admits the first advert after `minIntervalMs` and refuses the rest.
 * Times are monotonic milliseconds (`performance.now()`), never wall clock: a Pi without an RTC
 * jumps years at its first NTP sync, which would stall or flood a wall-clock gate.
 */
export class MinIntervalGate {
  private readonly lastMs: BoundedLru<number>
  private readonly minIntervalMs: number

  constructor(opts: MinIntervalGateOptions) {
    this.minIntervalMs = opts.minIntervalMs
    this.lastMs = new BoundedLru(opts.maxDevices ?? 4096)
  }

  /** True (and the time recorded) when `key` was last admitted at least the interval ago. */
  admit(key: string, nowMs: number): boolean {
    if (this.minIntervalMs <= 0) return true
    const last = this.lastMs.get(key)
    if (last !== undefined && nowMs - last < this.minIntervalMs) return false
    this.lastMs.set(key, nowMs)
    return true
  }

  /** Records an advert that bypassed the gate (an alert), so the next telemetry waits from now. */
  touch(key: string, nowMs: number): void {
    if (this.minIntervalMs > 0) this.lastMs.set(key, nowMs)
  }
}
