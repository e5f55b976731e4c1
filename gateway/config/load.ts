/**
 * Reading a config: file → YAML → `${env:…}` substitution → schema. Every stage reports all of
 * its problems, and the first failing stage stops the pipeline (a schema check of a tree with
 * YAML errors would only add noise). Either a complete `GatewayConfig` or a `ConfigError`.
 */
import { readFileSync } from 'node:fs'
import { ConfigError, ROOT_PATH, type ConfigIssue } from './config-error.js'
import { substituteEnv } from './env-substitution.js'
import { createErrorMap, formatPath, place, toConfigIssues } from './format-issues.js'
import { gatewayConfigSchema, type GatewayConfig } from './schema.js'
import { parseYamlSource, type YamlSource } from './yaml-source.js'

/**
 * Reads and validates the config file at `path`.
 *
 * @param env Where `${env:NAME}` references are resolved. @default process.env
 * @throws ConfigError (code `GW_ERR_CONFIG`) listing every problem, including an unreadable file
 *   (`(root)`, with the fs error as `cause`). Nothing else is thrown; nothing is written.
 */
export function loadConfig(path: string, env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  return parseConfigText(readConfigText(path), env, path)
}

/** The text of the config file at `path`. @throws ConfigError (`(root)`, fs error as `cause`) when it cannot be read. */
function readConfigText(path: string): string {
  try {
    return readFileSync(path, 'utf8')
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code ?? (err as Error).message
    throw new ConfigError(path, [{ path: ROOT_PATH, message: `cannot read the config file (${reason})` }], { cause: err })
  }
}

/**
 * One top-level section of the config file at `path` as written: no `${env:…}` substitution, no
 * schema. For commands that need only that section, so that secrets of the others (in the
 * service's environment) need not be set where they run. `yaml` places the caller's own issues.
 * @throws ConfigError when the file cannot be read or is not valid YAML.
 */
export function readConfigSection(path: string, section: string): { raw: unknown; yaml: YamlSource } {
  const yaml = parseYamlSource(readConfigText(path))
  if (yaml.issues.length > 0) throw new ConfigError(path, yaml.issues)
  const raw = (yaml.data as Record<string, unknown> | null | undefined)?.[section]
  return { raw, yaml }
}

/**
 * Validates config text (YAML; JSON is valid YAML).
 *
 * @param fileName Used in the error message only. @default "(config)"
 * @throws ConfigError listing every problem found.
 */
export function parseConfigText(text: string, env: NodeJS.ProcessEnv = process.env, fileName = '(config)'): GatewayConfig {
  const yaml = parseYamlSource(text)
  if (yaml.issues.length > 0) throw new ConfigError(fileName, yaml.issues)
  if (yaml.data === null || yaml.data === undefined) {
    throw new ConfigError(fileName, [{ path: ROOT_PATH, message: 'the file is empty (expected at least the gateway and uplinks sections)' }])
  }

  const sub = substituteEnv(yaml.data, env)
  const envIssues: ConfigIssue[] = sub.issues.map((i) => place(i.path, i.message, yaml))
  const { errorMap, knownKeys } = createErrorMap()
  const result = gatewayConfigSchema.safeParse(sub.value, { error: errorMap })
  if (result.success && envIssues.length === 0) return result.data

  // A value whose reference did not resolve is still the raw `${env:X}` text; the schema's
  // complaint about that value ("not a URL") would only repeat the real problem. An unknown-key
  // issue is about the key, not the value, and stays.
  const unresolved = new Set(sub.issues.map((i) => formatPath(i.path)))
  const zodIssues = result.success ? [] : result.error.issues
  const relevant = zodIssues.filter((i) => i.code === 'unrecognized_keys' || !unresolved.has(formatPath(i.path)))
  const schemaIssues = toConfigIssues(relevant, { data: sub.value, knownKeys, substituted: sub.substituted, locate: yaml.locate })
  throw new ConfigError(fileName, [...envIssues, ...schemaIssues])
}
