/**
 * MQTT topic filters (`+`, `#`) with captures, and the rules that turn a publish topic into a
 * device identity and reading kind.
 *
 * Matching follows MQTT 3.1.1 section 4.7: `+` is exactly one level (possibly empty), `#` is the
 * rest including the parent (`a/#` matches `a`, MQTT-4.7.1-2), and a wildcard in the first level
 * never matches a topic starting with `$` (MQTT-4.7.2-1).
 */
import type { Priority } from '../../gateway/core/types.js'

/** A validated topic filter, split into levels. */
export interface TopicPattern {
  readonly source: string
  readonly levels: readonly string[]
  /** Number of `+`/`#` levels, i.e. of captures `{1}`..`{n}`. */
  readonly wildcards: number
}

/** Why `text` is not a valid topic filter, or undefined when it is. */
export function topicPatternError(text: string): string | undefined {
  if (text.length === 0) return 'must not be empty'
  if (Buffer.byteLength(text) > 65_535) return 'is longer than 65535 bytes'
  if (text.includes('\u0000')) return 'must not contain NUL' // MQTT-4.7.3-2
  const levels = text.split('/')
  for (let i = 0; i < levels.length; i++) {
    const l = levels[i]!
    if (l.includes('#') && (l !== '#' || i !== levels.length - 1)) return '"#" must be a whole level and the last one' // MQTT-4.7.1-2
    if (l.includes('+') && l !== '+') return '"+" must be a whole level' // MQTT-4.7.1-3
  }
  return undefined
}

/** Compiles a topic filter; throws TypeError naming the problem. */
export function compileTopicPattern(text: string): TopicPattern {
  const err = topicPatternError(text)
  if (err) throw new TypeError(`topic pattern "${text}" ${err}`)
  const levels = text.split('/')
  return { source: text, levels, wildcards: levels.filter((l) => l === '+' || l === '#').length }
}

/**
 * Matches a concrete publish `topic` against `pattern`. Returns the captured levels (`+` → one
 * level, `#` → the remaining levels joined with `/`, '' for a parent match), or null. Never throws.
 */
export function matchTopic(pattern: TopicPattern, topic: string): string[] | null {
  const t = topic.split('/')
  const p = pattern.levels
  const first = p[0]
  if (topic.startsWith('$') && (first === '+' || first === '#')) return null
  const captures: string[] = []
  for (let i = 0; i < p.length; i++) {
    const level = p[i]!
    if (level === '#') {
      captures.push(t.slice(i).join('/'))
      return captures
    }
    if (i >= t.length) return null
    if (level === '+') captures.push(t[i]!)
    else if (level !== t[i]) return null
  }
  return t.length === p.length ? captures : null
}

/** Placeholders in templates: `{1}`..`{9}` (captures) and `{username}`. */
const PLACEHOLDER = /\{(\d|username)\}/g

/** Highest `{n}` used in `template` (0 when none). */
export function highestCapture(template: string): number {
  let max = 0
  for (const m of template.matchAll(PLACEHOLDER)) if (m[1] !== 'username') max = Math.max(max, Number(m[1]))
  return max
}

/** Fills a template; unknown captures become '' (rejected later by the id/kind checks). */
export function renderTemplate(template: string, captures: readonly string[], username: string | undefined): string {
  return template.replace(PLACEHOLDER, (_, name: string) =>
    name === 'username' ? (username ?? '') : (captures[Number(name) - 1] ?? ''),
  )
}

export const DEVICE_ID_RE = /^[A-Za-z0-9._:-]{1,128}$/
export const KIND_RE = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$/

export interface TopicRule {
  pattern: string
  /** Template; when absent, the connecting device's own id. */
  deviceId?: string
  kind: string
  priority: Priority
}

export type TopicMapping =
  | { ok: true; deviceId: string; kind: string; priority: Priority; rule: string }
  | { ok: false; message: string }

/** Ordered rules; the first whose pattern matches decides. */
export class TopicMap {
  private readonly rules: Array<TopicRule & { compiled: TopicPattern }>

  /** Throws TypeError for an invalid pattern (config validation reports it earlier). */
  constructor(rules: readonly TopicRule[]) {
    this.rules = rules.map((r) => ({ ...r, compiled: compileTopicPattern(r.pattern) }))
  }

  /**
   * Device id and kind for `topic`. `fallbackDeviceId` (the device's configured id or username) is
   * used by rules without a `deviceId` template. Fails when no rule matches or the rendered id/kind
   * is not a valid identifier (e.g. an empty or exotic topic level). Never throws.
   */
  resolve(topic: string, ctx: { username?: string; fallbackDeviceId?: string }): TopicMapping {
    for (const rule of this.rules) {
      const captures = matchTopic(rule.compiled, topic)
      if (!captures) continue
      const deviceId = rule.deviceId === undefined ? (ctx.fallbackDeviceId ?? '') : renderTemplate(rule.deviceId, captures, ctx.username)
      const kind = renderTemplate(rule.kind, captures, ctx.username)
      if (!DEVICE_ID_RE.test(deviceId)) {
        return { ok: false, message: `rule "${rule.pattern}" gives device id ${JSON.stringify(deviceId.slice(0, 64))}, not [A-Za-z0-9._:-]{1,128}` }
      }
      if (!KIND_RE.test(kind)) {
        return { ok: false, message: `rule "${rule.pattern}" gives kind ${JSON.stringify(kind.slice(0, 64))}, not dotted lower-case` }
      }
      return { ok: true, deviceId, kind, priority: rule.priority, rule: rule.pattern }
    }
    return { ok: false, message: 'no topicMap rule matches' }
  }
}
