/**
 * `${env:NAME}` references in config string values, resolved from the environment.
 *
 * Substitution runs on the parsed YAML tree, never on the file text: a secret containing `\n`,
 * `: ` or `#` stays one string value and cannot inject keys (or comments) into the config.
 * Values stay strings: `port: ${env:PORT}` is the string "1883", and the schema says so.
 *
 * Grammar: `${env:NAME}` (NAME = [A-Za-z_][A-Za-z0-9_]*) anywhere inside a string, any number of
 * times; `$${env:NAME}` is the literal text `${env:NAME}`. Any other `$` is left alone, so topic
 * templates such as `edge/{gatewayId}` and passwords containing `$` need no escaping.
 * A variable set to the empty string counts as set.
 */

/** A key or array index on the way from the document root to a value. */
export type PathSegment = string | number

/** A problem found while substituting, before it is formatted. */
export interface RawConfigIssue {
  path: PathSegment[]
  message: string
}

/** One string value that had at least one reference substituted. */
export interface SubstitutedValue {
  path: PathSegment[]
  /** The value as written in the file, e.g. `${env:MQTT_PASSWORD}`: safe to show. */
  template: string
  /** The value after substitution: may be a secret, never show it. */
  value: string
}

export interface SubstitutionResult {
  /** A copy of the input with references replaced (the input is not modified). */
  value: unknown
  /** Missing variables and malformed references; unresolved references are left as written. */
  issues: RawConfigIssue[]
  /** Every string that changed, so error messages about it can be redacted. */
  substituted: SubstitutedValue[]
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/
// `$${env:X}` (escape) or `${env:X}`; the optional leading `$` tells them apart.
const REFERENCE = /(\$?)\$\{env:([^}]*)\}/g
// `${env:` that never closes; checked on the text left after well-formed references are removed.
const UNTERMINATED = /\$\{env:[^}]*$/

/** Replaces `${env:NAME}` in every string value of `root` (not in keys). Never throws. */
export function substituteEnv(root: unknown, env: NodeJS.ProcessEnv): SubstitutionResult {
  const issues: RawConfigIssue[] = []
  const substituted: SubstitutedValue[] = []

  const visit = (value: unknown, path: PathSegment[]): unknown => {
    if (typeof value === 'string') {
      const out = substituteString(value, env, (message) => issues.push({ path, message }))
      if (out !== value) substituted.push({ path, template: value, value: out })
      return out
    }
    if (Array.isArray(value)) return value.map((item, i) => visit(item, [...path, i]))
    if (isPlainObject(value)) {
      // fromEntries defines own properties, so a `__proto__` key stays a key (and an unknown-key error).
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, visit(v, [...path, k])]))
    }
    return value
  }

  return { value: visit(root, []), issues, substituted }
}

function substituteString(text: string, env: NodeJS.ProcessEnv, report: (message: string) => void): string {
  if (!text.includes('${env:')) return text
  const out = text.replace(REFERENCE, (whole: string, escape: string, name: string) => {
    if (escape) return whole.slice(1)
    if (!NAME.test(name)) {
      report(`"\${env:${name}}" is not a valid reference (variable names are letters, digits and _)`)
      return whole
    }
    const v = env[name]
    if (v === undefined) {
      report(`environment variable ${name} is not set`)
      return whole
    }
    return v
  })
  if (UNTERMINATED.test(text.replace(REFERENCE, ''))) report('"${env:" without a closing "}"')
  return out
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && Object.getPrototypeOf(v) === Object.prototype
}
