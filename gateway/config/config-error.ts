/** The one error a config problem becomes, wherever it was found (file, YAML, schema, environment). */
import { GatewayError } from '../core/errors.js'

/** One problem in a config file. */
export interface ConfigIssue {
  /**
   * Where: dotted keys with array indices (`uplinks.0.url`, `sources.1.intervalMs`), or `(root)` for
   * the document itself (unreadable file, YAML syntax error, empty file).
   */
  path: string
  /** What is wrong, in words an operator can act on. Never contains a substituted secret. */
  message: string
  /** 1-based line in the file, when the problem can be placed (the key, or its nearest parent). */
  line?: number
  /** 1-based column on `line`. */
  column?: number
}

/** Path used for problems that belong to the whole document rather than one key. */
export const ROOT_PATH = '(root)'

/** `path: message (line L, column C)`: how every tool prints one issue. */
export function formatIssue(issue: ConfigIssue): string {
  const where = issue.line === undefined ? '' : ` (line ${issue.line}, column ${issue.column ?? 1})`
  return `${issue.path}: ${issue.message}${where}`
}

/**
 * A config that cannot be used. Carries EVERY problem found, so an operator fixes the file in one
 * round trip instead of one error per restart.
 *
 * No `cause` is attached for schema problems on purpose: the zod error would carry the raw
 * (post-substitution) values, i.e. secrets, into any log serializer that prints causes. An
 * unreadable file keeps its fs error as `cause`.
 */
export class ConfigError extends GatewayError {
  /** All problems, in schema order (YAML syntax problems first). Never empty. */
  readonly issues: ConfigIssue[]
  /** The file (or label) the config came from. */
  readonly fileName: string

  constructor(fileName: string, issues: ConfigIssue[], options?: { cause?: unknown }) {
    const n = issues.length
    const lines = issues.map((i) => `  ${formatIssue(i)}`).join('\n')
    super('GW_ERR_CONFIG', `${fileName}: invalid config (${n} problem${n === 1 ? '' : 's'})\n${lines}`, options)
    this.name = 'ConfigError'
    this.fileName = fileName
    this.issues = issues
  }
}
