/**
 * Zod issues → operator-facing `ConfigIssue`s: dotted paths, one issue per unknown key (with a
 * "did you mean"), `required` for missing keys, and substituted secrets redacted.
 */
import type { z } from 'zod'
import { ROOT_PATH, type ConfigIssue } from './config-error.js'
import type { PathSegment, SubstitutedValue } from './env-substitution.js'

/** `['uplinks', 0, 'url']` → `uplinks.0.url`; `[]` → `(root)`. */
export function formatPath(path: readonly PropertyKey[]): string {
  return path.length === 0 ? ROOT_PATH : path.map(String).join('.')
}

/**
 * A zod error map plus what it learned while parsing. Zod reports an unknown key on the object
 * that holds it and drops the schema; `knownKeys` remembers each such object's allowed keys so
 * the message can suggest the intended one.
 */
export function createErrorMap(): { errorMap: z.core.$ZodErrorMap; knownKeys: WeakMap<object, string[]> } {
  const knownKeys = new WeakMap<object, string[]>()
  const errorMap: z.core.$ZodErrorMap = (iss) => {
    if (iss.code === 'invalid_type' && iss.input === undefined) return 'required'
    if (iss.code === 'unrecognized_keys' && typeof iss.input === 'object' && iss.input !== null) {
      const shape = (iss.inst as { _zod?: { def?: { shape?: object } } } | undefined)?._zod?.def?.shape
      if (shape) knownKeys.set(iss.input, Object.keys(shape))
    }
    return undefined
  }
  return { errorMap, knownKeys }
}

export interface IssueContext {
  /** The data that was validated (after substitution), to find the objects unknown keys sit in. */
  data: unknown
  knownKeys: WeakMap<object, string[]>
  substituted: readonly SubstitutedValue[]
  locate(path: readonly PathSegment[]): { line: number; column: number } | undefined
}

/** Converts zod issues, in order. */
export function toConfigIssues(issues: readonly z.core.$ZodIssue[], ctx: IssueContext): ConfigIssue[] {
  const out: ConfigIssue[] = []
  for (const iss of issues) {
    const path = iss.path.filter((p): p is PathSegment => typeof p !== 'symbol')
    if (iss.code === 'unrecognized_keys') {
      const known = ctx.knownKeys.get(valueAt(ctx.data, path) as object) ?? []
      for (const key of iss.keys) out.push(place([...path, key], unknownKeyMessage(key, known), ctx))
    } else {
      out.push(place(path, redact(path, iss.message, ctx.substituted), ctx))
    }
  }
  return out
}

/** Attaches the formatted path and the file position. */
export function place(path: readonly PathSegment[], message: string, ctx: Pick<IssueContext, 'locate'>): ConfigIssue {
  const pos = ctx.locate(path)
  return pos ? { path: formatPath(path), message, line: pos.line, column: pos.column } : { path: formatPath(path), message }
}

function unknownKeyMessage(key: string, known: readonly string[]): string {
  if (known.length === 0) return 'unknown key'
  const guess = closest(key, known)
  return guess ? `unknown key (did you mean "${guess}"?)` : `unknown key (expected one of: ${known.join(', ')})`
}

/** The known key a typo most likely meant: same letters ignoring case, or a small edit distance. */
function closest(key: string, known: readonly string[]): string | undefined {
  let best: string | undefined
  let bestDistance = Math.max(1, Math.floor(key.length / 3)) + 1
  for (const k of known) {
    const d = k.toLowerCase() === key.toLowerCase() ? 0 : editDistance(key, k)
    if (d < bestDistance) {
      best = k
      bestDistance = d
    }
  }
  return best
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const cur = [i]
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1))
    }
    prev = cur
  }
  return prev[b.length]!
}

/**
 * A message about a value that came from the environment shows the reference as written
 * (`${env:MQTT_PASSWORD}`), never the value. Some messages quote their input (units.ts does).
 */
function redact(path: readonly PathSegment[], message: string, substituted: readonly SubstitutedValue[]): string {
  const key = formatPath(path)
  const hit = substituted.find((s) => formatPath(s.path) === key)
  if (!hit || hit.value === '') return message
  return message.split(hit.value).join(hit.template)
}

function valueAt(root: unknown, path: readonly PathSegment[]): unknown {
  let v = root
  for (const seg of path) v = (v as Record<PropertyKey, unknown> | null | undefined)?.[seg]
  return v
}
